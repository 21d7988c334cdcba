"""Which seller messages the case events of issue 17 call for: proactive openings, merged and
duplicate filings, and messages for a seller nobody can write to yet (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.catalogue import samples
from services.notifications.catalogue.registry import TEMPLATES, preview
from services.notifications.messages import wording, wording_hi
from services.notifications.messages.composing import (
    NO_ADDRESS,
    compose_appeal_without_case,
    compose_case_event,
    digest_context,
)
from services.notifications.messages.rendering import india_time, render, utc_time
from services.notifications.settings import NotificationsSettings
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import (
    CaseOrigin,
    CaseState,
    CaseUpdated,
    ClaimTerms,
    ClaimType,
    SettlementWait,
)
from shared.money import rupees as inr
from tests.support.sop_records import sop_record

SETTINGS = NotificationsSettings(management_recipients=["a@desk.dev"])
AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
TO = "seller@example.com"


def _templates(event: object, address: str | None = TO) -> list[str]:
    out = compose_case_event(event, SETTINGS, now=AT, seller_address=address)  # type: ignore[arg-type]
    return [d.template for d in out.drafts]


def test_a_proactive_opening_says_no_action_unless_the_rule_asks_for_evidence() -> None:
    for rule in ("P1", "P3", None):
        opened = samples.case_opened("C-1", AT, origin=CaseOrigin.PROACTIVE).model_copy(
            update={"trigger_rule": rule}
        )
        assert _templates(opened) == ["acknowledgement"], rule
    p2 = samples.case_opened("C-1", AT, origin=CaseOrigin.PROACTIVE).model_copy(
        update={"trigger_rule": "P2"}
    )
    assert _templates(p2) == []  # the evidence request that follows is its first email
    request = samples.evidence_requested("C-1", AT, origin=CaseOrigin.PROACTIVE)
    draft, _reminder = compose_case_event(request, SETTINGS, now=AT, seller_address=TO).drafts
    assert draft.context["first_word"] is True


def test_merged_and_duplicate_filings_are_answered_and_other_updates_are_not() -> None:
    assert _templates(samples.escalation_merged("C-1", AT)) == ["merge_acknowledgement"]
    assert _templates(samples.duplicate_filing("C-1", AT)) == ["duplicate_filing"]
    assigned = samples.escalation_merged("C-1", AT).model_copy(update={"change": "ASSIGNED"})
    assert _templates(assigned) == []


def test_an_unknown_seller_gets_its_messages_composed_without_a_recipient() -> None:
    drafts = compose_case_event(
        samples.case_decided("C-1", AT), SETTINGS, now=AT, seller_address=NO_ADDRESS
    ).drafts
    assert [(d.template, d.recipient) for d in drafts] == [("decision", "")]
    # No address and none owed (None): nothing for the seller, as before.
    assert _templates(samples.case_decided("C-1", AT), None) == []
    # Lessons need a real address: the digest is not owed.
    rejected = samples.case_rejected("C-1", AT)
    assert compose_case_event(rejected, SETTINGS, now=AT, seller_address=NO_ADDRESS).lessons == []


def test_the_duplicate_filing_email_names_the_first_case_and_its_next_date() -> None:
    assert {"merge_acknowledgement", "duplicate_filing"} <= set(TEMPLATES)
    rendered = preview("duplicate_filing", SETTINGS)
    assert "CASE-SAMPLE-1" in rendered.subject
    assert "it is closed" in rendered.text
    event = samples.duplicate_filing("CASE-SAMPLE-1", samples.SAMPLE_TIME)
    assert event.appeal_by is not None and india_time(event.appeal_by) in rendered.text
    assert "E2b" not in rendered.text
    merged = preview("merge_acknowledgement", SETTINGS)
    assert "you do not need to file again" in merged.text and "CASE-SAMPLE-1" in merged.html


def test_an_appeal_with_nothing_to_hear_is_answered_with_where_the_case_stands() -> None:
    """Intake accepts every appeal; one the case does not hear is answered by email: before
    any decision (the next date, and that the appeal is not used up), while the first appeal
    is open (its result date), after the appeal was decided (final)."""
    unheard = samples.appeal_not_heard("C-1", AT)
    due = AT + timedelta(hours=48)
    variants = {
        "before": unheard,
        "open": unheard.model_copy(
            update={"change": "APPEAL_REPEATED", "state": CaseState.APPEALED, "next_step_by": due}
        ),
        "final": unheard.model_copy(
            update={"change": "APPEAL_REPEATED", "state": CaseState.CLOSED, "next_step_by": None}
        ),
    }
    mails = {}
    for name, event in variants.items():
        [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        assert draft.template == "appeal_not_heard"
        mails[name] = render(draft.template, draft.context)
    assert unheard.next_step_by is not None
    assert "no decision to appeal" in mails["before"].text
    assert "has not used up anything" in mails["before"].text
    assert india_time(unheard.next_step_by) in mails["before"].text
    # The appeal window is the case's policy's: the decision's email dates it; no length here.
    assert "until the date that email gives" in mails["before"].text
    assert "7 days" not in mails["before"].text
    assert "already with a manager" in mails["open"].subject
    assert india_time(due) in mails["open"].text and "final" not in mails["open"].text
    assert "decision is final" in mails["final"].text
    # Only the answer before a decision points to the appeal route: the others have used it.
    assert [name for name, mail in mails.items() if 'choose "Appeal"' in mail.text] == ["before"]


def test_an_overturn_paying_no_more_than_before_says_what_the_account_loses_or_keeps() -> None:
    """The ledger reverses the first payment and posts the new one: the seller's account moves
    by the difference, which the appeal's outcome and the settlement state, also when it is
    nothing or a loss (the appeal is then not called successful)."""
    paid = 12_345_600  # the samples' payout
    for paid_before, words in (
        (paid, "the amount is the same"),
        (paid + 54_400, f"{inr(54_400)} of that earlier payment is taken back"),
    ):
        decided = samples.appeal_decided("C-1", AT).model_copy(update={"paid_before": paid_before})
        [draft] = compose_case_event(decided, SETTINGS, now=AT, seller_address=TO).drafts
        outcome = render(draft.template, draft.context)
        assert draft.template == "appeal_outcome"
        assert words in outcome.text
        # The HTML part says the same (its amounts in bold).
        assert words in outcome.html.replace("<strong>", "").replace("</strong>", "")
        assert f"replaces the {inr(paid_before)}" in outcome.text
        assert "successful" not in outcome.text and "more reaches" not in outcome.text
        settled = samples.case_settled("C-1", AT).model_copy(update={"paid_before": paid_before})
        [draft] = compose_case_event(settled, SETTINGS, now=AT, seller_address=TO).drafts
        mail = render(draft.template, draft.context)
        assert f"replaces the {inr(paid_before)}" in mail.text and "gains" not in mail.text
    assert "your account is ₹544.00 lower than before" in mail.text, mail.text


def test_an_appeal_on_a_return_without_a_case_is_answered_that_nothing_is_decided() -> None:
    """No case, so no case lines: the answer names the return, says there is no decision on it
    to appeal and that the appeal is not used up; once per appeal, in English and Hindi."""
    event = samples.appeal_without_case("RET-NC-1", AT)
    [draft] = compose_appeal_without_case(event, SETTINGS, seller_address=TO).drafts
    assert draft.template == "appeal_not_heard" and draft.recipient == TO
    assert draft.case_id is None and draft.return_id == "RET-NC-1"
    again = event.model_copy(update={"filed_at": AT + timedelta(minutes=5)})
    [later] = compose_appeal_without_case(again, SETTINGS, seller_address=TO).drafts
    assert later.dedup_key != draft.dedup_key
    english = render(draft.template, draft.context)
    assert english.subject.startswith("Your appeal about return RET-NC-1: there is no decision")
    for text in (english.text, english.html):
        assert "There is no decision on return RET-NC-1 to appeal" in text
        assert "has not used up anything" in text
        assert "case" not in text.split("Thank you", 1)[1].split("Warm regards", 1)[0]
    hindi = render(draft.template, draft.context, language="hi")
    assert "RET-NC-1" in hindi.subject and "कोई फ़ैसला नहीं है" in hindi.text
    assert "मामला" not in hindi.text


def test_a_payment_held_for_a_team_names_the_check_and_the_date_it_is_due() -> None:
    """A settlement hold (finance above a threshold, the warehouse for a wrong item) leaves the
    payment waiting for days: the decision says who checks what, in seller terms, and the date
    the later check is due; without a hold the usual "as soon as the payment is made" stays."""
    finance_by, warehouse_by = AT + timedelta(hours=24), AT + timedelta(hours=30)
    held = [
        SettlementWait(team="finance", expected_by=finance_by),
        SettlementWait(team="warehouse", expected_by=warehouse_by),
    ]
    for event in (
        samples.case_decided("C-1", AT, settlement_waits=held),
        samples.appeal_decided("C-1", AT, settlement_waits=held),
    ):
        [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        mail = render(draft.template, draft.context)
        for text in (mail.text, mail.html.replace("<strong>", "").replace("</strong>", "")):
            assert "our finance team confirms the payment" in text, text
            assert "our returns warehouse confirms what came back" in text, text
            assert f"We expect this by {india_time(warehouse_by)}" in text, text
            assert "as soon as the payment is made" not in text
        hindi = render(draft.template, draft.context, language="hi")
        assert "वित्त टीम" in hindi.text and "वेयरहाउस" in hindi.text
        assert utc_time(warehouse_by) in hindi.text  # the later date, in UTC as in English
    [plain] = compose_case_event(
        samples.case_decided("C-1", AT), SETTINGS, now=AT, seller_address=TO
    ).drafts
    text = render(plain.template, plain.context).text
    assert "as soon as the payment is made" in text and "money moves" not in text
    # A dismissed appeal whose payment still waits: the payout stands and waits for finance.
    upheld = samples.appeal_decided("C-1", AT, settlement_waits=held[:1])
    assert upheld.decision is not None
    upheld = upheld.model_copy(
        update={
            "decision": upheld.decision.model_copy(update={"reason_code": "APPEAL_UPHELD_ORIGINAL"})
        }
    )
    [draft] = compose_case_event(upheld, SETTINGS, now=AT, seller_address=TO).drafts
    text = render(draft.template, draft.context).text
    assert "stands, and nothing more is paid" in text, text
    assert "our finance team confirms the payment" in text
    assert f"We expect this by {india_time(finance_by)}" in text, text


def test_a_partner_liable_decision_never_claims_a_transit_loss_the_rule_did_not_find() -> None:
    """L7 pays because the partner picked up a return whose quality check failed, L5 because
    the partner cannot prove delivery: neither found a loss in transit, so the email says only
    whom the cost is recovered from (once: the decision's paragraph says it, no sentence of
    the email's own repeats it), in both languages."""
    for rule in ("L5", "L7", "L6"):
        record = sop_record(rule)
        event = samples.case_decided("C-1", AT).model_copy(update={"decision": record})
        [draft] = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        english = render(draft.template, draft.context).text
        assert "recovered from the logistics partner that carried the return" in english, english
        assert english.count("recover") == 1, english
        assert "scan records show" not in english.lower()
        hindi = render(draft.template, draft.context, language="hi").text
        assert hindi.count("वसूल") == 1, hindi
        assert "स्कैन रिकॉर्ड दिखाते" not in hindi


def test_an_evidence_closure_restates_the_reply_by_it_passed_and_no_other_closure_does() -> None:
    """E4 closes a claim when its reply-by passes: the email says when that was (India time
    with UTC), in English, HTML and Hindi; a closure for another reason never borrows it."""
    reply_by = AT - timedelta(minutes=1)
    closed = samples.case_rejected("C-1", AT).model_copy(update={"reply_by": reply_by})
    [draft] = [
        d
        for d in compose_case_event(closed, SETTINGS, now=AT, seller_address=TO).drafts
        if d.template == "decision"
    ]
    mail = render(draft.template, draft.context)
    for text in (mail.text, mail.html.replace("<strong>", "").replace("</strong>", "")):
        assert f"The time to send it ended on {india_time(reply_by)}" in text, text
    hindi = render(draft.template, draft.context, language="hi").text
    assert "सबूत भेजने का समय" in hindi and utc_time(reply_by) in hindi
    assert closed.decision is not None
    late = closed.model_copy(
        update={
            "decision": closed.decision.model_copy(update={"reason_code": "CLAIM_WINDOW_EXPIRED"})
        }
    )
    [draft] = [
        d
        for d in compose_case_event(late, SETTINGS, now=AT, seller_address=TO).drafts
        if d.template == "decision"
    ]
    assert "The time to send it ended" not in render(draft.template, draft.context).text


def test_a_late_claim_is_told_the_one_window_its_type_has() -> None:
    """E3 closes a late claim: the email's reason names the window of the claim's own type
    (from delivery for an item that came back, from pickup for a return that never arrived),
    not both, in English and Hindi; a record without its claim type keeps the words naming both."""
    closed = samples.case_rejected("C-1", AT)
    assert closed.decision is not None
    late = closed.model_copy(
        update={
            "decision": closed.decision.model_copy(update={"reason_code": "CLAIM_WINDOW_EXPIRED"})
        }
    )
    expected = {
        ClaimType.DAMAGED: ("counts from the return's delivery to you", "डिलीवरी से गिनी"),
        ClaimType.NOT_RECEIVED: ("the window counts from its pickup", "पिकअप से गिनी"),
        # No window lengths in these words: they are the case's policy, which the paragraph
        # below them states.
        None: ("or from pickup for a return that never arrived", "पिकअप से।"),
    }
    for claim_type, (english_words, hindi_words) in expected.items():
        event = late.model_copy(update={"claim_type": claim_type})
        [draft] = [
            d
            for d in compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
            if d.template == "decision"
        ]
        english = render(draft.template, draft.context).text
        assert "after the claim window had closed" in english, english
        assert english_words in english, (claim_type, english)
        other = "from its pickup" if claim_type is ClaimType.DAMAGED else "delivery to you"
        if claim_type is not None:
            assert other not in english, (claim_type, english)
        hindi = render(draft.template, draft.context, language="hi").text
        assert hindi_words in hindi, (claim_type, hindi)


def test_an_event_without_its_date_gets_no_invented_date_in_either_language() -> None:
    """Every opening, reopening and escalation reconciliation publishes states its date. One
    published before it did used to be given sop-v1's 48 h (review) or 24 h (management) from
    the event, a date no timer held: the email now says the seller hears once it is decided,
    with no date at all."""
    opened = samples.case_opened("C-1", AT).model_copy(update={"expected_decision_by": None})
    reopened = samples.case_opened("C-1", AT)
    escalations = [
        samples.case_escalated("C-1", AT, reason).model_copy(update={"decision_due_by": None})
        for reason in ("SLA_BREACHED", "ABOVE_APPROVAL_CAP")
    ]
    reopened_update = CaseUpdated(
        **{
            k: v
            for k, v in reopened.model_dump().items()
            if k in CaseUpdated.model_fields and k != "type"
        },
        change="REOPENED",
    )
    for event in (opened, reopened_update, *escalations):
        drafts = compose_case_event(event, SETTINGS, now=AT, seller_address=TO).drafts
        assert drafts, event
        for draft in drafts:
            for language in ("en", "hi"):
                out = render(draft.template, draft.context, language)
                for later in (AT + timedelta(hours=24), AT + timedelta(hours=48)):
                    assert india_time(later) not in out.text, out.text
                    assert utc_time(later) not in out.text, out.text
                    assert india_time(later) not in out.html, out.html
                if draft.audience == "seller":
                    assert (
                        "as soon as" in out.text
                        or "फ़ैसला होते ही" in out.text
                        or ("जितनी जल्दी" in out.text)
                    ), out.text


def test_a_digest_lesson_states_the_closing_policys_windows_or_none() -> None:
    """The lessons said sop-v1's 72 hours, 7 days, 45 days and 10 days whatever policy closed
    the claim; they now say the closing policy's (`CaseRejected.claim_terms`), and none for an
    event from before the policy's windows were carried."""
    terms = ClaimTerms(
        claim_window_h=36,
        not_received_earliest_days=12,
        not_received_latest_days=30,
        evidence_reply_h=20,
    )
    for code in ("EVIDENCE_NOT_PROVIDED", "CLAIM_WINDOW_EXPIRED", "PREMATURE_CLAIM"):
        rejected = samples.case_rejected("C-1", AT).model_copy(update={"claim_terms": terms})
        decision = rejected.decision
        assert decision is not None
        rejected = rejected.model_copy(
            update={"decision": decision.model_copy(update={"reason_code": code})}
        )
        [lesson] = compose_case_event(rejected, SETTINGS, now=AT, seller_address=TO).lessons
        said = lesson.context["tip"] + lesson.context["tip_hi"]
        for old in ("72 hours", "7 days", "45 days", "10 days", "72 घंटे", "7 दिन", "45 दिन"):
            assert old not in said, said
        for bare in (wording.education(code, None), wording_hi.education(code, None)):
            assert not any(ch.isdigit() for ch in " ".join(bare.values())), bare
    assert "20 hours" in wording.education("EVIDENCE_NOT_PROVIDED", terms)["tip"]
    assert "36 hours of delivery" in wording.education("CLAIM_WINDOW_EXPIRED", terms)["tip"]
    assert "30 days of pickup" in wording.education("CLAIM_WINDOW_EXPIRED", terms)["tip"]
    assert "12 days after pickup" in wording.education("PREMATURE_CLAIM", terms)["tip"]
    assert "12 दिन" in wording_hi.education("PREMATURE_CLAIM", terms)["tip_hi"]
    # A missing-item claim's checklist is a video and the weight: the lesson used to offer two
    # photos and a label photo instead, as for a damage claim.
    missing = terms.model_copy(
        update={"evidence_checklist": list(SOP_V1.evidence[ClaimType.MISSING_ITEM].checklist)}
    )
    english = wording.education("EVIDENCE_NOT_PROVIDED", missing)["tip"]
    hindi = wording_hi.education("EVIDENCE_NOT_PROVIDED", missing)["tip_hi"]
    assert "video of the returned parcel and the weight of the parcel as you received it" in english
    assert "photo" not in english.lower(), english
    assert "वज़न" in hindi and "फ़ोटो" not in hindi, hindi
    damaged = terms.model_copy(
        update={"evidence_checklist": list(SOP_V1.evidence[ClaimType.DAMAGED].checklist)}
    )
    assert (
        "video of the returned parcel or at least 2 photos of the item and 1 photo"
        in (wording.education("EVIDENCE_NOT_PROVIDED", damaged)["tip"])
    )


def test_a_digest_keeps_apart_lessons_of_one_topic_whose_tips_differ() -> None:
    """Two evidence closures, a damage claim and a missing-item one, teach different
    checklists: each case is listed under its own, never under the other's."""

    def lesson(case_id: str, tip: str) -> dict[str, object]:
        return {
            "topic": "EVIDENCE_NOT_PROVIDED",
            "title": "Send the evidence with the claim",
            "tip": tip,
            "case_id": case_id,
        }

    damage = "A damage claim needs 2 photos of the item and 1 of the shipping label."
    missing = "A missing-item claim needs an unboxing video and the weight received."
    context = digest_context(
        "S-1",
        [lesson("CASE-1", damage), lesson("CASE-2", missing), lesson("CASE-3", damage)],
        SETTINGS,
    )
    taught = {entry["tip"]: entry["case_ids"] for entry in context["lessons"]}
    assert taught == {damage: ["CASE-1", "CASE-3"], missing: ["CASE-2"]}
    assert context["case_ids"] == ["CASE-1", "CASE-2", "CASE-3"]
