"""The seller-facing words in Hindi (Devanagari), keyed like `wording.py` by the codes the
context carries, and the Hindi forms of dates, times and plurals. Amounts keep the Indian
grouping of `shared.money.rupees` (₹1,23,456.00). A decision the SOP took is explained in Hindi
(`decision_reason`); text a person wrote in English (a desk decision's reason) is quoted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications.messages import wording
from services.notifications.messages.wording import CHECKLIST_WORDS
from services.notifications.settings import INDIA
from shared import decision_wording
from shared.events import ClaimTerms, DecisionRecord
from shared.money import rupees

MONTHS = (
    "जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून",
    "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर",
)  # fmt: skip

CLAIM = {
    "DAMAGED": "सामान क्षतिग्रस्त होकर लौटा",
    "WRONG_ITEM": "कोई दूसरा सामान लौटा",
    "MISSING_ITEM": "सामान या उसके कुछ हिस्से गायब थे",
    "USED_ITEM": "सामान इस्तेमाल किया हुआ लौटा",
    "NOT_RECEIVED": "वापसी आप तक पहुँची ही नहीं",
}
# `wording.ack_regret` in Hindi. The one sentence for every claim type said "it did not come
# back in good condition", untrue of a return that never reached the seller, and narrower than
# the English for the others ("not the way it should have").
ACK_REGRET_NOT_RECEIVED = "हमें खेद है कि यह आप तक नहीं पहुँची"
ACK_REGRET = "हमें खेद है कि यह वैसी नहीं लौटी जैसी लौटनी चाहिए थी"


def ack_regret(claim_type: str | None) -> str:
    """The acknowledgement's sorry-sentence in Hindi, as `wording.ack_regret` says it."""
    return ACK_REGRET_NOT_RECEIVED if claim_type == "NOT_RECEIVED" else ACK_REGRET


STATE = {
    "OPEN": "खुला है, और हम तथ्यों की जाँच कर रहे हैं",
    "AWAITING_EVIDENCE": "उस सबूत की प्रतीक्षा में है जो हमने आपसे माँगा है",
    "UNDER_REVIEW": "डेस्क की समीक्षा में है",
    "ESCALATED": "डेस्क के एक वरिष्ठ सदस्य के पास है",
    "DECIDED": "तय हो चुका है",
    "REJECTED": "बिना भुगतान के बंद हो गया है",
    "APPEALED": "अपील में है",
    "CLOSED": "बंद हो चुका है",
}
OUTCOME = {"GRANTED": "पूरा स्वीकृत", "PARTIAL": "आंशिक रूप से स्वीकृत", "DENIED": "स्वीकृत नहीं"}
PARTNER_RESPONSIBLE = (
    "हमारी रिटर्न-सुरक्षा नीति के अनुसार, वापसी ले जाने वाला लॉजिस्टिक्स पार्टनर इस नुकसान के लिए ज़िम्मेदार है।"
)
LIABILITY = {
    "PARTNER": f"{PARTNER_RESPONSIBLE} हम यह राशि सीधे उनसे वसूल करेंगे; आपको उनसे संपर्क करने की "
    "ज़रूरत नहीं है।",
    "BUYER": "रिकॉर्ड बताते हैं कि सामान वापसी के लिए उसी हालत में सौंपा गया था। हम आपको विक्रेता "
    "सुरक्षा कोष से भुगतान करते हैं और खरीदार से बात हम स्वयं करेंगे।",
    "SELLER": "डिलीवरी और स्कैन रिकॉर्ड में ऐसा कोई नुकसान नहीं दिखता जिसके लिए कोई दूसरा पक्ष ज़िम्मेदार हो।",
    "MARKETPLACE": "यह राशि मार्केटप्लेस स्वयं वहन कर रहा है।",
}
# A partner owes at most its liability cap per shipment; above it the marketplace bears the rest.
LIABILITY_PARTNER_CAPPED = (
    f"{PARTNER_RESPONSIBLE} हम उनसे सीधे {{debit}} "
    "वसूल करेंगे, जो एक शिपमेंट के लिए उनकी अधिकतम देनदारी है, और बाकी {rest} मार्केटप्लेस स्वयं वहन "
    "करेगा; आपको उनसे संपर्क करने की ज़रूरत नहीं है।"
)


# `wording.LIABILITY_PARTNER_CAPPED_STATED` in Hindi: the paragraph above gave the split.
LIABILITY_PARTNER_CAPPED_STATED = (
    f"{PARTNER_RESPONSIBLE} उनका हिस्सा, एक शिपमेंट के लिए उनकी अधिकतम देनदारी तक, हम सीधे उनसे "
    "वसूल करेंगे; आपको उनसे संपर्क करने की ज़रूरत नहीं है।"
)


