"""The desk's words for domain codes: what a seller reads instead of a rule id or reason code."""

from __future__ import annotations

from collections.abc import Sequence

from shared import decision_wording
from shared.events import ClaimTerms

CLAIM_TYPE_WORDS = {
    "DAMAGED": "the item came back damaged",
    "WRONG_ITEM": "a different item came back",
    "MISSING_ITEM": "the item or some of its parts were missing",
    "USED_ITEM": "the item came back used",
    "NOT_RECEIVED": "the return never reached you",
}

# The acknowledgement's regret, by claim type: "it did not come back the way it should have"
# told a seller whose return never reached them (NOT_RECEIVED) that it had come back.
ACK_REGRET_NOT_RECEIVED = "We are sorry it has not reached you"
ACK_REGRET = "We are sorry it did not come back the way it should have"


def ack_regret(claim_type: str | None) -> str:
    """The acknowledgement's sorry-sentence (without its full stop) for the claim's type."""
    return ACK_REGRET_NOT_RECEIVED if claim_type == "NOT_RECEIVED" else ACK_REGRET


OUTCOME_HEADLINE = {
    "GRANTED": "approved in full",
    "PARTIAL": "partly approved",
    "DENIED": "not approved",
}

# Who bears the loss, said without blame: sellers read this, not auditors. The partner's sentence
# holds for every partner rule and a desk's decision alike: "the scan records show the loss
# happened in transit" was false where the partner answers for a quality check failed at pickup
# (L7) or for a delivery it cannot prove (L5).
PARTNER_RESPONSIBLE = (
    "Under our return-protection policy, the logistics partner that carried the return is "
    "responsible for this loss."
)
LIABILITY_SENTENCE = {
    "PARTNER": f"{PARTNER_RESPONSIBLE} We will recover it from them directly; you do not need to "
    "contact them.",
    "BUYER": "The records point to the condition in which the item was handed over for return. "
    "We pay you from the seller protection fund and take the matter up with the buyer ourselves.",
    "SELLER": "The delivery and scan records do not show a loss that another party is "
    "responsible for.",
    "MARKETPLACE": "The marketplace is covering this amount itself.",
}

# A partner owes at most its liability cap per shipment; above it the marketplace bears the rest.
LIABILITY_PARTNER_CAPPED = (
    f"{PARTNER_RESPONSIBLE} We will recover {{debit}} from them directly, the most they owe for "
    "one shipment, and the marketplace bears the remaining {rest}; you do not need to contact "
    "them."
)


# The same, when the decision's paragraph just above already gave the split in rupees: said
# once, not twice in two paragraphs of one email.
LIABILITY_PARTNER_CAPPED_STATED = (
    f"{PARTNER_RESPONSIBLE} We recover their share, up to the most they owe for one shipment, "
    "from them directly; you do not need to contact them."
)


def without_appeal_offer(explanation: str | None) -> str | None:
    """A decision's paragraph without its undated offer of an appeal: every seller email that
    quotes the paragraph says itself, dated, how to appeal and until when (or that no appeal is
    left), so the offer is said once, never "within 7 days" after the window has closed."""
    return None if explanation is None else decision_wording.without_appeal_offer(explanation)


def split_stated(explanation: str | None, debit: str, rest: str) -> bool:
    """Whether the decision's paragraph already names both parts of a capped partner's split
    (the SOP's and a desk decision's paragraphs do)."""
    return bool(explanation) and debit in str(explanation) and rest in str(explanation)


def liability_sentence(
    party: str | None, debit: str, rest: str, *, capped: bool, stated: bool = False
) -> str:
    """Who bears the payout, truthfully: a partner's share stops at its cap. The amounts of the
    split are left to the decision's paragraph when it states them (`stated`)."""
    if party == "PARTNER" and capped:
        if stated:
            return LIABILITY_PARTNER_CAPPED_STATED
        return LIABILITY_PARTNER_CAPPED.format(debit=debit, rest=rest)
    return LIABILITY_SENTENCE.get(party or "", "")


