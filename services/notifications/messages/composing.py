"""From an event to the messages it calls for: which template, to whom, with what facts.

Pure functions (no I/O): the service stores what these return, once per dedup key. The seller's
address is given apart from the event, which carries it only sealed (`seller_address`): None
writes nothing to the seller, `NO_ADDRESS` composes the seller's messages with no recipient, to
be held until the seller directory learns one (the seller could not be told, yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from services.notifications.digests.lessons import Lesson
from services.notifications.messages import wording, wording_hi
from services.notifications.settings import NotificationsSettings
from shared import decision_wording
from shared.decision_wording import span_of_hours
from shared.events import (
    AppealWithoutCase,
    CaseAppealed,
    CaseDecided,
    CaseEscalated,
    CaseEventBase,
    CaseNoteAdded,
    CaseOpened,
    CaseOrigin,
    CaseRejected,
    CaseSettled,
    CaseState,
    CaseTaskEventBase,
    CaseTaskOpened,
    CaseTaskOverdue,
    CaseUnderReview,
    CaseUpdated,
    EvidenceRequested,
    FraudAlertRaised,
    Outcome,
    PartnerStatementIssued,
    ReopenedClosure,
    SellerFeedbackReceived,
)
from shared.money import rupees

SELLER = "seller"
MANAGEMENT = "management"
PARTNER = "partner"  # a logistics partner's finance contact
TEAM = "team"  # a team asked for something on a case (finance, warehouse, ...)
MANAGEMENT_TEAM = "management"
# Outreach and lessons are welcome but not owed: they are throttled per seller per day.
NON_ESSENTIAL = frozenset({"feedback_outreach", "policy_education"})
NEGATIVE_RATING = 2
# The seller is owed the message but no address is known: compose it, hold it.
NO_ADDRESS = ""
# The actor of a case event no person caused (reconciliation's `SYSTEM`).
SYSTEM_ACTOR = "system"
# Proactive cases whose opening asks the seller for something: the evidence request that follows
# is their first email, with the checklist and the reply-by time (SOP P2).
PROACTIVE_ASKING = frozenset({"P2"})
# Case updates a seller hears about: its own filing merged into the open case, or refused as a
# duplicate of the case's claim (E2, E2b).
MERGED = "ESCALATION_MERGED"
DUPLICATE = "DUPLICATE_CLAIM_REJECTED"
EVIDENCE_ADDED = "EVIDENCE_ADDED"
MERGE_ACKNOWLEDGEMENT = "merge_acknowledgement"
# The case's own answers to a filing that joined it (E4's request, a decision), sent in the
# moment after the merge: a request replaces its acknowledgement, a decision sends it at once
# (`acknowledge_after_the_case_answers`).
ANSWERS_FILING = (EvidenceRequested, CaseDecided, CaseRejected)
# The seller filed again after a premature claim (E3b) and the case reopened: a new filing,
# owed an acknowledgement like the first.
REOPENED = "REOPENED"
# The partner's own record (a loss or transit damage declared, a pickup after a failed QC)
# settles a claim closed by a filing window (E3, E3b, E3c): the case reopened with no filing
# to acknowledge (the decision that follows is the seller's next email), and the
# closure no longer stands.
REOPENED_ON_DECLARATION = "REOPENED_ON_DECLARATION"
# ... unless that filing was itself still premature (E3b again): the case stays closed, and the
# seller hears once that it is still too early and from when to file (never "reopened").
REFILED_TOO_EARLY = "REFILED_TOO_EARLY"
EVIDENCE_REMINDER = "evidence_reminder"
# An appeal filed after the window: the decision stands, and the seller is told when the window
# closed rather than hearing nothing.
APPEAL_LATE = "APPEAL_LATE"
# An appeal the SOP does not hear: sent before anything was decided, or after the case's one
# appeal. Intake accepts every appeal without judging it, so the case's answer is the seller's.
APPEAL_BEFORE_DECISION = "APPEAL_BEFORE_DECISION"
APPEAL_REPEATED = "APPEAL_REPEATED"
# The date promised for a person's decision (management's, or a manager's on an appeal) passed
# without one: the seller gets an apology with the new date, management an alert.
DECISION_OVERDUE = "DECISION_OVERDUE"
# Still overdue while the seller's new date holds: management is alerted again, the seller
# (who already has an apology and that date) is not written to.
DECISION_STILL_OVERDUE = "DECISION_STILL_OVERDUE"
# A decided payment held for a team missed the date the seller's email gave: the seller gets an
# apology, what still waits and the new date (once per date broken).
SETTLEMENT_OVERDUE = "SETTLEMENT_OVERDUE"
# A seller's message nothing else on the case answers (evidence or a reply after the decision,
# a text reply to an open case): answered once per message (`message_received`).
SELLER_WROTE = "SELLER_WROTE"
MESSAGE_RECEIVED = "message_received"
# A claim closed because the return's record names another seller (no appeal window; its
# email asks the seller to reply to have the record checked).
SELLER_MISMATCH = "SELLER_MISMATCH"
# The SOP's proposal awaiting approval was replaced by a new fact: management is alerted with
# both; the seller, told the earlier amount, hears the new one when it differs.
PROPOSAL_REPLACED = "PROPOSAL_REPLACED"
# An appeal dismissed: the decision record is the original one (its payout included), so only
# this code tells the seller that the appeal failed.
APPEAL_UPHELD_ORIGINAL = "APPEAL_UPHELD_ORIGINAL"


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to queue. `dedup_key` makes it happen once whatever redelivery happens."""

    template: str
    recipient: str
    dedup_key: str
    context: dict[str, Any]
    audience: str = SELLER
    case_id: str | None = None
    case_version: int | None = None
    return_id: str | None = None
    seller_id: str | None = None
    subject_key: str | None = None
    # A message due later (the evidence reminder): stored now, sent then, unless cancelled.
    send_at: datetime | None = None
    # The seller's language from the directory (management mail stays English).
    language: str = "en"
    # Files sent with the message: {"filename", "content_type", "content"} (text content).
    attachments: tuple[dict[str, str], ...] = ()
    # An evidence request that answers evidence the seller sent (`answers_evidence`): stored
    # with the message, so the spacing between answers counts only these.
    answers_evidence: bool = False

    @property
    def essential(self) -> bool:
        return self.template not in NON_ESSENTIAL


@dataclass(slots=True)
class Composition:
    drafts: list[Draft] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)