def liability(
    party: str | None, debit: str, rest: str, *, capped: bool = False, stated: bool = False
) -> str:
    """Who bears the payout, as `wording.liability_sentence` says it in English."""
    if party == "PARTNER" and capped:
        return (
            LIABILITY_PARTNER_CAPPED_STATED
            if stated
            else LIABILITY_PARTNER_CAPPED.format(debit=debit, rest=rest)
        )
    return LIABILITY.get(party or "", "")


# `wording.PROACTIVE_TRIGGER_WORDS` in Hindi, keyed alike.
PROACTIVE_TRIGGER = {
    ("P1", "NOT_RECEIVED"): "लॉजिस्टिक्स पार्टनर ने पार्सल को रास्ते में खोया हुआ घोषित किया",
    ("P1", "DAMAGED"): "लॉजिस्टिक्स पार्टनर ने पार्सल को रास्ते में क्षतिग्रस्त घोषित किया",
    ("P3", None): "पिकअप पर पार्टनर की क्वालिटी जाँच विफल रही, फिर भी पार्सल पिकअप कर लिया गया",
}

REJECTION = {
    "EVIDENCE_NOT_PROVIDED": "जवाब की समय-सीमा तक हमें माँगा गया सबूत नहीं मिला, इसलिए हम दावे का "
    "आकलन नहीं कर सके।",
    "CLAIM_WINDOW_EXPIRED": "दावा दावे की समय-सीमा बीतने के बाद पहुँचा: यह समय वापसी की डिलीवरी से "
    "गिना जाता है, या जो वापसी कभी नहीं पहुँची उसके लिए पिकअप से।",
    "PREMATURE_CLAIM": "पिकअप के बाद वापसी को पहुँचने में कई दिन लग सकते हैं, इसलिए इसे अभी खोया "
    "हुआ मानना जल्दी है।",
    "SELLER_MISMATCH": "इस वापसी का मार्केटप्लेस रिकॉर्ड, जो आपके दावे के बाद हमें मिला, इसे आपकी "
    "वापसियों में नहीं दिखाता, इसलिए हम इस पर दावे का भुगतान आपके खाते में नहीं कर सकते। कृपया वापसी "
    "आईडी जाँचें: अगर वह ग़लत लिखी गई थी, तो सही वापसी आईडी के साथ फिर से दावा दर्ज करें।",
    "PROACTIVE_WINDOW_PASSED": "हमने इस वापसी के बारे में सबूत माँगा था, और वह आपको डिलीवरी के बाद "
    "दावे के समय के भीतर हम तक नहीं पहुँचा, इसलिए हम मामले का आकलन नहीं कर सके।",
    "DUPLICATE_CLAIM": "इस वापसी पर हम एक दावा पहले ही तय कर चुके हैं। अगर आप उस फ़ैसले से असहमत "
    "हैं, तो नया दावा करने के बजाय अपील करें।",
    "CLAIM_WINDOW_EXPIRED_AFTER_DELIVERY": "दावा दावे की समय-सीमा बीतने के बाद पहुँचा: लौटे हुए सामान "
    "के लिए यह समय-सीमा वापसी की आपको डिलीवरी से गिनी जाती है।",
    "CLAIM_WINDOW_EXPIRED_AFTER_PICKUP": "दावा दावे की समय-सीमा बीतने के बाद पहुँचा: जो वापसी कभी नहीं "
    "पहुँची, उसके लिए यह समय-सीमा उसके पिकअप से गिनी जाती है।",
}
# `wording.education` in Hindi: the numbers are the policy's that closed the claim, or none.
EDUCATION_TITLES = {
    "EVIDENCE_NOT_PROVIDED": "हर वापसी का अनबॉक्सिंग वीडियो रखें",
    "CLAIM_WINDOW_EXPIRED": "वापसी उसी दिन जाँचें जिस दिन वह पहुँचे",
    "PREMATURE_CLAIM": "वापसी न मिलने की शिकायत कब करें",
}