# Why a claim was closed without an assessment, and what the seller can do about it.
REJECTION_REASON = {
    "EVIDENCE_NOT_PROVIDED": "We did not receive the evidence we asked for before the reply-by "
    "time, so we could not assess the claim on its merits.",
    # No window lengths here: they are the case's policy, which the decision's paragraph below
    # these words states with the window's end (these words stay true under any policy).
    "CLAIM_WINDOW_EXPIRED": "The claim reached us after the claim window had closed: it counts "
    "from the return's delivery to you, or from pickup for a return that never arrived.",
    "PREMATURE_CLAIM": "A return can take several days after pickup to reach you, so it is too "
    "early to treat this one as lost.",
    "SELLER_MISMATCH": "The marketplace's record of this return, which reached us after your "
    "claim, does not list it among your returns, so we cannot pay a claim on it to your account. "
    "Please check the return id: if it was mistyped, file again with the right one.",
    "DUPLICATE_CLAIM": "We have already decided a claim for this return. If you disagree with "
    "that decision, please appeal it rather than filing a new claim.",
}

# A case the desk opened itself (P2) closes when the evidence it asked for does not come within
# the claim window: the seller filed nothing, so no claim "reached us late". Keyed like
# REJECTION_REASON by the code the composer picks (`rejection_code`).
PROACTIVE_WINDOW_PASSED = "PROACTIVE_WINDOW_PASSED"
REJECTION_REASON[PROACTIVE_WINDOW_PASSED] = (
    "We asked for evidence about this return and it did not reach us within the time to claim "
    "after its delivery to you, so we could not assess the case on its merits."
)


# A claim closed as late names the one window its type has (the detailed paragraph below gives
# the window's end to the minute); the generic words above, naming both, stay for a record
# without its claim type.
WINDOW_AFTER_DELIVERY = "CLAIM_WINDOW_EXPIRED_AFTER_DELIVERY"
WINDOW_AFTER_PICKUP = "CLAIM_WINDOW_EXPIRED_AFTER_PICKUP"
REJECTION_REASON[WINDOW_AFTER_DELIVERY] = (
    "The claim reached us after the claim window had closed: for an item that came back, the "
    "window counts from the return's delivery to you."
)
REJECTION_REASON[WINDOW_AFTER_PICKUP] = (
    "The claim reached us after the claim window had closed: for a return that never arrived, "
    "the window counts from its pickup."
)


def rejection_code(
    reason_code: str | None, *, seller_claimed: bool, claim_type: str | None = None
) -> str | None:
    """The code whose words explain a rejection to this seller."""
    if reason_code == "CLAIM_WINDOW_EXPIRED":
        if not seller_claimed:
            return PROACTIVE_WINDOW_PASSED
        if claim_type == "NOT_RECEIVED":
            return WINDOW_AFTER_PICKUP
        if claim_type:
            return WINDOW_AFTER_DELIVERY
    return reason_code


# Rejections of a seller's claim that the seller can avoid next time; each becomes a short
# lesson in the daily digest, one per closure reason. The numbers are the policy's that closed
# the claim (`CaseRejected.claim_terms`), never a version's written into words: an event from
# before they were recorded gets a lesson that states none.
EDUCATION_TITLES = {
    "EVIDENCE_NOT_PROVIDED": "Keep an unboxing video for every return",
    "CLAIM_WINDOW_EXPIRED": "Check returns on the day they arrive",
    "PREMATURE_CLAIM": "When to report a return as not received",
}