def _case_context(event: CaseEventBase, settings: NotificationsSettings) -> dict[str, Any]:
    heard = _closure_appeal_heard(event)
    return {
        "case_id": event.case_id,
        "return_id": event.return_id,
        "seller_id": event.seller_id,
        "claim_type": event.claim_type.value if event.claim_type else None,
        "claim_words": wording.claim_words(event.claim_type.value if event.claim_type else None),
        "ack_regret": wording.ack_regret(event.claim_type.value if event.claim_type else None),
        "claimed_amount": event.claimed_amount,
        "proactive": event.origin == CaseOrigin.PROACTIVE,
        # Reconciliation leaves the claimed amount out of a proactive case's events until the
        # seller files on it: until then no sentence may say "you claimed" (P1, P3).
        "seller_claimed": event.origin != CaseOrigin.PROACTIVE or event.claimed_amount is not None,
        "portal_url": settings.seller_portal_url,
        "signature": settings.desk_signature,
        # The case's first answer after a partner's record undid a closure the seller was
        # emailed: it says first that the closure no longer stands.
        "closure_reopened": getattr(event, "closure_reopened", None),
        # A decision replacing a closure the seller had appealed: the appeal is heard against it
        # (a review's or an escalation's answer settles the appeal instead, not used up).
        "appeal_heard": heard is not None,
        "appeal_heard_by": heard.appeal_decision_due_by if heard is not None else None,
    }


def _closure_appeal_heard(event: CaseEventBase) -> ReopenedClosure | None:
    """The appealed closure a decision replaced: its appeal is heard against that decision."""
    if isinstance(event, CaseDecided) and event.closure_reopened is not None:
        return event.closure_reopened if event.closure_reopened.appeal_answered else None
    return None


def _seller_draft(
    template: str, event: CaseEventBase, context: dict[str, Any], recipient: str
) -> Draft:
    return Draft(
        template=template,
        recipient=recipient,
        dedup_key=f"{event.case_id}:{template}:{event.case_version}",
        context=context,
        case_id=event.case_id,
        case_version=event.case_version,
        return_id=event.return_id,
        seller_id=event.seller_id,
        subject_key=event.return_id,
    )


def _caseless_seller_message(
    template: str, once_per: str, context: dict[str, Any], to: str, *, subject_key: str
) -> Composition:
    """One message to a seller about no case (`context` names its return and seller), once per
    `once_per` whatever redelivery happens."""
    return Composition(
        drafts=[
            Draft(
                template=template,
                recipient=to,
                dedup_key=f"{once_per}:{template}",
                context=context,
                return_id=context["return_id"],
                seller_id=context["seller_id"],
                subject_key=subject_key,
            )
        ]
    )


def _management_drafts(
    template: str,
    key: str,
    context: dict[str, Any],
    settings: NotificationsSettings,
    *,
    event: CaseEventBase | None = None,
    subject_key: str,
) -> list[Draft]:
    return [
        Draft(
            template=template,
            recipient=recipient,
            # One message per manager, so a bounce or suppression affects only that address.
            dedup_key=f"{key}:{template}:{index}",
            context=context,
            audience=MANAGEMENT,
            case_id=event.case_id if event else None,
            case_version=event.case_version if event else None,
            return_id=event.return_id if event else None,
            seller_id=event.seller_id if event else None,
            subject_key=subject_key,
        )
        for index, recipient in enumerate(settings.management_recipients)
    ]


def liability_sentence(
    party: str | None,
    debit: str,
    rest: str,
    *,
    capped: bool,
    split_stated: bool,
    bears_stated: bool,
) -> str:
    """Who bears a payout, in English: none when the decision's paragraph, which the English
    email gives as it is, already says it (said once)."""
    if bears_stated:
        return ""
    return wording.liability_sentence(party, debit, rest, capped=capped, stated=split_stated)


def liability_sentence_hi(
    party: str | None,
    debit: str,
    rest: str,
    *,
    capped: bool,
    split_stated: bool,
    bears_stated: bool,
    reason_in_hindi: bool,
) -> str:
    """Who bears a payout, in Hindi, by the English rule: none when the paragraph the seller
    reads says it in the email's language. A Hindi email gives the SOP's paragraph in Hindi,
    but a person's reason as they wrote it (in English): that quote tells a Hindi reader
    nothing in Hindi, so the Hindi sentence says who bears the cost."""
    if bears_stated and reason_in_hindi:
        return ""
    return wording_hi.liability(party, debit, rest, capped=capped, stated=split_stated)


def _decision_context(
    event: CaseDecided | CaseRejected, settings: NotificationsSettings
) -> dict[str, Any]:
    context = _case_context(event, settings)
    decision = event.decision
    rejected = isinstance(event, CaseRejected)
    reason_code = decision.reason_code if decision else None
    outcome = decision.outcome.value if decision and decision.outcome else None
    if rejected:
        outcome = "DENIED"
    rejection = wording.rejection_code(
        reason_code, seller_claimed=context["seller_claimed"], claim_type=context["claim_type"]
    )
    # The partner's cap left part of the payout to the marketplace: said, not hidden.
    partner_capped = bool(
        decision
        and decision.liable_party is not None
        and decision.liable_party.value == "PARTNER"
        and decision.payout > 0
        and decision.marketplace_cost > 0
    )
    debit_words = rupees(decision.partner_debit if decision else 0)
    rest_words = rupees(decision.marketplace_cost if decision else 0)
    # The split in rupees once: the decision's paragraph states it, the liability sentence then
    # says only who is responsible (the Hindi paragraph, built from the same record, states it
    # too, or falls back to the English one that does).
    stated = partner_capped and wording.split_stated(
        decision.explanation if decision else None, debit_words, rest_words
    )
    # Who bears a payout, said once: the paragraph of a paid decision (the SOP's and a person's)
    # says whom the cost is recovered from, so the email adds no sentence saying it again. A
    # paragraph that does not say it (an older record) keeps the sentence.
    bears_stated = bool(
        decision and decision.payout > 0 and decision_wording.states_who_bears(decision.explanation)
    )
    liable = decision.liable_party.value if decision and decision.liable_party else None
    # The SOP's reason in Hindi for a Hindi email (None: a person's words, quoted as given).
    explanation_hi = wording_hi.decision_reason(
        decision, return_id=event.return_id, seller_claimed=context["seller_claimed"]
    )
    # "The delivery and scan records do not show a loss another party is responsible for" is
    # the SOP's reason for a denial (L4: a delivery proven by OTP). A person who denies a claim
    # gives their own reason, quoted in the paragraph; adding the records' sentence would put a
    # reason in the desk's mouth it never gave (a video of another item is not a scan record).
    sentence_party = (
        None
        if liable == "SELLER" and decision is not None and decision.decided_by != SYSTEM_ACTOR
        else liable
    )
    context.update(
        rejected=rejected,
        outcome=outcome,
        outcome_headline=(
            "closed without a payout"
            if rejected
            else wording.OUTCOME_HEADLINE.get(outcome or "", "decided")
        ),
        payout=decision.payout if decision else 0,
        # What an overturned appeal's payout replaces (reversed in the ledger), if anything.
        paid_before=getattr(event, "paid_before", 0),
        payout_pct=decision.payout_pct if decision else 0,
        liable_party=liable,
        liability_party=sentence_party,
        liability_sentence=liability_sentence(
            sentence_party,
            debit_words,
            rest_words,
            capped=partner_capped,
            split_stated=stated,
            bears_stated=bears_stated,
        ),
        liability_sentence_hi=liability_sentence_hi(
            sentence_party,
            debit_words,
            rest_words,
            capped=partner_capped,
            split_stated=stated,
            bears_stated=bears_stated,
            reason_in_hindi=bool(explanation_hi),
        ),
        split_stated=stated,
        bears_stated=bears_stated,
        partner_debit=decision.partner_debit if decision else 0,
        marketplace_cost=decision.marketplace_cost if decision else 0,
        partner_capped=partner_capped,
        # The paragraph without its undated appeal offer: the email's own paragraph dates it.
        explanation=wording.without_appeal_offer(decision.explanation)
        if decision
        else event.reason,
        # The SOP's reason in Hindi for a Hindi email (None: a person's words, quoted).
        explanation_hi=explanation_hi,
        reason_code=reason_code,
        rejection_code=rejection,
        # A claim closed as premature (E3b): filing again from the time its paragraph gives is
        # the usual way on, said beside the dated appeal, not instead of it (the SOP gives every
        # decision and rejection its 7-day appeal; a seller whose pickup date is wrong appeals).
        refile_offered=rejected and rejection == "PREMATURE_CLAIM",
        rejection_reason=wording.REJECTION_REASON.get(rejection or "", "") if rejected else "",
        appeal_by=event.appeal_by,
        decided_at=decision.decided_at if decision else event.occurred_at,
        decided_by_person=bool(decision and decision.decided_by != SYSTEM_ACTOR),
        appeal_upheld=reason_code == APPEAL_UPHELD_ORIGINAL,
        # The reply-by an E4 closure passed, restated so the seller sees the timeline it followed.
        evidence_reply_by=(
            event.reply_by
            if isinstance(event, CaseRejected) and rejection == "EVIDENCE_NOT_PROVIDED"
            else None
        ),
        **_settlement_wait(event),
    )
    return context