def education(code: str, terms: ClaimTerms | None) -> dict[str, str]:
    """A lesson's Hindi title and tip (`wording.education`)."""
    if code == "EVIDENCE_NOT_PROVIDED":
        reply = (
            "तो हमारे अनुरोध में दिए गए समय तक भेजें।"
            if terms is None
            else f"तो आपके पास भेजने के लिए {terms.evidence_reply_h} "
            f"{'घंटा' if terms.evidence_reply_h == 1 else 'घंटे'} होते हैं।"
        )
        needs = (
            ""
            if terms is None or not terms.evidence_checklist
            else " जिस तरह का दावा हमने बंद किया, उसके लिए चाहिए: "
            f"{checklist_sentence(terms.evidence_checklist)}।"
        )
        tip = (
            "हर वापसी खोलते समय एक लगातार वीडियो बनाएँ: सील पार्सल और उसका शिपिंग लेबल दिखाते "
            "हुए शुरू करें और सामान पर खत्म करें। ऐसे वीडियो से ज़्यादातर दावे मिनटों में तय हो "
            f"जाते हैं।{needs} जब हम सबूत माँगें, {reply}"
        )
    elif code == "CLAIM_WINDOW_EXPIRED":
        within = (
            "समस्या दिखते ही करें: दावे का समय आपको वापसी की डिलीवरी से गिना जाता है (जो वापसी "
            "कभी न पहुँचे, उसके लिए पिकअप से), और हर फ़ैसले का ईमेल उसे बताता है।"
            if terms is None
            else f"डिलीवरी के {span_hi(terms.claim_window_h)} के भीतर करें (जो वापसी कभी न "
            f"पहुँचे, उसके लिए पिकअप के {terms.not_received_latest_days} दिन के भीतर)।"
        )
        tip = (
            f"हर वापसी उसी दिन खोलकर जाँचें और कोई भी दावा {within} समय पर दर्ज दावों का आकलन "
            "उनके गुण-दोष के आधार पर होता है।"
        )
    else:
        wait = (
            "पिकअप के बाद वापसी को पहुँचने में कुछ दिन लग सकते हैं। बंद किए गए दावे के ईमेल में दिए गए समय तक न पहुँचे"
            if terms is None
            else f"पिकअप के बाद वापसी को पहुँचने में {terms.not_received_earliest_days} दिन तक "
            "लग सकते हैं। तब तक न पहुँचे"
        )
        tip = f"{wait}, तो 'नहीं मिला' दावा दर्ज करें और हम तुरंत लॉजिस्टिक्स पार्टनर से बात करेंगे।"
    return {"title_hi": EDUCATION_TITLES[code], "tip_hi": tip}


ESCALATION = {
    "SLA_BREACHED": "हमने आपको जो तारीख दी थी, उस तक आपका मामला तय नहीं हुआ है, और इस देरी के "
    "लिए हमें खेद है। अब डेस्क का एक वरिष्ठ सदस्य इसे देख रहा है।",
    "ABOVE_APPROVAL_CAP": "राशि के कारण, भुगतान जारी होने से पहले डेस्क मैनेजर उसे स्वीकृत करते हैं। यह "
    "बड़े भुगतानों की सामान्य जाँच है, आपके मामले में किसी समस्या का संकेत नहीं।",
}
# `wording.SETTLEMENT_CHECK` in Hindi.
SETTLEMENT_CHECK = {
    "finance": "हमारी वित्त टीम भुगतान की पुष्टि करती है (इतनी राशि के हर भुगतान की सामान्य जाँच, "
    "आपके दावे पर संदेह नहीं)",
    "warehouse": "हमारा रिटर्न वेयरहाउस पुष्टि करता है कि लौटे पार्सल में क्या आया",
}
SETTLEMENT_CHECK_OTHER = "मार्केटप्लेस की एक टीम इसकी पुष्टि करती है"
# `wording.DESK_CHECK` in Hindi.
DESK_CHECK = {
    "finance": "हमारी वित्त टीम जारी करने से पहले आपके मामले के इस भुगतान की जाँच करती है",
    "warehouse": "हमारा रिटर्न वेयरहाउस लौटे पार्सल की जाँच करता है",
    "logistics_partner_ops": "हम लॉजिस्टिक्स पार्टनर के साथ वापसी के सफ़र की पुष्टि करते हैं",
    "brand_management": "हमारी ब्रांड टीम सामान की जाँच करती है",
    "technology": "हमारी तकनीकी टीम आपके मामले का एक रिकॉर्ड जाँचती है",
    "management": "एक डेस्क मैनेजर भुगतान की समीक्षा करते हैं",
}


def settlement_checks(holds: list[tuple[str, str | None]]) -> str:
    return wording.settlement_checks(
        holds,
        checks=SETTLEMENT_CHECK,
        desk_checks=DESK_CHECK,
        other=SETTLEMENT_CHECK_OTHER,
        joiner=", और ",
    )


# Checklist items reach us as evidence codes or as the policy's own sentences; each is translated
# whole, its counts and its "or" kept (E4: a video, or 2 photos and 1 label photo). Anything else
# is a desk member's own words, quoted as written: guessing from a keyword once turned "2 photos
# of the item and 1 of the label" into "a label photo", and a desk's "photo of the outer box"
# into a different request.
CHECKLIST = {
    "UNBOXING_VIDEO": "अनबॉक्सिंग वीडियो: सील पार्सल से, शिपिंग लेबल दिखाते हुए, सामान तक एक लगातार क्लिप",
    "PHOTO": "सामान की साफ़ फ़ोटो जिनमें समस्या दिखे (कम से कम दो)",
    "PHOTOS": "सामान की साफ़ फ़ोटो जिनमें समस्या दिखे (कम से कम दो)",
    "LABEL_PHOTO": "आपको मिले पार्सल पर लगे शिपिंग लेबल की फ़ोटो",
    "INVOICE": "सामान का बिल (इनवॉइस)",
    "RECEIVED_WEIGHT": "पार्सल मिलने के समय उसका वज़न, ग्राम में",
    "RECEIVED_WEIGHT_G": "पार्सल मिलने के समय उसका वज़न, ग्राम में",
    "AN UNBOXING VIDEO OF THE RETURNED PARCEL": "लौटे पार्सल का अनबॉक्सिंग वीडियो",
    "AT LEAST 2 PHOTOS OF THE ITEM AND 1 PHOTO OF THE SHIPPING LABEL": "सामान की कम से कम 2 "
    "फ़ोटो और शिपिंग लेबल की 1 फ़ोटो",
    "THE WEIGHT OF THE PARCEL AS YOU RECEIVED IT, IN GRAMS": "पार्सल मिलने के समय उसका वज़न, ग्राम में",
}