def education(code: str, terms: ClaimTerms | None) -> dict[str, str]:
    """A lesson's title and tip for the closure reason `code` (a key of `EDUCATION_TITLES`)."""
    if code == "EVIDENCE_NOT_PROVIDED":
        reply = (
            "send it by the time our request gives"
            if terms is None
            # In hours, as the SOP and the closing paragraph say the reply time ("72 hours").
            else f"you have {_hours(terms.evidence_reply_h)} to send it"
        )
        # What the closed claim's type needs, in the policy's words: "two photos and a label
        # photo also work" is untrue of a missing-item claim (a video and the weight).
        needs = (
            ""
            if terms is None or not terms.evidence_checklist
            else " A claim like the one we closed needs "
            f"{checklist_sentence(terms.evidence_checklist)}."
        )
        tip = (
            "Record one continuous video when you open each return, starting with the sealed "
            "parcel and its shipping label in view and ending with the item itself. With that "
            f"video, most claims are decided within minutes.{needs} When we ask for evidence, "
            f"{reply}."
        )
    elif code == "CLAIM_WINDOW_EXPIRED":
        within = (
            "as soon as you find a problem: the time to claim counts from the return's delivery "
            "to you (or from its pickup if it never arrives), and each decision email gives it"
            if terms is None
            else f"within {decision_wording.span_of_hours(terms.claim_window_h)} of delivery "
            f"(or within {_days(terms.not_received_latest_days)} of pickup if a return never "
            "arrives)"
        )
        tip = (
            "Open and check each return on the day it reaches you, and file any claim "
            f"{within}. Claims filed in time are assessed on their merits."
        )
    else:
        wait = (
            "some days after pickup to reach you. If it has not arrived by the time our email "
            "about the closed claim gave"
            if terms is None
            else f"up to {_days(terms.not_received_earliest_days)} after pickup to reach you. "
            "If it has not arrived by then"
        )
        tip = (
            f"A return can take {wait}, file a 'not received' claim and we will take it up with "
            "the logistics partner at once."
        )
    return {"title": EDUCATION_TITLES[code], "tip": tip}


def checklist_sentence(items: Sequence[str]) -> str:
    """A policy checklist as one phrase: an item ending ", or" is an alternative to the next,
    the others are all needed ("an unboxing video of the returned parcel and the weight of the
    parcel as you received it, in grams")."""
    out = ""
    joiner = ""
    for item in items:
        text = item.strip()
        alternative = text.endswith(", or")
        text = text.removesuffix(", or").strip()
        out += joiner + text[:1].lower() + text[1:]
        joiner = " or " if alternative else " and "
    return out