def _settlement_wait(event: CaseEventBase) -> dict[str, Any]:
    """A payment held for a team's confirmation (a settlement hold): which checks, in seller
    terms (a policy's routine check, or the check the desk asked for on this case), and the
    date the last is due, so the seller is not left with "as soon as the payment is made" for
    days."""
    waits = event.settlement_waits if isinstance(event, CaseDecided | CaseUpdated) else []
    holds = [(w.team, w.kind) for w in waits]
    return {
        "settlement_teams": [w.team for w in waits],
        "settlement_holds": holds,
        "settlement_checks": wording.settlement_checks(holds),
        "settlement_expected_by": max((w.expected_by for w in waits), default=None),
    }


def _filing_answer(
    event: CaseUpdated, settings: NotificationsSettings, seller_address: str, *, now: datetime
) -> Draft:
    """The answer to a seller's filing that opened nothing new: merged into the open case
    (acknowledged), or a duplicate of a decided one (where the first case stands, and its next
    date)."""
    context = _case_context(event, settings)
    decision = event.decision
    context.update(
        state=event.state.value,
        state_words=wording.STATE_FOR_SELLER.get(event.state.value, "being worked on"),
        decided=event.state.value in wording.DECIDED_STATES,
        # The first case's appeal-by, only while it is still ahead: a filing after it must not
        # be told it may appeal until a time already gone.
        appeal_by=(
            event.appeal_by
            if event.appeal_by is not None and event.appeal_by > event.occurred_at
            else None
        ),
        # "The time for an appeal has passed" only when it has: a case whose appeal was decided
        # carries no appeal-by, and its decision is final for that reason instead.
        appeal_window_passed=event.appeal_by is not None and event.appeal_by <= event.occurred_at,
        explanation=wording.without_appeal_offer(decision.explanation)
        if decision
        else event.reason,
        explanation_hi=wording_hi.decision_reason(
            decision, return_id=event.return_id, seller_claimed=context["seller_claimed"]
        ),
        next_step_by=event.next_step_by,
        # A claim still without its checklist on a case not asking for it yet (E1) or with a
        # person: what reached us and what may still be asked for or used, instead of "nothing
        # to do".
        **evidence_so_far(event),
        # The SOP asks for the claim's checklist in the same moment (E4): that request says the
        # claim joined and lists what to send; this one, if it goes at all, says it follows.
        asks_for_evidence=event.asks_for_evidence,
        # A filing joining E1's wait: what is awaited and the wait's own end, as the first
        # filing's acknowledgement said (the decision date alone hid why it is that far).
        awaiting_return_until=event.awaiting_return_until,
        awaiting_delivery_until=event.awaiting_delivery_until,
        # A decided case whose payment still waits for a team: the filing is told so, and by
        # when, not just "decided".
        **_settlement_wait(event),
        # A refiling after a premature claim that is still premature: the claim stays closed,
        # and the paragraph says from when to file (not "this return already has a case").
        too_early=event.change == REFILED_TOO_EARLY,
    )
    if event.change != MERGED:
        return _seller_draft("duplicate_filing", event, context, seller_address)
    draft = _seller_draft(MERGE_ACKNOWLEDGEMENT, event, context, seller_address)
    return replace(draft, send_at=acknowledge_after_the_case_answers(event, settings, now=now))


def _message_answer(event: CaseUpdated, settings: NotificationsSettings, to: str) -> Draft:
    """The answer to a seller's message nothing else answers: that it reached the case (and
    what it brought), where the case stands, and the seller's next step and date. After the
    decision: the decision is not re-judged by it; the appeal-by while ahead (an appeal's
    manager reads what was sent), the appeal's result date, or that the case is final and
    why. On an open case: the date the seller holds, and what the evidence still lacks."""
    context = _case_context(event, settings)
    decision = event.decision
    state = event.state.value
    context.update(
        state=state,
        state_words=wording.STATE_FOR_SELLER.get(state, "being worked on"),
        decided=state in wording.DECIDED_STATES,
        finished=state in wording.DECIDED_STATES or event.state == CaseState.APPEALED,
        appeal_by=(
            event.appeal_by
            if event.appeal_by is not None and event.appeal_by > event.occurred_at
            else None
        ),
        appeal_window_passed=event.appeal_by is not None and event.appeal_by <= event.occurred_at,
        payout=decision.payout if decision else None,
        # A claim paid in full is not told we are sorry the decision stands.
        full=decision is not None and decision.outcome == Outcome.GRANTED,
        # Closed because the return is another seller's: its email invited a reply to have the
        # record checked, so the reply is not told the decision is final.
        seller_mismatch=decision is not None and decision.reason_code == SELLER_MISMATCH,
        explanation=wording.without_appeal_offer(decision.explanation) if decision else None,
        explanation_hi=wording_hi.decision_reason(
            decision, return_id=event.return_id, seller_claimed=context["seller_claimed"]
        ),
        next_step_by=event.next_step_by,
        message_evidence=wording.received_evidence(event.message_evidence, event.message_weight_g),
        message_evidence_counts=dict(event.message_evidence),
        message_weight_g=event.message_weight_g,
        # E1's wait (the return's records, up to days): what is awaited and the wait's end, as
        # the acknowledgement said; nobody handles the case yet.
        awaiting_return_until=event.awaiting_return_until,
        awaiting_delivery_until=event.awaiting_delivery_until,
        **evidence_so_far(event),
        **_settlement_wait(event),
    )
    return _seller_draft(MESSAGE_RECEIVED, event, context, to)


