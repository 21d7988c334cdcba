"""No English sentence in a Hindi seller email: every seller template composed from a case event,
and every shape of decision paragraph (the SOP's, a desk member's, an appeal overturned or
dismissed, an approval above the cap), rendered in Hindi. Allowed through: a person's own words
(quoted as written), ids, amounts, UTC stamps, addresses and the names of the portal and the
partners."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from services.notifications.catalogue.registry import sample_context
from services.notifications.messages.composing import SELLER, compose_case_event
from services.notifications.messages.rendering import render
from services.reconciliation.policy.explain import (
    as_approved,
    dismissed_appeal,
    explain_manual,
)
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import CaseEventBase, CaseOrigin, CaseState, DecisionRecord, LiableParty
from tests.support.sop_records import SCENARIOS, sop_record
from tests.unit.test_notifications_hindi_parity import AMOUNT, AT, SETTINGS, TO, _events

RETURN_ID = "RET-C-HI"
DESK_WORDS = "The label photo shows the partner's tape on the box"
ALLOWED = (
    re.compile(r"“[^”]*”"),  # a person's own words, quoted
    re.compile(r"https?://\S+"),
    re.compile(r"\S+@\S+"),
    re.compile(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC"),
    re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b"),
    AMOUNT,
)
# Three English words in a row is a phrase, not a name (OTP, UTC, IST, the partner's name and
# the desk's signature are single words or allowed above).
ENGLISH_PHRASE = re.compile(r"[A-Za-z']+[ ,]+[A-Za-z']+[ ,]+[A-Za-z']+")


def _english_left(hindi: str, *, signature: str) -> list[str]:
    text = hindi.replace(signature, " ")
    for pattern in ALLOWED:
        text = pattern.sub(" ", text)
    return ENGLISH_PHRASE.findall(text)


def _seller_mails(event: CaseEventBase) -> list[tuple[str, str, str]]:
    """(template, English text, Hindi subject and text) of each seller email of the event."""
    out = []
    for draft in compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts:
        if draft.audience != SELLER:
            continue
        english = render(draft.template, draft.context)
        hindi = render(draft.template, draft.context, language="hi")
        out.append((draft.template, english.text, f"{hindi.subject}\n{hindi.text}"))
    return out


def _desk_record(
    *, payout_pct: int, party: LiableParty | None, seller_claimed: bool, appealable: bool
) -> DecisionRecord:
    base = 150_000
    payout = base * payout_pct // 100
    debit = min(payout, 50_000) if party is LiableParty.PARTNER else 0
    return DecisionRecord(
        policy_version="sop-v1",
        rule_id="MANUAL",
        liable_party=party,
        payout_pct=payout_pct,
        payout=payout,
        partner_debit=debit,
        marketplace_cost=payout - debit if party is not LiableParty.BUYER else 0,
        buyer_receivable=payout if party is LiableParty.BUYER else 0,
        explanation=explain_manual(
            return_id=RETURN_ID,
            reason=DESK_WORDS,
            payout=payout,
            base=base,
            payout_pct=payout_pct,
            liable_party=party,
            partner_debit=debit,
            p=SOP_V1,
            seller_claimed=seller_claimed,
            appealable=appealable,
        ),
        decided_by="ops.meera",
        decided_at=AT,
    )


def _dismissed(original: DecisionRecord) -> DecisionRecord:
    return original.model_copy(
        update={
            "decided_by": "ops.manager",
            "reason_code": "APPEAL_UPHELD_ORIGINAL",
            "explanation": dismissed_appeal(
                original.explanation, return_id=RETURN_ID, reason="Nothing new was shown."
            ),
        }
    )


def _decided(record: DecisionRecord, *, appeal: bool = False, proactive: bool = False) -> object:
    from services.notifications.catalogue import samples

    build = samples.case_decided if record.payout > 0 else samples.case_rejected
    update: dict[str, object] = {
        "decision": record,
        "return_id": RETURN_ID,
        "appeal_by": None if appeal else AT + timedelta(days=7),
    }
    if appeal:
        update["previous_state"] = CaseState.APPEALED
    if proactive:
        update.update(origin=CaseOrigin.PROACTIVE, claimed_amount=None)
    return build("C-HI", AT).model_copy(update=update)


def _paragraphs() -> list[tuple[str, object]]:
    shapes: list[tuple[str, object]] = []
    for rule in sorted(SCENARIOS):
        shapes.append((f"sop-{rule}", _decided(sop_record(rule))))
        shapes.append((f"dismissed-{rule}", _decided(_dismissed(sop_record(rule)), appeal=True)))
    for rule in ("L1", "L2", "L7"):
        shapes.append(
            (f"proactive-{rule}", _decided(sop_record(rule, proactive=True), proactive=True))
        )
    approved = sop_record("L2")
    approved = approved.model_copy(
        update={"explanation": as_approved(approved.explanation), "decided_by": "ops.manager"}
    )
    shapes.append(("approved-above-cap", _decided(approved)))
    for pct, party in ((0, None), (50, LiableParty.BUYER), (100, LiableParty.PARTNER)):
        for claimed in (True, False):
            desk = _desk_record(
                payout_pct=pct, party=party, seller_claimed=claimed, appealable=True
            )
            shapes.append((f"desk-{pct}-{claimed}", _decided(desk, proactive=not claimed)))
            overturn = _desk_record(
                payout_pct=pct, party=party, seller_claimed=claimed, appealable=False
            )
            shapes.append(
                (
                    f"overturn-{pct}-{claimed}",
                    _decided(overturn, appeal=True, proactive=not claimed),
                )
            )
            shapes.append(
                (f"dismissed-desk-{pct}-{claimed}", _decided(_dismissed(desk), appeal=True))
            )
    return shapes


@pytest.mark.parametrize(
    ("name", "event"), _paragraphs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_decision_paragraph_is_in_hindi_with_the_same_amounts(
    name: str, event: object
) -> None:
    mails = _seller_mails(event)  # type: ignore[arg-type]
    assert any(t in ("decision", "appeal_outcome") for t, _, _ in mails), name
    for template, english, hindi in mails:
        assert _english_left(hindi, signature=SETTINGS.desk_signature) == [], (template, hindi)
        assert sorted(set(AMOUNT.findall(hindi))) >= sorted(set(AMOUNT.findall(english)))
        if "desk" in name or "overturn" in name:
            assert f"“{DESK_WORDS}”" in hindi  # the person's words, as written


@pytest.mark.parametrize(
    ("name", "event"), list(_events()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_no_seller_template_leaves_an_english_phrase_in_hindi(
    name: str, event: CaseEventBase
) -> None:
    """The templates and the Hindi wording around the catalogue's sample events; the samples'
    decision paragraphs are free text standing for a person's words and are set aside."""
    quoted = event.decision.explanation if event.decision else ""
    for template, _, hindi in _seller_mails(event):
        left = _english_left(
            hindi.replace(quoted, " ") if quoted else hindi, signature=SETTINGS.desk_signature
        )
        assert left == [], (name, template, hindi)


TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "notifications" / "templates"
HINDI_TEMPLATES = sorted(p.name.removesuffix(".hi.txt.j2") for p in TEMPLATES.glob("*.hi.txt.j2"))


@pytest.mark.parametrize("template", [t for t in HINDI_TEMPLATES if not t.startswith("_")])
def test_every_hindi_template_in_the_catalogue_is_hindi(template: str) -> None:
    """Also the emails no case event sends (the daily lessons, the feedback outreach): the
    catalogue's sample of each, with its free text (a paragraph, the seller's own feedback) set
    aside."""
    context = sample_context(template, SETTINGS)
    hindi = render(template, context, language="hi")
    text = f"{hindi.subject}\n{hindi.text}"
    for free in (context.get("explanation"), context.get("feedback_text"), context.get("comment")):
        if isinstance(free, str) and free:
            text = text.replace(free, " ")
    assert _english_left(text, signature=SETTINGS.desk_signature) == [], text


@pytest.mark.parametrize(
    ("reason", "quoted"),
    [
        # Typed with curly quotes (a phone does): the Hindi must not close the quote early.
        (
            "The seller wrote “broken” but the video shows it intact",
            "“The seller wrote ‘broken’ but the video shows it intact”",
        ),
        ("is the label yours?", "“is the label yours?”"),  # the person's own case and mark
    ],
)
def test_a_dismissal_reason_reaches_the_hindi_email_whole(reason: str, quoted: str) -> None:
    original = sop_record("L11")
    dismissed = original.model_copy(
        update={
            "decided_by": "ops.manager",
            "reason_code": "APPEAL_UPHELD_ORIGINAL",
            "explanation": dismissed_appeal(
                original.explanation, return_id=RETURN_ID, reason=reason
            ),
        }
    )
    [(_, _, hindi)] = [
        m for m in _seller_mails(_decided(dismissed, appeal=True)) if m[0] == "appeal_outcome"
    ]
    assert quoted in hindi, hindi
    assert _english_left(hindi, signature=SETTINGS.desk_signature) == [], hindi