def _hours(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


CHECKLIST_WORDS = {
    "UNBOXING_VIDEO": "An unboxing video: one continuous clip from the sealed parcel, with its "
    "shipping label in view, to the item itself",
    "PHOTO": "Clear photos of the item that show the problem (at least two)",
    "PHOTOS": "Clear photos of the item that show the problem (at least two)",
    "LABEL_PHOTO": "A photo of the shipping label on the parcel you received",
    "INVOICE": "The invoice for the item",
    "RECEIVED_WEIGHT": "The weight of the parcel as you received it, in grams",
    "RECEIVED_WEIGHT_G": "The weight of the parcel as you received it, in grams",
}

ESCALATION_FOR_SELLER = {
    # The date the seller was given passed (the review's SLA, the case's policy): said by that
    # date, not by a number of hours the policy may not have.
    "SLA_BREACHED": "Your case has not been decided by the date we gave you, and we are sorry "
    "for the wait. A senior member of the desk now owns it and is working to close it.",
    "ABOVE_APPROVAL_CAP": "Because of the amount involved, a desk manager approves the payout "
    "before it is released. This is a routine check on larger payouts, not a sign of a problem "
    "with your case.",
}

# A settlement hold in seller terms: who checks what before the money moves (the hold's team).
SETTLEMENT_CHECK = {
    "finance": "our finance team confirms the payment (a routine check on every payout of this "
    "size, not a doubt about your claim)",
    "warehouse": "our returns warehouse confirms what came back in the returned parcel",
}
SETTLEMENT_CHECK_OTHER = "a team at the marketplace confirms it"
# `SettlementWait.kind` of a check the desk asked for on this one case. It is not the policy's
# routine check on every payout of a size, and must not be worded as one: it names the team's
# check in seller terms (the task's own words are the desk's to the team, not the seller's).
DESK_HOLD = "DESK"
DESK_CHECK = {
    "finance": "our finance team checks this payment on your case before it is released",
    "warehouse": "our returns warehouse checks the returned parcel",
    "logistics_partner_ops": "we confirm the return's journey with the logistics partner",
    "brand_management": "our brand team checks the item",
    "technology": "our technical team checks a record on your case",
    "management": "a desk manager reviews the payment",
}


def settlement_checks(
    holds: list[tuple[str, str | None]],
    *,
    checks: dict[str, str] = SETTLEMENT_CHECK,
    desk_checks: dict[str, str] = DESK_CHECK,
    other: str = SETTLEMENT_CHECK_OTHER,
    joiner: str = ", and ",
) -> str:
    """The checks a held payment waits for, each (team, hold kind) in seller terms and once, in
    the email's language (Hindi passes its own words)."""
    words = [
        (desk_checks if kind == DESK_HOLD else checks).get(team, other) for team, kind in holds
    ]
    return joiner.join(dict.fromkeys(words))


# Evidence that reached a case, by kind, as a seller counts it ("2 photos of the item").
RECEIVED_KIND = {
    "UNBOXING_VIDEO": ("unboxing video", "unboxing videos"),
    "PHOTO": ("photo of the item", "photos of the item"),
    "LABEL_PHOTO": ("photo of the shipping label", "photos of the shipping label"),
    "INVOICE": ("invoice", "invoices"),
    "OTHER": ("other file", "other files"),
}


def received_evidence(counts: dict[str, int], weight_g: int | None) -> list[str]:
    """What reached us so far, counted, in the checklist's order; the stated weight last."""
    items = [
        f"{counts[kind]} {words[0] if counts[kind] == 1 else words[1]}"
        for kind, words in RECEIVED_KIND.items()
        if counts.get(kind, 0) > 0
    ]
    if weight_g is not None:
        items.append(f"the parcel's weight as you received it ({weight_g} g)")
    return items


# The seller's stated weight in `EvidenceRequested.still_needed`.
NEEDED_WEIGHT = "RECEIVED_WEIGHT_G"
# One of a kind none of which reached us yet, as a seller asks for it ("an unboxing video").
NEEDED_ONE = {
    "UNBOXING_VIDEO": "an unboxing video",
    "PHOTO": "a photo of the item",
    "LABEL_PHOTO": "a photo of the shipping label",
    "INVOICE": "an invoice",
    "OTHER": "one other file",
}


def still_needed(shortfall: list[dict[str, int]], received: dict[str, int]) -> list[str]:
    """What each acceptable set of evidence still lacks, as checklist lines: "1 more photo of
    the item and a photo of the shipping label" (more of a kind some of which reached us), the
    alternatives but the last ending ", or" as the policy's checklist does."""
    lines = []
    for lacks in shortfall:
        parts = []
        for kind, words in RECEIVED_KIND.items():
            n = lacks.get(kind, 0)
            if n > 0 and received.get(kind, 0) > 0:
                parts.append(f"{n} more {words[0] if n == 1 else words[1]}")
            elif n == 1:
                parts.append(NEEDED_ONE.get(kind, f"1 {words[0]}"))
            elif n > 1:
                parts.append(f"{n} {words[1]}")
        if lacks.get(NEEDED_WEIGHT):
            parts.append("the weight of the parcel as you received it, in grams")
        if parts:
            line = " and ".join(parts)
            lines.append(line[:1].upper() + line[1:])
    return [f"{line}, or" for line in lines[:-1]] + lines[-1:]


def checklist_item(item: str) -> str:
    return CHECKLIST_WORDS.get(item.strip().upper(), item)


def claim_words(claim_type: str | None) -> str:
    return CLAIM_TYPE_WORDS.get(claim_type or "", "there was a problem with the return")


# What made the desk open a case itself (P1, P3), as the partner's record says it: the claim
# type's words ("the item came back damaged") were untrue of a parcel the partner declared
# damaged on the way, and P3 has no claim type at all ("there was a problem with the return").
PROACTIVE_TRIGGER_WORDS = {
    ("P1", "NOT_RECEIVED"): "the logistics partner declared the parcel lost in transit",
    ("P1", "DAMAGED"): "the logistics partner declared the parcel damaged in transit",
    ("P3", None): "the partner's quality check at pickup failed, yet the parcel was picked up "
    "anyway",
}


def trigger_key(trigger_rule: str | None, claim_type: str | None) -> tuple[str, str | None]:
    """The key of `PROACTIVE_TRIGGER_WORDS` (and its Hindi) for a case the desk opened."""
    return (trigger_rule or "", None if trigger_rule == "P3" else claim_type)


# Where a case stands, for a seller who asks again.
STATE_FOR_SELLER = {
    "OPEN": "open, and we are checking the facts",
    "AWAITING_EVIDENCE": "waiting for the evidence we asked you for",
    "UNDER_REVIEW": "being reviewed by the desk",
    "ESCALATED": "with a senior member of the desk",
    "DECIDED": "decided",
    "REJECTED": "closed without a payout",
    "APPEALED": "under appeal",
    "CLOSED": "closed",
}
DECIDED_STATES = frozenset({"DECIDED", "REJECTED", "CLOSED"})


# The records E1 waits for, as a seller knows them (`CaseUnderReview.facts_missing`).
MISSING_RECORD = {
    "RETURN": "the marketplace's record of this return",
    "DELIVERY_SCAN": "the logistics partner's scan of its delivery to you",
}


def _sentence_start(words: str) -> str:
    return words[:1].upper() + words[1:]


def _within(facts_wait_h: int | None) -> str:
    """How long E1 waited, from the case's policy (`CaseUnderReview.facts_wait_h`); an event
    from before it was recorded says it without a number rather than guess one."""
    if facts_wait_h is None:
        return "in the time we wait for it"
    # In hours, as the policy and the SOP state this wait ("after 48 h").
    return f"within {facts_wait_h} {'hour' if facts_wait_h == 1 else 'hours'}"


def review_reason(
    previous_state: str | None,
    reason_code: str | None = None,
    facts_missing: Sequence[str] = (),
    *,
    facts_wait_h: int | None = None,
) -> str:
    """Why the date moves, in the seller's terms (no rule ids; a fraud review is not named)."""
    if reason_code == "DECISION_OVERDUE":
        return (
            "We are sorry: we have not decided your case by the date we gave you. A desk "
            "manager has been alerted and is following it personally until it is decided."
        )
    if reason_code == "APPEAL_OVERDUE":
        return (
            "We are sorry: your appeal has not been decided by the date we gave you. A desk "
            "manager has been alerted and is following it personally until it is decided."
        )
    named = [MISSING_RECORD[f] for f in facts_missing if f in MISSING_RECORD]
    if reason_code == "MISSING_FACTS" and named:
        return (
            f"{_sentence_start(' and '.join(named))} {'have' if len(named) > 1 else 'has'} not "
            f"reached us {_within(facts_wait_h)}, and we need "
            f"{'them' if len(named) > 1 else 'it'} to "
            "decide your claim, so a member of the desk now takes the case over personally "
            "instead of waiting for it."
        )
    if reason_code == "MISSING_FACTS":
        return (
            "A record we need to decide your claim (the marketplace's record of this return, or "
            f"the logistics partner's delivery scan) has not reached us {_within(facts_wait_h)}, "
            "so a member of the desk now takes the case over personally instead of waiting for it."
        )
    if reason_code == "FRAUD_ASSESSMENT_MISSING":
        return (
            "Our routine checks on your claim did not finish in time, so a member of the desk "
            "now decides it personally rather than keep you waiting for them."
        )
    if reason_code == "FRAUD_REVIEW":
        # A closer look, and by when (the template gives the date); never why: naming a fraud
        # check would tell a seller how claims are scored and accuse an honest one.
        return (
            "Your claim needs a closer look by a member of the desk before we can decide it, "
            "which takes a little longer than our automatic checks."
        )
    if reason_code == "NO_RULE_MATCHED":
        return (
            "Your case does not fit any of our standard rules, so a member of the desk now "
            "decides it personally, which takes a little longer than our automatic checks."
        )
    if previous_state == "AWAITING_EVIDENCE":
        return (
            "The wait for evidence on this case is over, and a member of the desk now decides "
            "it personally, which takes a little longer than our automatic checks."
        )
    return (
        "Your case needs a member of the desk to decide it personally, which takes a little "
        "longer than our automatic checks."
    )