def _proposal_replaced(
    event: CaseUpdated, settings: NotificationsSettings, seller_address: str | None
) -> list[Draft]:
    """Management's alert naming both proposals (the earlier one can no longer be approved),
    and, when the amount the seller was told changed, the seller's escalation update with the
    new amount and the same date."""
    new, old = event.decision, event.replaced_decision
    context = _case_context(event, settings)
    context.update(
        escalation_reason="ABOVE_APPROVAL_CAP",
        seller_explanation=wording.ESCALATION_FOR_SELLER.get(
            "ABOVE_APPROVAL_CAP",
            "A senior member of the desk is now looking at your case personally.",
        ),
        reason=event.reason,
        escalated_at=event.occurred_at,
        decision_due_by=event.next_step_by,
        payout=new.payout if new else None,
        explanation=new.explanation if new else None,
        rule_id=new.rule_id if new else None,
        liable_party=new.liable_party.value if new and new.liable_party else None,
        partner_id=event.partner_id,
        replaced=True,
        proposal_id=event.proposal_id,
        replaced_proposal_id=event.replaced_proposal_id,
        earlier_payout=old.payout if old else None,
        earlier_rule_id=old.rule_id if old else None,
        earlier_liable_party=old.liable_party.value if old and old.liable_party else None,
    )
    drafts = []
    amount_changed = new is not None and (old is None or old.payout != new.payout)
    if seller_address is not None and amount_changed:
        drafts.append(_seller_draft("escalation_update", event, context, seller_address))
    drafts.extend(
        _management_drafts(
            "approval_cap_alert",
            f"{event.case_id}:{event.case_version}",
            context,
            settings,
            event=event,
            subject_key=event.return_id,
        )
    )
    return drafts


def evidence_so_far(event: CaseUpdated | CaseUnderReview) -> dict[str, Any]:
    """The words for a claim still short of its checklist while nobody asks for it yet (E1's
    wait, a person's review): what reached us, counted, and only what each acceptable set still
    lacks, as the SOP's evidence request says it. An event from before the counts were recorded,
    or a claim with nothing received, lists the claim type's whole checklist
    (`evidence_missing`)."""
    received = wording.received_evidence(event.evidence_received, event.evidence_received_weight_g)
    counts = [dict(lacks) for lacks in event.evidence_still_needed] if received else []
    return {
        "evidence_missing": [wording.checklist_item(item) for item in event.evidence_missing],
        "evidence_received": received if event.evidence_missing else [],
        "evidence_received_counts": dict(event.evidence_received),
        "evidence_received_weight_g": event.evidence_received_weight_g,
        "evidence_still_needed_counts": counts,
        "evidence_still_needed": wording.still_needed(counts, dict(event.evidence_received)),
    }


def acknowledge_after_the_case_answers(
    event: CaseUpdated, settings: NotificationsSettings, *, now: datetime
) -> datetime | None:
    """When to acknowledge a filing merged into an open case: at once, unless the case waits
    for evidence or asks for it in the same moment (`asks_for_evidence`: E4 for a claim a
    case adopted). Then the filing is judged afresh in the same moment (E4: its own checklist,
    or the case's checklist met), and the case's answer, an evidence request or a decision,
    follows at once: the acknowledgement waits as evidence answers do (`evidence_settle_s`),
    and a request that comes no later replaces it and says the claim joined the case
    (`repository.supersede_unsent_acknowledgements`): one email for one filing. A decision
    says nothing of the filing: it sends the acknowledgement with it instead
    (`service._answer_the_filing`)."""
    if event.state != CaseState.AWAITING_EVIDENCE and not event.asks_for_evidence:
        return None
    return max(event.occurred_at, now) + timedelta(seconds=settings.evidence_settle_s)


def leaves_the_evidence_wait(event: CaseEventBase) -> bool:
    """The case moves out of the wait for evidence (its checklist met, a decision, a review,
    an escalation). A filing's acknowledgement stored during the wait, due
    `evidence_settle_s` after the merge and worded for it ("send what is still missing by
    ..."), is outdated if still unsent: it is replaced (`refreshed_acknowledgement`). A merge
    is at least the case's second version, so the move at least its fourth."""
    return (
        event.previous_state == CaseState.AWAITING_EVIDENCE
        and event.state != CaseState.AWAITING_EVIDENCE
        and event.case_version > 3
        and not isinstance(event, CaseNoteAdded)  # a note records; it moves nothing
    )


def replaces_acknowledgement(event: CaseEventBase) -> bool:
    """Whether a merged filing's acknowledgement still unsent is replaced by one worded for
    where the case stands after `event`: the case left the wait for evidence, or is decided (a
    decision never says the filing joined, and an acknowledgement saying "we will write once
    it is decided" must not go with it). From the fourth version: the earliest a move can
    follow a merge that waited."""
    return leaves_the_evidence_wait(event) or (
        isinstance(event, CaseDecided | CaseRejected) and event.case_version > 3
    )


def refreshed_acknowledgement(
    event: CaseEventBase,
    settings: NotificationsSettings,
    to: str,
    *,
    send_at: datetime | None,
) -> Draft:
    """A merged filing's acknowledgement worded for where the case stands after `event`: a
    decision sent with it ("our decision is in the email we are sending with this one"), the
    date a person's review or management is held to, or the checks that remain."""
    context = _case_context(event, settings)
    context.update(
        state=event.state.value,
        state_words=wording.STATE_FOR_SELLER.get(event.state.value, "being worked on"),
        decided_now=isinstance(event, CaseDecided | CaseRejected),
        next_step_by=event.decision_due_by
        if isinstance(event, CaseUnderReview | CaseEscalated)
        else None,
        # A case that left the wait for E1's facts, or for a person, with the claim's checklist
        # still unmet: the filing is told what may still be asked for or used.
        **(evidence_so_far(event) if isinstance(event, CaseUpdated | CaseUnderReview) else {}),
    )
    draft = _seller_draft(MERGE_ACKNOWLEDGEMENT, event, context, to)
    return replace(draft, send_at=send_at)