# `wording.MISSING_RECORD` in Hindi.
MISSING_RECORD = {
    "RETURN": "इस वापसी का मार्केटप्लेस रिकॉर्ड",
    "DELIVERY_SCAN": "लॉजिस्टिक्स पार्टनर का डिलीवरी स्कैन",
}


def span_hi(hours: int) -> str:
    """`decision_wording.span_of_hours` in Hindi: `7 दिन`, `36 घंटे`."""
    if hours % 24 == 0:
        return f"{hours // 24} दिन"
    return f"{hours} {'घंटा' if hours == 1 else 'घंटे'}"


def _within(facts_wait_h: int | None) -> str:
    if facts_wait_h is None:
        return "हमारे इंतज़ार के समय में"
    return f"{facts_wait_h} {'घंटा' if facts_wait_h == 1 else 'घंटे'} में"


def review_reason(
    previous_state: str | None,
    reason_code: str | None = None,
    facts_missing: Sequence[str] = (),
    facts_wait_h: int | None = None,
) -> str:
    """`wording.review_reason` in Hindi: the same reason, fact for fact (how long the case
    waited, which record is missing), so a Hindi reader learns what an English one does."""
    if reason_code == "DECISION_OVERDUE":
        return (
            "हमें खेद है: हमने आपको जो तारीख दी थी, उस तक हम आपका मामला तय नहीं कर पाए। डेस्क "
            "मैनेजर को सूचित कर दिया गया है, और मामला तय होने तक वे इसे स्वयं देख रहे हैं।"
        )
    if reason_code == "APPEAL_OVERDUE":
        return (
            "हमें खेद है: हमने आपको जो तारीख दी थी, उस तक आपकी अपील तय नहीं हो पाई। डेस्क "
            "मैनेजर को सूचित कर दिया गया है, और अपील तय होने तक वे इसे स्वयं देख रहे हैं।"
        )
    named = [MISSING_RECORD[f] for f in facts_missing if f in MISSING_RECORD]
    if reason_code == "MISSING_FACTS" and named:
        many = len(named) > 1
        return (
            f"आपके दावे को तय करने के लिए ज़रूरी {' और '.join(named)} {_within(facts_wait_h)} हम तक नहीं "
            f"{'पहुँचे' if many else 'पहुँचा'}, इसलिए {'उनका' if many else 'उसका'} इंतज़ार करने "
            "के बजाय अब डेस्क का एक सदस्य यह मामला स्वयं सँभालेगा।"
        )
    if reason_code == "MISSING_FACTS":
        return (
            "आपके दावे को तय करने के लिए ज़रूरी एक रिकॉर्ड (इस वापसी का मार्केटप्लेस रिकॉर्ड, या "
            f"लॉजिस्टिक्स पार्टनर का डिलीवरी स्कैन) {_within(facts_wait_h)} हम तक नहीं पहुँचा, "
            "इसलिए उसका इंतज़ार "
            "करने के बजाय अब डेस्क का एक सदस्य यह मामला स्वयं सँभालेगा।"
        )
    if reason_code == "FRAUD_ASSESSMENT_MISSING":
        return (
            "आपके दावे पर हमारी नियमित जाँच समय पर पूरी नहीं हुई, इसलिए आपको उनके लिए इंतज़ार कराने "
            "के बजाय अब डेस्क का एक सदस्य इसे स्वयं तय करेगा।"
        )
    if reason_code == "FRAUD_REVIEW":
        return (
            "फ़ैसले से पहले आपके दावे को डेस्क के एक सदस्य द्वारा ध्यान से देखा जाना ज़रूरी है, जिसमें "
            "हमारी स्वचालित जाँच से थोड़ा ज़्यादा समय लगता है।"
        )
    if reason_code == "NO_RULE_MATCHED":
        return (
            "आपका मामला हमारे किसी भी मानक नियम में नहीं आता, इसलिए अब डेस्क का एक सदस्य इसे स्वयं "
            "तय करेगा, जिसमें हमारी स्वचालित जाँच से थोड़ा ज़्यादा समय लगता है।"
        )
    if previous_state == "AWAITING_EVIDENCE":
        return (
            "सबूत का इंतज़ार पूरा हो गया है, और अब डेस्क का एक सदस्य स्वयं यह मामला तय करेगा, "
            "जिसमें हमारी स्वचालित जाँच से थोड़ा ज़्यादा समय लगता है।"
        )
    return "आपके मामले को डेस्क का एक सदस्य स्वयं तय करेगा, जिसमें हमारी स्वचालित जाँच से थोड़ा ज़्यादा समय लगता है।"


def claim(code: str | None) -> str:
    return CLAIM.get(code or "", "वापसी में कोई समस्या थी")


def state(code: str | None) -> str:
    return STATE.get(code or "", "पर काम चल रहा है")


# A desk member's checklist names evidence kinds (`UNBOXING_VIDEO`); the composer hands the
# templates their English description, which is what this filter then receives.
_FROM_ENGLISH = {words.upper(): CHECKLIST[kind] for kind, words in CHECKLIST_WORDS.items()}


# `wording.RECEIVED_KIND` in Hindi (one form: the count carries the number).
RECEIVED_KIND = {
    "UNBOXING_VIDEO": "अनबॉक्सिंग वीडियो",
    "PHOTO": "सामान की फ़ोटो",
    "LABEL_PHOTO": "शिपिंग लेबल की फ़ोटो",
    "INVOICE": "इनवॉइस",
    "OTHER": "अन्य फ़ाइल",
}


def received_evidence(counts: dict[str, int], weight_g: int | None) -> list[str]:
    """`wording.received_evidence` in Hindi."""
    items = [
        f"{counts[kind]} {words}"
        for kind, words in RECEIVED_KIND.items()
        if counts.get(kind, 0) > 0
    ]
    if weight_g is not None:
        items.append(f"आपको मिले पार्सल का वज़न ({weight_g} ग्राम)")
    return items


def still_needed(shortfall: list[dict[str, int]], received: dict[str, int]) -> list[str]:
    """`wording.still_needed` in Hindi: "1 और सामान की फ़ोटो तथा एक शिपिंग लेबल की फ़ोटो", the
    alternatives but the last ending ", या"."""
    lines = []
    for lacks in shortfall:
        parts = []
        for kind, words in RECEIVED_KIND.items():
            n = lacks.get(kind, 0)
            if n > 0 and received.get(kind, 0) > 0:
                parts.append(f"{n} और {words}")
            elif n == 1:
                parts.append(f"एक {words}")
            elif n > 1:
                parts.append(f"{n} {words}")
        if lacks.get("RECEIVED_WEIGHT_G"):
            parts.append("आपको मिले पार्सल का वज़न, ग्राम में")
        if parts:
            lines.append(" तथा ".join(parts))
    return [f"{line}, या" for line in lines[:-1]] + lines[-1:]


def checklist_sentence(items: Sequence[str]) -> str:
    """`wording.checklist_sentence` in Hindi: each item translated, alternatives joined by
    "या", the rest by "और"."""
    out = ""
    joiner = ""
    for item in items:
        alternative = item.strip().upper().endswith(", OR")
        words = checklist_item(item.strip().removesuffix(", or").removesuffix(", OR"))
        out += joiner + words
        joiner = " या " if alternative else " और "
    return out


def checklist_item(item: str) -> str:
    key = item.strip().upper()
    if key in _FROM_ENGLISH:
        return _FROM_ENGLISH[key]
    alternative = key.endswith(", OR")
    words = CHECKLIST.get(key.removesuffix(", OR").strip())
    if words is None:
        return item
    return f"{words}, या" if alternative else words


def time_hi(value: datetime, seconds: bool = False) -> str:
    """`28 नवंबर 2026, 3:05 अपराह्न IST` in India time; `seconds`: to the second, as the
    English paragraph gives two moments that share a minute."""
    local = value.astimezone(INDIA)
    half = "पूर्वाह्न" if local.hour < 12 else "अपराह्न"
    hour = local.hour % 12 or 12
    at = value.astimezone(UTC)
    local_s = f":{local.second:02d}" if seconds else ""
    utc_s = f":{at.second:02d}" if seconds else ""
    # The same moment in UTC beside India time, as in every English email.
    return (
        f"{date_hi(value)}, {hour}:{local.minute:02d}{local_s} {half} IST "
        f"({at.day} {at.strftime('%b %Y, %H:%M')}{utc_s} UTC)"
    )


def date_hi(value: datetime) -> str:
    local = value.astimezone(INDIA)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}"


def plural(count: int, one: str, many: str) -> str:
    """Hindi nouns change in the direct plural (मामला → मामले, सुझाव stays): `2 मामले`."""
    return f"{count} {one if count == 1 else many}"


# ---------------------------------------------------------------------------------------------
# The decision's paragraph in Hindi
# ---------------------------------------------------------------------------------------------
# Reconciliation records one English paragraph per decision (`policy/explain.py`). For a
# decision the SOP took, the Hindi email says the same in Hindi, built from the decision record:
# its rule, amounts and facts snapshot, and the policy's counts as the English paragraph states
# them (the policy is reconciliation's; notifications reads its numbers where they are said).
# A person's decision quotes the person's own words (None here).