def overdue_reason_code(event: CaseUpdated) -> str:
    """The code `wording.review_reason` words an overdue decision with: an appeal's or a case's."""
    return "APPEAL_OVERDUE" if event.state == CaseState.APPEALED else DECISION_OVERDUE


def _decision_overdue(
    event: CaseUpdated, settings: NotificationsSettings, seller_address: str | None
) -> list[Draft]:
    """Management's alert and, when the seller's date broke (not on a daily reminder), the
    seller's new date (a timeline change with an apology)."""
    context = _case_context(event, settings)
    code = overdue_reason_code(event)
    context.update(
        review_reason=wording.review_reason(event.previous_state, code),
        review_reason_code=code,
        decision_due_by=event.next_step_by,
        previous_state=event.previous_state.value if event.previous_state else None,
        overdue_at=event.occurred_at,
        appeal=event.state == CaseState.APPEALED,
        reason=event.reason,
        partner_id=event.partner_id,
        seller_told=event.change == DECISION_OVERDUE,
    )
    drafts = []
    if seller_address is not None and event.change == DECISION_OVERDUE:
        drafts.append(_seller_draft("timeline_change", event, context, seller_address))
    drafts.extend(
        _management_drafts(
            "decision_overdue_alert",
            f"{event.case_id}:{event.case_version}",
            context,
            settings,
            event=event,
            subject_key=event.return_id,
        )
    )
    return drafts


def payment_reference(transaction_id: UUID) -> str:
    """The ledger transaction that paid the seller, as the seller and finance quote it: the
    transaction id is what `GET /v1/ledger/cases/{case_id}` lists."""
    return f"DD-{str(transaction_id).upper()}"


def _pays(event: CaseSettled) -> bool:
    """A settlement the seller is told of: money moved to the seller. A rejection or an appeal
    dismissed (the original settlement stands, nothing new posted) is said by the decision."""
    return (
        event.ledger_transaction_id is not None
        and event.decision is not None
        and event.decision.payout > 0
    )


def timeline_moved(event: CaseUnderReview) -> bool:
    """A case going to a person is always its own email (`timeline_change`), straight after
    opening too: whether the SOP sends a claim to review at its opening or after a short wait
    depends only on when its facts arrive (a fraud assessment, a scan), and the seller's
    emails must not. The acknowledgement says only what the opening knew; this email says
    that a person decides and why. A second review reason while already under review says
    nothing new."""
    previous = event.previous_state
    return previous is not None and previous != CaseState.UNDER_REVIEW


def review_date_given(event: CaseUnderReview) -> bool:
    """The review comes straight after opening: the acknowledgement, composed from the same
    verdict, already gave this date, so the email says the date holds rather than moved."""
    return event.previous_state == CaseState.OPEN and event.case_version <= 2


def reminder_time(
    event: EvidenceRequested, settings: NotificationsSettings, *, now: datetime
) -> datetime | None:
    """When to remind the seller of the reply-by time, or None when the request itself comes
    that late, or reaches us that late (it is the reminder then: two emails at once would say
    the same thing twice)."""
    at = event.reply_by - timedelta(hours=settings.evidence_reminder_lead_h)
    return at if at > max(event.occurred_at, now) else None


def answers_evidence(event: EvidenceRequested) -> bool:
    """Whether the request answers evidence the seller sent (the SOP asks again, saying what
    reached us), rather than asking anew: a claim's first request (which names what came with
    the claim), a desk's, a P2 case's, or one after a reopened case. The event says so; one
    published before it did named what was received only when it answered."""
    if event.answers_evidence is not None:
        return event.answers_evidence
    return bool(event.received) or event.received_weight_g is not None


def answer_after_uploads_settle(
    event: EvidenceRequested, settings: NotificationsSettings, *, now: datetime
) -> datetime | None:
    """When to send a request made again because evidence arrived that does not complete the
    checklist: once the seller's uploads settle (`evidence_settle_s` after this evidence), or
    None for at once (a first request; or a reply-by too near to wait). The next evidence
    cancels the answer if it is still unsent (`repository.cancel_unsent_answers`) and brings
    its own, so photos sent one at a time get one answer listing all of them.

    The wait counts from when the evidence is handled here, if that is later than when it came:
    behind a backlog (a restart, an outage) uploads made seconds apart are handled in quick
    succession, and an answer already due when it is stored could no longer be overtaken."""
    if not answers_evidence(event):
        return None  # a first request: nothing arrived to wait on
    at = max(event.occurred_at, now) + timedelta(seconds=settings.evidence_settle_s)
    if at >= event.reply_by:
        return None  # the reply-by comes first: the seller needs the answer now
    return at


def _evidence_reminder(
    event: EvidenceRequested,
    settings: NotificationsSettings,
    context: dict[str, Any],
    to: str,
    *,
    now: datetime,
) -> Draft | None:
    at = reminder_time(event, settings, now=now)
    if at is None:
        return None
    draft = _seller_draft(EVIDENCE_REMINDER, event, {**context, "reminder": True}, to)
    return Draft(
        template=draft.template,
        recipient=draft.recipient,
        dedup_key=draft.dedup_key,
        context=draft.context,
        case_id=draft.case_id,
        case_version=draft.case_version,
        return_id=draft.return_id,
        seller_id=draft.seller_id,
        subject_key=draft.subject_key,
        send_at=at,
    )


def undoes_closure(event: CaseEventBase) -> bool:
    """The closure a digest lesson taught from no longer stands: the seller filed again after
    a premature claim (the case reopened), or an appeal overturned it. A lesson still waiting
    for the digest would tell the seller the claim was closed, after an email saying it was
    reopened or decided."""
    if isinstance(event, CaseUpdated):
        return event.change in (REOPENED, REOPENED_ON_DECLARATION)
    return (
        isinstance(event, CaseDecided)
        and event.previous_state == CaseState.APPEALED
        and (event.decision is None or event.decision.reason_code != APPEAL_UPHELD_ORIGINAL)
    )


def cancels_reminder(event: CaseEventBase) -> bool:
    """The case left the wait for evidence, the seller sent some, or the desk asked anew:
    a pending reminder of the earlier request would be wrong or noise. An update leaves the
    wait too when the evidence came with a filing that merged (no `EVIDENCE_ADDED` of its
    own): the checklist met, the case waits for the fraud check instead (`OPEN`), and the
    reminder would ask for evidence already sent, days after the decision."""
    if event.previous_state != CaseState.AWAITING_EVIDENCE:
        return False
    if isinstance(event, CaseUpdated):
        return event.change == EVIDENCE_ADDED or event.state != CaseState.AWAITING_EVIDENCE
    return not isinstance(event, CaseNoteAdded)