_SHARE = re.compile(r"\((\d+) % of (?:the item value, )?(₹[\d,]+\.\d\d)")
# The claim window after delivery is the policy's hours, said in days when whole (`span_of_hours`
# in `policy/explain.py`): read with its unit, so the Hindi end is the English one to the minute.
_SPAN_AFTER_DELIVERY = re.compile(r"more than (\d+) (days?|hours?) after the parcel was delivered")
_EARLIEST_DAYS = re.compile(r"can only be filed (\d+) days after pickup")
_LATEST_DAYS = re.compile(r"within (\d+) days of pickup")
_WINDOW_SPAN = re.compile(r"within (\d+) (days?|hours?) of the parcel's delivery")
_NO_DELIVERY_DAYS = re.compile(r"no delivery record after more than (\d+) days")
_WEIGHTS = re.compile(
    r"weighed (\d+) g at pickup and (\d+) g on delivery, a drop of (\d+) g, which is more than "
    r"the allowed (\d+) g or (\d+) %"
)
_OBJECT = {
    "DAMAGED": "क्षतिग्रस्त सामान",
    "WRONG_ITEM": "दूसरा सामान लौटने",
    "MISSING_ITEM": "गायब सामान",
    "USED_ITEM": "इस्तेमाल किए हुए सामान",
    "NOT_RECEIVED": "वापसी न मिलने",
}


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _group(pattern: re.Pattern[str], text: str) -> tuple[str, ...] | None:
    found = pattern.search(text)
    return found.groups() if found else None


def _span(count: str, unit: str) -> tuple[timedelta, str]:
    """A window the English paragraph states (`7 days`, `36 hours`): its length and its Hindi."""
    if unit.startswith("hour"):
        return timedelta(hours=int(count)), f"{count} {'घंटा' if count == '1' else 'घंटे'}"
    return timedelta(days=int(count)), f"{count} दिन"


def _why(rule_id: str, facts: dict[str, Any], english: str) -> str | None:
    claim_of = _OBJECT.get(str(facts.get("claim_type") or ""), "इस")
    pickup, delivered, filed = (
        _when(facts.get(k)) for k in ("pickup_at", "delivered_at", "filed_at")
    )
    if rule_id == "E2b":
        return "इस वापसी पर पहले से एक तय मामला है, और उसी वापसी पर दूसरा दावा नहीं खोला जा सकता"
    if rule_id == "E3" and filed and delivered and (g := _group(_SPAN_AFTER_DELIVERY, english)):
        window, span = _span(*g)
        close = decision_wording.same_minute(filed, delivered + window)
        return (
            f"{claim_of} का दावा {time_hi(filed, close)} को दर्ज हुआ, यानी {date_hi(delivered)} को "
            f"आपको पार्सल की डिलीवरी के {span} से ज़्यादा बाद: दावे का समय "
            f"{time_hi(delivered + window, close)} को ख़त्म हो गया था"
        )
    if rule_id == "E3b" and pickup and (g := _group(_EARLIEST_DAYS, english)):
        earliest = decision_wording.from_whole_minute(pickup + timedelta(days=int(g[0])))
        return (
            f"पार्सल {date_hi(pickup)} को पिकअप हुआ था, और वापसी न मिलने का दावा पिकअप के {g[0]} "
            f"दिन बाद, {time_hi(earliest)} से ही दर्ज किया जा सकता है — अगर तब तक पार्सल न "
            "पहुँचे, तो कृपया उस समय से फिर से दर्ज करें"
        )
    if rule_id == "E3c" and pickup and (g := _group(_LATEST_DAYS, english)):
        latest = pickup + timedelta(days=int(g[0]))
        close = filed is not None and decision_wording.same_minute(filed, latest)
        filed_words = f", और यह दावा {time_hi(filed, close)} को दर्ज हुआ" if filed else ""
        return (
            f"वापसी न मिलने का दावा पिकअप ({date_hi(pickup)}) के {g[0]} दिन के भीतर, यानी "
            f"{time_hi(latest, close)} तक, दर्ज करना होता है{filed_words}"
        )
    if rule_id == "E4":
        return "इस प्रकार के दावे के लिए ज़रूरी सबूत जवाब की समय-सीमा तक हमें नहीं मिला"
    if rule_id == "P2" and delivered and (g := _group(_WINDOW_SPAN, english)):
        window, span = _span(*g)
        return (
            f"हमने जो सबूत माँगा था, वह पार्सल की डिलीवरी के {span} के भीतर, यानी "
            f"{time_hi(delivered + window)} तक, हमें नहीं मिला"
        )
    if rule_id == "L3" and pickup and (g := _group(_NO_DELIVERY_DAYS, english)):
        return (
            f"पार्सल {date_hi(pickup)} को पिकअप हुआ था और {g[0]} दिन से ज़्यादा बीतने पर भी उसकी "
            "डिलीवरी का कोई रिकॉर्ड नहीं है"
        )
    if rule_id == "L4" and delivered:
        return (
            f"पार्टनर के रिकॉर्ड के अनुसार पार्सल {date_hi(delivered)} को आपको डिलीवर हुआ, और "
            "डिलीवरी की पुष्टि आपको भेजे गए वन-टाइम पासवर्ड (OTP) से हुई"
        )
    if rule_id == "L5" and delivered:
        return (
            f"पार्टनर ने पार्सल को {date_hi(delivered)} को डिलीवर दिखाया, पर OTP से सत्यापित "
            "डिलीवरी प्रमाण के बिना"
        )
    if rule_id == "L6" and (g := _group(_WEIGHTS, english)):
        return (
            f"पिकअप पर पार्सल का वज़न {g[0]} g था और डिलीवरी पर {g[1]} g, यानी {g[2]} g की कमी, "
            f"जो अनुमत {g[3]} g या {g[4]} % से ज़्यादा है"
        )
    fixed = {
        "L1": "लॉजिस्टिक्स पार्टनर ने पार्सल को रास्ते में खोया हुआ घोषित किया",
        "L2": "लॉजिस्टिक्स पार्टनर ने पार्सल को रास्ते में क्षतिग्रस्त घोषित किया",
        "L7": "पिकअप पर पार्टनर की क्वालिटी जाँच विफल रही, फिर भी पार्सल पिकअप कर लिया गया",
        "L8": f"पिकअप पर पार्टनर की क्वालिटी जाँच पास हुई थी, इसलिए {claim_of} का दावा उसी "
        "समय की ओर इशारा करता है जब पार्सल पार्टनर के पास था",
        "L9": "पिकअप पर पार्टनर की क्वालिटी जाँच पास हुई थी, इसलिए नुकसान पार्टनर के पास रहते हुए हुआ",
        "L10": "पिकअप पर ऐसी कोई क्वालिटी जाँच नहीं हुई थी जो दिखाए कि खरीदार ने सामान सही हालत "
        "में सौंपा था, इसलिए हम आपको विक्रेता सुरक्षा कोष से भुगतान करते हैं",
        "L11": "पिकअप पर कोई क्वालिटी जाँच नहीं हुई थी, इसलिए नुकसान की ज़िम्मेदारी आपके और खरीदार "
        "के बीच बँटी हुई है",
    }
    return fixed.get(rule_id)