def may_compose(event: CaseEventBase) -> bool:
    """Whether `compose_case_event` can draft anything for this event once the seller's address
    is settled (known or held): decided from the event alone, so the consumer skips the others
    (an evidence note, a review that moves no date, a proactive case opened to ask for
    evidence) before it opens a transaction. Kept beside the composer it must agree with
    (`tests/unit/test_notifications_acts_on.py` holds them together)."""
    if isinstance(event, CaseOpened):
        return event.trigger_rule not in PROACTIVE_ASKING
    if isinstance(event, CaseUpdated):
        return event.change in (
            REOPENED,
            REFILED_TOO_EARLY,
            MERGED,
            DUPLICATE,
            APPEAL_LATE,
            APPEAL_BEFORE_DECISION,
            APPEAL_REPEATED,
            DECISION_OVERDUE,
            DECISION_STILL_OVERDUE,
            SETTLEMENT_OVERDUE,
            SELLER_WROTE,
            PROPOSAL_REPLACED,
        )
    if isinstance(event, CaseSettled):
        return _pays(event)
    if isinstance(event, CaseUnderReview):
        return timeline_moved(event)
    if isinstance(event, CaseAppealed):
        # An appeal heard again after a partner's record replaced the closure it was filed on:
        # acknowledged when filed, and the replacing decision's email said it goes on.
        return event.appealed_at is None
    return isinstance(event, EvidenceRequested | CaseDecided | CaseRejected | CaseEscalated)


def in_language(composition: Composition, language: str) -> Composition:
    """The seller's drafts in its language; management drafts stay English."""
    composition.drafts = [
        replace(d, language=language) if d.audience == SELLER else d for d in composition.drafts
    ]
    return composition