def _bears(decision: DecisionRecord) -> str:
    party = decision.liable_party.value if decision.liable_party else None
    if party == "PARTNER" and decision.marketplace_cost > 0 and decision.payout > 0:
        rest = rupees(decision.marketplace_cost)
        if decision.partner_debit == 0:
            return f"पूरी लागत, {rest}, मार्केटप्लेस वहन करता है"
        return (
            f"इसमें से {rupees(decision.partner_debit)} वापसी ले जाने वाले लॉजिस्टिक्स पार्टनर से "
            f"वसूले जाते हैं (एक शिपमेंट के लिए उसकी अधिकतम देनदारी) और बाकी {rest} मार्केटप्लेस "
            "वहन करता है"
        )
    return {
        "PARTNER": "यह लागत वापसी ले जाने वाले लॉजिस्टिक्स पार्टनर से वसूली जाती है",
        "BUYER": "यह लागत सामान लौटाने वाले खरीदार से वसूली जाती है",
        "MARKETPLACE": "यह लागत मार्केटप्लेस स्वयं वहन करता है",
    }.get(party or "", "")


_DIGITS = re.compile(r"\d+")


def decision_reason(
    decision: DecisionRecord | None, *, return_id: str, seller_claimed: bool
) -> str | None:
    """The decision's paragraph in Hindi, or None when its English does not state what the
    Hindi needs, or the Hindi would leave out a number the English states (the English is then
    quoted: a fact dropped in translation is worse than a paragraph in English). A person's
    decision and an appeal's outcome are framed in Hindi around the person's own words, which
    are quoted as written."""
    if decision is None:
        return None
    # Without the paragraph's undated appeal offer: the email's own paragraph dates it.
    english = wording.without_appeal_offer(decision.explanation) or ""
    body = _body(decision, english, seller_claimed=seller_claimed)
    if body is None:
        return None
    hindi = f"वापसी {return_id} के बारे में: {body}"
    if not set(_DIGITS.findall(english)) <= set(_DIGITS.findall(hindi)):
        return None
    return hindi


# The shapes of `policy/explain.py`'s paragraphs of a person's decision: `explain_manual` quotes
# the person's reason before "In short", `dismissed_appeal` the manager's before the original
# decision's own paragraph. Each as written now (the reason a quoted sentence of its own) and as
# records written before that read (the reason joined after a colon).
_DESK_WORDS = re.compile(
    r"our desk decided(?:, in its own words: “(.*?)” |: (.*?)\. )In short, ", re.S
)
_DISMISSED = re.compile(
    r"the earlier decision stands(?:\. The manager's reason, in their own words: “(.*?)” "
    r"|: (.*?)\. )(\S.*)$",
    re.S,
)


def _quoted(pattern: re.Pattern[str], text: str) -> tuple[str, ...] | None:
    """A person's words (either shape's group) and whatever the pattern reads after them."""
    found = pattern.search(text)
    if found is None:
        return None
    new, old, *rest = found.groups()
    # The quoted words keep the person's own ? or !; a closing full stop gives way to the "।".
    return (new.removesuffix(".") if new is not None else old, *rest)


def _body(decision: DecisionRecord, english: str, *, seller_claimed: bool) -> str | None:
    """What follows the return's name: whose words decided it picks the shape, not who signed
    the record (a manager approving the SOP's proposal signs the SOP's paragraph)."""
    if decision.reason_code == "APPEAL_UPHELD_ORIGINAL":
        return _dismissed_body(decision, english, seller_claimed=seller_claimed)
    words = _quoted(_DESK_WORDS, english)
    if words is not None:
        return _desk_body(decision, english, words[0], seller_claimed=seller_claimed)
    return _sop_body(decision, english, seller_claimed=seller_claimed)


def _dismissed_body(decision: DecisionRecord, english: str, *, seller_claimed: bool) -> str | None:
    found = _quoted(_DISMISSED, english)
    if found is None:
        return None
    words, original = found
    # The original decision's own reasons, as its Hindi email gave them (no appeal offered).
    earlier = _body(
        decision.model_copy(update={"reason_code": None}), original, seller_claimed=seller_claimed
    )
    if earlier is None:
        return None
    return (
        "हमने आपकी अपील फिर से देखी, और पहले का फ़ैसला बना रहता है। मैनेजर के अपने शब्दों में: "
        f"“{words}”। {earlier}"
    )


def _desk_body(
    decision: DecisionRecord, english: str, words: str, *, seller_claimed: bool
) -> str | None:
    subject = "आपके दावे" if seller_claimed else "इस वापसी के लिए हमारे स्वयं खोले गए मामले"
    if decision.payout == 0:
        money = f"इस {'दावे' if seller_claimed else 'मामले'} पर कोई भुगतान देय नहीं है"
    else:
        share = _group(_SHARE, english)
        if share is None:
            return None
        bears = _bears(decision) or "यह लागत मार्केटप्लेस स्वयं वहन करता है"
        money = f"हम आपको {rupees(decision.payout)} दे रहे हैं ({share[1]} का {share[0]} %), और {bears}"
    no_action = "" if seller_claimed else " आपको कुछ करने की ज़रूरत नहीं है।"
    return (
        f"{subject} की समीक्षा के बाद हमारी डेस्क ने फ़ैसला किया, उनके अपने शब्दों में: "
        f"“{words}”। संक्षेप में, {money}।{no_action}"
    )


def _sop_body(decision: DecisionRecord, english: str, *, seller_claimed: bool) -> str | None:
    why = _why(decision.rule_id, decision.facts, english)
    if why is None:
        return None
    if decision.payout > 0:
        share = _group(_SHARE, english)
        if share is None:
            return None
        cap = ""
        if "a manager will confirm it before it is paid" in english:
            cap = " राशि हमारी स्वीकृति सीमा से ऊपर है, इसलिए भुगतान से पहले एक मैनेजर इसकी पुष्टि करेगा।"
        elif "a manager has confirmed it" in english:
            cap = " राशि हमारी स्वीकृति सीमा से ऊपर है, इसलिए एक मैनेजर ने इसकी पुष्टि कर दी है।"
        if not seller_claimed:
            return (
                f"हमने आपके दावे का इंतज़ार किए बिना यह मामला स्वयं खोला, क्योंकि {why}। "
                f"हम आपको {rupees(decision.payout)} दे रहे हैं (सामान के मूल्य {share[1]} का "
                f"{share[0]} %), और {_bears(decision)}। आपको कुछ करने की ज़रूरत नहीं है।"
                f"{cap}"
            )
        return (
            f"हम आपको {rupees(decision.payout)} दे रहे हैं ({share[1]} का {share[0]} %, "
            f"आपकी दावा राशि और सामान के मूल्य में से जो कम हो), क्योंकि {why}। "
            f"{_bears(decision)}; आपको और कुछ करने की ज़रूरत नहीं है।{cap}"
        )
    if decision.liable_party is not None:
        return f"हम यह दावा स्वीकार नहीं कर सके, क्योंकि {why}।"
    if not seller_claimed:
        return f"हमने इस वापसी के लिए जो मामला खोला था, उसे बिना भुगतान के बंद किया, क्योंकि {why}।"
    return f"हम यह दावा स्वीकार नहीं कर सके, क्योंकि {why}।"