def compose_case_event(
    event: CaseEventBase,
    settings: NotificationsSettings,
    *,
    now: datetime,
    seller_address: str | None,
) -> Composition:
    out = Composition()
    owed = seller_address is not None
    to = NO_ADDRESS if seller_address is None else seller_address
    if isinstance(event, CaseOpened) and owed and event.trigger_rule not in PROACTIVE_ASKING:
        context = _case_context(event, settings)
        # Stated by reconciliation from the case's policy. An event from before it was (none
        # is published without it now) gets no date rather than one sop-v1 would have given.
        context["expected_decision_by"] = event.expected_decision_by
        context["reopened"] = False
        context["awaiting_return_until"] = event.awaiting_return_until
        context["awaiting_delivery_until"] = event.awaiting_delivery_until
        # A case the desk opened: what the partner's record showed, not a claim's words.
        trigger = wording.trigger_key(event.trigger_rule, context["claim_type"])
        context["trigger_words"] = wording.PROACTIVE_TRIGGER_WORDS.get(
            trigger, context["claim_words"]
        )
        context["trigger_words_hi"] = wording_hi.PROACTIVE_TRIGGER.get(trigger)
        # The evidence request follows in the same moment: "nothing to do" would contradict it.
        context["asks_for_evidence"] = event.asks_for_evidence
        # ... unless the SOP first waits for facts (E1), which may close the claim or hand it
        # to a person instead: then the request is said to follow only if the claim goes on.
        context["asks_once_facts_are_in"] = event.asks_once_facts_are_in
        out.drafts.append(_seller_draft("acknowledgement", event, context, to))
    elif isinstance(event, CaseUpdated) and owed and event.change == REOPENED:
        context = _case_context(event, settings)
        # The latest the reopened claim is decided, from its first verdict and the case's
        # policy (no date in an event from before it was stated), and what that verdict waits
        # for or asks, as a first filing is told.
        context["expected_decision_by"] = event.next_step_by
        context["reopened"] = True
        context["awaiting_return_until"] = event.awaiting_return_until
        context["awaiting_delivery_until"] = event.awaiting_delivery_until
        context["asks_for_evidence"] = event.asks_for_evidence
        context["asks_once_facts_are_in"] = event.asks_once_facts_are_in
        out.drafts.append(_seller_draft("acknowledgement", event, context, to))
    elif isinstance(event, EvidenceRequested) and owed:
        context = _case_context(event, settings)
        context["checklist"] = [wording.checklist_item(item) for item in event.checklist]
        context["reply_by"] = event.reply_by
        # P2's window, as the case's policy has it (None: an event from before it was recorded,
        # and the email then gives the window's end alone).
        context["claim_window_h"] = event.claim_window_h
        context["claim_window"] = (
            None if event.claim_window_h is None else span_of_hours(event.claim_window_h)
        )
        # What reached us so far (with the claim, or since), so the seller sees it counted and
        # is asked only for what is still missing; an answer to evidence thanks for it first.
        context["received"] = wording.received_evidence(event.received, event.received_weight_g)
        context["received_counts"] = dict(event.received)
        context["received_weight_g"] = event.received_weight_g
        context["answers"] = answers_evidence(event)
        # The rest of each acceptable set, listed instead of the whole checklist once something
        # reached us (a request with nothing received lists the policy's own checklist).
        context["still_needed_counts"] = (
            [dict(lacks) for lacks in event.still_needed] if context["received"] else []
        )
        context["still_needed"] = wording.still_needed(
            context["still_needed_counts"], dict(event.received)
        )
        context["reason"] = event.reason
        # A person asked (not the SOP's E4 checklist): a reply-by that passes hands the case to
        # the desk for a decision on what it has (UNDER_REVIEW); only the SOP's request closes it.
        context["desk_request"] = event.actor != SYSTEM_ACTOR
        # A proactive case's request is the seller's first word of it (P2): say why we wrote.
        context["first_word"] = event.origin == CaseOrigin.PROACTIVE and event.case_version <= 2
        request = _seller_draft("evidence_request", event, context, to)
        out.drafts.append(
            replace(
                request,
                send_at=answer_after_uploads_settle(event, settings, now=now),
                answers_evidence=answers_evidence(event),
            )
        )
        reminder = _evidence_reminder(event, settings, context, to, now=now)
        if reminder is not None:
            out.drafts.append(reminder)
    elif (
        isinstance(event, CaseUpdated)
        and owed
        and event.change
        in (
            MERGED,
            DUPLICATE,
            REFILED_TOO_EARLY,
        )
    ):
        out.drafts.append(_filing_answer(event, settings, to, now=now))
    elif isinstance(event, CaseUpdated) and owed and event.change == APPEAL_LATE:
        context = _case_context(event, settings)
        context["appeal_closed_at"] = event.appeal_by
        out.drafts.append(_seller_draft("appeal_late", event, context, to))
    elif (
        isinstance(event, CaseUpdated)
        and owed
        and event.change in (APPEAL_BEFORE_DECISION, APPEAL_REPEATED)
    ):
        context = _case_context(event, settings)
        context.update(
            # BEFORE_DECISION: nothing to appeal yet; OPEN: the first appeal awaits its result;
            # FINAL: the appeal was decided.
            answer=(
                "BEFORE_DECISION"
                if event.change == APPEAL_BEFORE_DECISION
                else "OPEN"
                if event.state == CaseState.APPEALED
                else "FINAL"
            ),
            state=event.state.value,
            state_words=wording.STATE_FOR_SELLER.get(event.state.value, "being worked on"),
            next_step_by=event.next_step_by,
        )
        out.drafts.append(_seller_draft("appeal_not_heard", event, context, to))
    elif isinstance(event, CaseUpdated) and event.change in (
        DECISION_OVERDUE,
        DECISION_STILL_OVERDUE,
    ):
        out.drafts.extend(_decision_overdue(event, settings, seller_address))
    elif isinstance(event, CaseUpdated) and owed and event.change == SELLER_WROTE:
        out.drafts.append(_message_answer(event, settings, to))
    elif isinstance(event, CaseUpdated) and event.change == PROPOSAL_REPLACED:
        out.drafts.extend(_proposal_replaced(event, settings, seller_address))
    elif isinstance(event, CaseUpdated) and owed and event.change == SETTLEMENT_OVERDUE:
        context = _case_context(event, settings)
        context.update(
            payout=event.decision.payout if event.decision else 0,
            late_since=event.occurred_at,
            **_settlement_wait(event),
        )
        # The new date is the one every waiting check is now held to.
        context["settlement_expected_by"] = event.next_step_by or context["settlement_expected_by"]
        out.drafts.append(_seller_draft("payment_delayed", event, context, to))
    elif isinstance(event, CaseAppealed) and owed and event.appealed_at is None:
        context = _case_context(event, settings)
        context["appealed_at"] = event.occurred_at
        context["decision_due_by"] = event.decision_due_by
        out.drafts.append(_seller_draft("appeal_received", event, context, to))
    elif isinstance(event, CaseSettled) and owed and _pays(event):
        assert event.decision is not None and event.ledger_transaction_id is not None
        context = _case_context(event, settings)
        context.update(
            payout=event.decision.payout,
            payment_reference=payment_reference(event.ledger_transaction_id),
            settled_at=event.occurred_at,
            paid_before=event.paid_before,
        )
        out.drafts.append(_seller_draft("settlement", event, context, to))
    elif isinstance(event, CaseUnderReview) and owed and timeline_moved(event):
        context = _case_context(event, settings)
        context.update(
            review_reason=wording.review_reason(
                event.previous_state,
                event.reason_code,
                event.facts_missing,
                facts_wait_h=event.facts_wait_h,
            ),
            # The code, so a translation gives the same reason (not the English words).
            review_reason_code=event.reason_code,
            facts_missing=list(event.facts_missing),
            facts_wait_h=event.facts_wait_h,
            decision_due_by=event.decision_due_by,
            date_given=review_date_given(event),
            previous_state=event.previous_state.value if event.previous_state else None,
            # A claim that reaches a person still without its checklist (E1's review): what
            # reached us and what the person deciding can still use, rather than "nothing to do".
            **evidence_so_far(event),
        )
        out.drafts.append(_seller_draft("timeline_change", event, context, to))
    elif isinstance(event, CaseDecided | CaseRejected):
        context = _decision_context(event, settings)
        appeal = event.previous_state == CaseState.APPEALED
        if owed:
            out.drafts.append(
                _seller_draft("appeal_outcome" if appeal else "decision", event, context, to)
            )
        reason_code = context["reason_code"]
        if (
            seller_address
            and isinstance(event, CaseRejected)
            and not appeal
            and reason_code in wording.EDUCATION_TITLES
            # A case the desk opened and the seller never claimed on (P2's window passed) is
            # not "a claim of yours" the digest could teach from; its email says so.
            and context["seller_claimed"]
        ):
            out.lessons.append(
                Lesson(
                    seller_id=event.seller_id,
                    recipient=seller_address,
                    dedup_key=f"{event.case_id}:policy_education:{event.case_version}",
                    topic=reason_code,
                    case_id=event.case_id,
                    context={
                        "case_id": event.case_id,
                        "return_id": event.return_id,
                        # In both languages now, from the policy that closed the claim.
                        **wording.education(reason_code, event.claim_terms),
                        **wording_hi.education(reason_code, event.claim_terms),
                    },
                )
            )
    elif isinstance(event, CaseEscalated):
        context = _case_context(event, settings)
        context.update(
            escalation_reason=event.escalation_reason,
            seller_explanation=wording.ESCALATION_FOR_SELLER.get(
                event.escalation_reason,
                "A senior member of the desk is now looking at your case personally.",
            ),
            reason=event.reason,
            escalated_at=event.occurred_at,
            # The next step's date: every seller email says when the seller hears from us next
            # (every escalation states it; an event from before it did gets no invented date).
            decision_due_by=event.decision_due_by,
            payout=event.decision.payout if event.decision else None,
            explanation=event.decision.explanation if event.decision else None,
            rule_id=event.decision.rule_id if event.decision else None,
            partner_id=event.partner_id,
        )
        if owed:
            out.drafts.append(_seller_draft("escalation_update", event, context, to))
        alert = {
            "SLA_BREACHED": "sla_breach_alert",
            "ABOVE_APPROVAL_CAP": "approval_cap_alert",
        }.get(event.escalation_reason)
        if alert:
            out.drafts.extend(
                _management_drafts(
                    alert,
                    f"{event.case_id}:{event.case_version}",
                    context,
                    settings,
                    event=event,
                    subject_key=event.return_id,
                )
            )
    return out


def compose_appeal_without_case(
    event: AppealWithoutCase, settings: NotificationsSettings, *, seller_address: str
) -> Composition:
    """The answer to an appeal there is nothing to hear on (`appeal_not_heard`, without the case
    lines): the return has no case (NO_CASE), or what the appeal names is another seller's
    (NOT_YOURS: that it is not theirs, nothing of that case). `seller_address` is NO_ADDRESS
    while the seller has none: the message is then held, as a case's are."""
    context = {
        "case_id": None,
        "return_id": event.return_id,
        "seller_id": event.seller_id,
        "answer": event.answer,
        "portal_url": settings.seller_portal_url,
        "signature": settings.desk_signature,
    }
    # One answer per appeal: a claim may be appealed more than once.
    once_per = f"appeal:{event.appeal_id}:{event.filed_at.isoformat()}"
    return _caseless_seller_message(
        "appeal_not_heard", once_per, context, seller_address, subject_key=event.return_id
    )


def compose_fraud_alert(event: FraudAlertRaised, settings: NotificationsSettings) -> Composition:
    context = {
        "alert_id": str(event.alert_id),
        "pattern": event.pattern,
        "pattern_words": event.pattern.replace("_", " ").lower(),
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "severity": event.severity.value,
        "summary": event.summary,
        "evidence": {str(k): v for k, v in sorted(event.evidence.items())},
        "suggested_action": event.suggested_action,
        "raised_at": event.raised_at,
        "signature": settings.desk_signature,
    }
    return Composition(
        drafts=_management_drafts(
            "fraud_alert",
            f"alert:{event.alert_id}",
            context,
            settings,
            subject_key=event.entity_id,
        )
    )


def team_recipients(team: str, settings: NotificationsSettings) -> list[str]:
    """The team's addresses from settings; management, and a team with none configured, are
    written to the management recipients."""
    return settings.team_recipients.get(team) or settings.management_recipients


def _task_context(event: CaseTaskEventBase, settings: NotificationsSettings) -> dict[str, Any]:
    return {
        "task_id": str(event.task_id),
        "case_id": event.case_id,
        "return_id": event.return_id,
        "team": event.team,
        "team_words": event.team.replace("_", " "),
        "ask": event.ask,
        "owner": event.owner,
        "due_at": event.due_at,
        "blocks_settlement": event.blocks_settlement,
        "opened_by": event.opened_by,
        "occurred_at": event.occurred_at,
        "escalation_reason": getattr(event, "escalation_reason", None),
        "has_report": bool(getattr(event, "report_html", None)),
        "signature": settings.desk_signature,
    }


def compose_task_event(event: CaseTaskEventBase, settings: NotificationsSettings) -> Composition:
    """A task opened emails its team; an escalation emails management with the case report
    attached; an overdue task alerts management. Once per task and template (dedup key)."""
    context = _task_context(event, settings)
    attachments: tuple[dict[str, str], ...] = ()
    if isinstance(event, CaseTaskOverdue):
        template, recipients, audience = (
            "task_overdue_alert",
            settings.management_recipients,
            MANAGEMENT,
        )
    elif isinstance(event, CaseTaskOpened) and event.escalation_reason is not None:
        template, recipients, audience = (
            "management_escalation",
            team_recipients(MANAGEMENT_TEAM, settings),
            MANAGEMENT,
        )
        if event.report_html:
            attachments = (
                {
                    "filename": f"case-{event.case_id}-report.html",
                    "content_type": "text/html",
                    "content": event.report_html,
                },
            )
    else:
        template, recipients, audience = (
            "task_opened",
            team_recipients(event.team, settings),
            MANAGEMENT if event.team == MANAGEMENT_TEAM else TEAM,
        )
    return Composition(
        drafts=[
            Draft(
                template=template,
                recipient=recipient,
                # One message per address, so a bounce or suppression affects only that one.
                dedup_key=f"{_task_message_key(event, template)}:{index}",
                context=context,
                audience=audience,
                case_id=event.case_id,
                return_id=event.return_id,
                subject_key=event.return_id,
                attachments=attachments,
            )
            for index, recipient in enumerate(recipients)
        ]
    )


def _task_message_key(event: CaseTaskEventBase, template: str) -> str:
    """Once per task and template; an overdue alert once per due time as well: a task given a new
    date (a held payment's, after it missed the seller's) alerts again if that one passes too.
    A task's first alert keeps the key it always had, so an event published before alerts
    were per due time, replayed, finds its message and alerts nobody twice."""
    if isinstance(event, CaseTaskOverdue) and event.alerted_before is not None:
        return f"task:{event.task_id}@{event.due_at.isoformat()}:{template}"
    return f"task:{event.task_id}:{template}"


def compose_partner_statement(
    event: PartnerStatementIssued, settings: NotificationsSettings
) -> Composition:
    """The month's statement to the partner's finance contact (settings), the CSV attached;
    once per partner and month."""
    context = {
        "partner_id": event.partner_id,
        "month": event.month,
        "opening_balance": event.opening_balance,
        "debits": event.debits,
        "reversals": event.reversals,
        "contests_filed": event.contests_filed,
        "contests_amount": event.contests_amount,
        "closing_balance": event.closing_balance,
        "lines": event.lines,
        "has_csv": event.statement_csv is not None,
        "issued_at": event.issued_at,
        "signature": settings.desk_signature,
    }
    attachments: tuple[dict[str, str], ...] = ()
    if event.statement_csv is not None:
        attachments = (
            {
                "filename": f"debit-statement-{event.partner_id}-{event.month}.csv",
                "content_type": "text/csv",
                "content": event.statement_csv,
            },
        )
    return Composition(
        drafts=[
            Draft(
                template="partner_statement",
                recipient=recipient,
                dedup_key=f"statement:{event.partner_id}:{event.month}:partner_statement:{i}",
                context=context,
                audience=PARTNER,
                subject_key=event.partner_id,
                attachments=attachments,
            )
            for i, recipient in enumerate(
                settings.partner_finance_contacts.get(event.partner_id, [])
            )
        ]
    )


def compose_feedback(
    event: SellerFeedbackReceived, settings: NotificationsSettings, *, seller_address: str | None
) -> Composition:
    if event.rating > NEGATIVE_RATING or not seller_address:
        return Composition()
    context = {
        "seller_id": event.seller_id,
        "feedback_id": event.feedback_id,
        "rating": event.rating,
        "feedback_text": event.text,
        "return_id": event.return_id,
        "received_at": event.received_at,
        "portal_url": settings.seller_portal_url,
        "signature": settings.desk_signature,
    }
    once_per = f"feedback:{event.feedback_id}"
    return _caseless_seller_message(
        "feedback_outreach", once_per, context, seller_address, subject_key=event.seller_id
    )


def digest_context(
    seller_id: str, lessons: list[dict[str, Any]], settings: NotificationsSettings
) -> dict[str, Any]:
    # One lesson per topic and tip: three rejections for the same reason teach one thing, but
    # a tip states its claim type's checklist and its policy's numbers, so two closures whose
    # tips differ (a damage claim and a missing-item one) each keep their own.
    by_topic: dict[tuple[str, str], dict[str, Any]] = {}
    for lesson in lessons:
        entry = by_topic.setdefault(
            (lesson["topic"], lesson["tip"]),
            {
                "topic": lesson["topic"],
                "title": lesson["title"],
                "tip": lesson["tip"],
                # Lessons stored before the Hindi was written with them take the Hindi words
                # without the policy's numbers.
                **(
                    {"title_hi": lesson["title_hi"], "tip_hi": lesson["tip_hi"]}
                    if "tip_hi" in lesson
                    else wording_hi.education(lesson["topic"], None)
                ),
                "case_ids": [],
            },
        )
        entry["case_ids"].append(lesson["case_id"])
    return {
        "seller_id": seller_id,
        "lessons": list(by_topic.values()),
        "case_ids": [lesson["case_id"] for lesson in lessons],
        "portal_url": settings.seller_portal_url,
        "signature": settings.desk_signature,
    }
