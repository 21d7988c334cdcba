"""How a case reacts to facts arriving from Kafka (returns, scans, escalations, evidence,
refunds, fraud assessments, appeals, email deliveries). Callers own the transaction."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases import repository, settlement
from services.reconciliation.cases.deadlines import (
    TimerKind,
    appeal_due_by,
    next_step_by,
    review_due_by,
    sync_timers,
)
from services.reconciliation.cases.decisions import (
    asks_for_evidence,
    decision_of,
    decision_record,
    evidence_told,
    expected_decision_by,
    facts_awaited,
    open_case,
    reevaluable,
    reevaluate,
    refresh_facts,
    start,
    verdict_for,
)
from services.reconciliation.cases.timeline import SYSTEM, decision_document, emit, note, publish
from services.reconciliation.cases.transitions import FILING_WINDOW_RULES, Move
from services.reconciliation.facts import repository as facts_repository
from services.reconciliation.facts.service import HELD, REFUSED, load_facts, own_scans
from services.reconciliation.models import Case, EscalationRecord
from services.reconciliation.policy import service as policies
from services.reconciliation.policy.explain import explain
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import (
    FINISHED_STATES,
    OPEN_STATES,
    Step,
    Verdict,
    e2_merge_into_open_case,
    e2b_duplicate_claim,
    evaluate_claim,
    evidence_shortfall,
    proactive_trigger,
    settled_by_partner_record,
)
from services.reconciliation.policy.sop_v1 import Policy
from shared.events import (
    AppealFiled,
    AppealWithoutCase,
    CaseAppealed,
    CaseOrigin,
    CaseRejected,
    CaseState,
    CaseUnderReview,
    CaseUpdated,
    ClaimType,
    DecisionRecord,
    EvidenceAdded,
    EvidenceRequested,
    FraudAssessed,
    RefundIssued,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    SettlementWait,
)

log = logging.getLogger(__name__)


async def on_return_fact(
    session: AsyncSession, *, return_id: str, now: datetime, p: Policy | None = None
) -> None:
    """A return or a partner scan arrived: re-run the case, or open a proactive one (P1–P3)."""
    case = await repository.lock_by_return(session, return_id)
    if case is not None and await _claimed_by_another_seller(session, case, now=now):
        case = None
    if await _release_held_claims(session, return_id=return_id, now=now, p=p):
        return
    if case is not None:
        if not await _reopen_closed_by_window(session, case, now=now, p=p):
            await reevaluate(session, case, now=now, p=p)
        return
    p = p or await policies.in_force(session, now)
    facts = await load_facts(session, case=None, return_id=return_id)
    trigger = proactive_trigger(facts, p, at=now)
    if trigger is None or facts.seller_id is None:
        return
    ret = await facts_repository.get_return(session, return_id)
    scans = own_scans(ret, await facts_repository.scans(session, return_id))
    trigger_types = {
        "P1": {"LOST", "DAMAGED_IN_TRANSIT"},
        "P2": {"DELIVERED_TO_SELLER"},
        "P3": {"PICKED_UP"},
    }[trigger.rule_id]
    trigger_scan = next((s for s in reversed(scans) if s.event_type in trigger_types), None)
    assert ret is not None
    case = await open_case(
        session,
        return_id=return_id,
        seller_id=facts.seller_id,
        origin=CaseOrigin.PROACTIVE,
        reason="",
        now=now,
        p=p,
        claim_type=trigger.claim_type,
        claimed_amount=ret.item_value,
        trigger_rule=trigger.rule_id,
        trigger_ce_id=trigger_scan.ce_id if trigger_scan else None,
    )
    reasons = {
        "P1": "The logistics partner declared the return lost or damaged in transit; the desk "
        "opened a case so the seller does not have to.",
        "P2": "The return reached the seller lighter than it was picked up; the desk opened a "
        "case and asks the seller for the evidence checklist.",
        "P3": "The partner picked the return up although its quality check failed; the desk "
        "opened a case so the seller does not have to.",
    }
    await start(
        session, case, reason=f"{trigger.rule_id}: {reasons[trigger.rule_id]}", now=now, p=p
    )


# The case of a claim closed by a filing window, reopened by a scan that reached us after the
# closure (no filing, so no acknowledgement of one: the decision that follows is the seller's
# next email).
REOPENED_ON_DECLARATION = "REOPENED_ON_DECLARATION"


async def _reopen_closed_by_window(
    session: AsyncSession, case: Case, *, now: datetime, p: Policy | None
) -> bool:
    """A claim closed for when it was filed (E3 after the delivery, E3b before the 10 days
    after pickup with no delivery, E3c after the 45) and a partner's scan that reaches us after
    the closure and takes the closure's ground away:

    - the partner's own record that settles the return by itself, whenever it was made: the
      parcel declared lost or damaged in transit (P1), or picked up after a failed QC (P3).
      Had it come first, the desk's P1/P3 case would have taken the claim and paid on the
      record without a window (`rules.settled_by_partner_record`);
    - a scan made by the time of the filing that the claim, judged again on the scans made by
      then, is not closed by a window on: a delivery scan behind a premature 'not received'
      (E3b is for a parcel not delivered; delivered, L4/L5 judge it). Had it come first, the
      claim would never have been closed.

    The same facts must not give nothing because the claim came first. The case reopens and
    the SOP judges the claim again; a scan made after the filing leaves the closure standing
    (the claim was premature when filed: the seller files again, E3b's refiling)."""
    previous = decision_of(case)
    state = CaseState(case.state)
    if previous is None or previous.rule_id not in FILING_WINDOW_RULES:
        return False
    if state not in (CaseState.REJECTED, CaseState.CLOSED, CaseState.APPEALED):
        return False
    p = p or await policies.for_case(session, case, now)
    facts = await refresh_facts(session, case)
    if not settled_by_partner_record(facts, p):
        if facts.filed_at is None:
            return False
        as_filed = await load_facts(
            session, case=case, return_id=case.return_id, scans_until=facts.filed_at
        )
        again = evaluate_claim(as_filed, p, facts_wait_over=True, fraud_wait_over=True)
        if again.step is Step.REJECT:
            return False
    case.facts_wait_over = False
    case.fraud_wait_over = False
    verdict = verdict_for(case, facts, now, p)
    if facts.declared_lost or facts.declared_damaged_in_transit:
        record = "declared the parcel " + ("lost" if facts.declared_lost else "damaged in transit")
    elif settled_by_partner_record(facts, p):
        record = "picked the parcel up after its quality check failed"
    else:
        record = "reported a scan made by the filing that the closure did not know"
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.REOPEN_ON_RECORD,
        actor=SYSTEM,
        now=now,
        reason=f"The partner {record}; the claim closed by {previous.rule_id} reopens without "
        "waiting for the seller to file again.",
        change=REOPENED_ON_DECLARATION,
        next_step_by=expected_decision_by(verdict, now, p),
    )
    # The seller was emailed the closure; the case's next answer says it no longer stands
    # (`timeline.emit` hands it to that answer's event).
    case.closure_reopened = {
        "rule_id": previous.rule_id,
        "reason_code": previous.reason_code,
        "closed_at": previous.decided_at.isoformat(),
        "appeal_answered": state is CaseState.APPEALED,
    }
    if state is CaseState.APPEALED:
        # The appeal is set aside until the claim's next answer: a decision hears it (as it
        # would have been heard had the record come first, `decisions.hear_appeal_set_aside`)
        # by the date its acknowledgement gave; a person's review answers it, not used up.
        if case.decision_promised_by is not None:
            case.closure_reopened["appeal_decision_due_by"] = case.decision_promised_by.isoformat()
        await facts_repository.answer_appeals_by_record(session, case.return_id)
    # Cleared after the move: the table's guard reads the decision being reopened.
    case.decision = None
    case.decided_at = None
    case.appeal_by = None
    await reevaluate(session, case, now=now, p=p)
    return True


async def _release_held_claims(
    session: AsyncSession, *, return_id: str, now: datetime, p: Policy | None
) -> bool:
    """The feed named the return's seller: claims held while two sellers claimed the unknown
    return are placed (the seller's) or refused (any other's). True when one was placed."""
    if await facts_repository.get_return(session, return_id) is None:
        return False
    held = [
        e for e in await facts_repository.escalations(session, return_id) if e.disposition == HELD
    ]
    placed = False
    for record in held:
        ret = await facts_repository.get_return(session, return_id)
        assert ret is not None
        if record.seller_id != ret.seller_id:
            record.disposition = REFUSED
            metrics.fact_refused(session, "escalation", "seller_mismatch")
            log.warning(
                "escalation refused (seller_mismatch): %s, return %s",
                record.escalation_id,
                return_id,
            )
            continue
        record.disposition = None
        await _place_escalation(
            session, record, now=now, p=p or await policies.in_force(session, now)
        )
        placed = True
    return placed


def _refused(
    session: AsyncSession,
    case: Case | None,
    *,
    kind: str,
    reason: str,
    detail: str,
    now: datetime,
    data: dict[str, Any],
) -> None:
    """Count, log (ids only) and, when the return has a case, note a fact that is not its
    return's: defence in depth behind intake's own checks."""
    metrics.fact_refused(session, kind, reason)
    log.warning("%s refused (%s): %s", kind, reason, json.dumps(data, default=str))
    if case is not None:
        note(
            session,
            case,
            kind="FACT_REFUSED",
            actor=SYSTEM,
            now=now,
            reason=detail,
            data={"kind": kind, "reason": reason, **data},
        )


async def refuse_foreign_scan(
    session: AsyncSession, *, event: ReturnShipmentEvent, now: datetime
) -> bool:
    """True (and the scan discarded) when the return is known and another partner's."""
    ret = await facts_repository.get_return(session, event.return_id)
    if ret is None or ret.partner_id == event.partner_id:
        return False
    await facts_repository.discard_scan(session, event)
    _refused(
        session,
        await repository.lock_by_return(session, event.return_id),
        kind="scan",
        reason="partner_mismatch",
        detail=f"A {event.event_type.value} scan from {event.partner_id} was refused: the "
        f"return is assigned to {ret.partner_id}.",
        now=now,
        data={
            "event_id": str(event.event_id),
            "partner_id": event.partner_id,
            "return_id": event.return_id,
        },
    )
    return True


async def _claimed_by_another_seller(session: AsyncSession, case: Case, *, now: datetime) -> bool:
    """The return arrived after a claim opened its case, and names another seller: the claim
    is closed without payout (`SELLER_MISMATCH`) and the case stops standing for the return, so
    the owner's own facts and filings open the owner's case as if this one never was. The owner
    is never written to about it; the claimant learns only that the return is not theirs."""
    ret = await facts_repository.get_return(session, case.return_id)
    if ret is None or ret.seller_id == case.seller_id:
        return False
    metrics.fact_refused(session, "escalation", "seller_mismatch")
    log.warning("case %s: claimant is not the return's seller; closed unpaid", case.case_id)
    for escalation in await facts_repository.escalations(session, case.return_id):
        if escalation.case_id == case.case_id:
            escalation.disposition = REFUSED
    p = await policies.for_case(session, case, now)
    if CaseState(case.state) in OPEN_STATES:
        facts = await load_facts(session, case=case, return_id=case.return_id)
        explanation = (
            # "your return" would contradict the very finding: the return is not theirs.
            f"About return {case.return_id}: the marketplace's record of this return "
            "reached us after your claim and does not list it among your returns, so we closed "
            "the claim without a payment. Please check the return id; if it was mistyped, file "
            "again with the right one."
        )
        record = decision_record(
            p=p,
            rule_id="E1",
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            reason_code="SELLER_MISMATCH",
        )
        case.decision = decision_document(session, record)
        case.decided_by = SYSTEM
        case.decided_at = now
        # No appeal window: an appeal of a return that is not the claimant's has nothing to
        # decide (and would be refused: the case no longer stands for the return).
        case.appeal_by = None
        case.proposal = None
        emit(
            session,
            case,
            CaseRejected,
            move=Move.REFUSE_CLAIMANT,
            actor=SYSTEM,
            now=now,
            reason="The return's feed entry names a seller other than the claimant's; the "
            "claim is closed without payout.",
            reason_code="SELLER_MISMATCH",
            decision=record,
            appeal_by=None,
        )
        metrics.decision_made(session, "E1", None)
    repository.detach(session, case, now=now)
    await sync_timers(session, case, now, p)
    return True


async def on_escalation(
    session: AsyncSession,
    *,
    escalation: SellerEscalationFiled,
    ce_id: UUID,
    now: datetime,
    p: Policy | None = None,
) -> None:
    if not await facts_repository.store_escalation(session, escalation, ce_id):
        return
    # New decisions on this escalation are taken under the version in force now.
    p = p or await policies.in_force(session, now)
    record = await facts_repository.get_escalation(session, escalation.escalation_id)
    assert record is not None
    await _place_escalation(session, record, now=now, p=p)


async def _place_escalation(
    session: AsyncSession, record: EscalationRecord, *, now: datetime, p: Policy
) -> None:
    """Open, join or answer the return's case with a stored escalation (E2, E2b, E3b reopen)."""
    case = await repository.lock_by_return(session, record.return_id)
    ret = await facts_repository.get_return(session, record.return_id)
    if ret is not None and ret.seller_id != record.seller_id:
        record.disposition = REFUSED
        _refused(
            session,
            case,
            kind="escalation",
            reason="seller_mismatch",
            detail=f"Escalation {record.escalation_id} was refused: it was filed by a seller "
            "other than the return's.",
            now=now,
            data={"escalation_id": record.escalation_id, "return_id": record.return_id},
        )
        return
    if ret is None and case is not None and case.seller_id != record.seller_id:
        # Two sellers claim a return the feed has not announced: whose it is, the feed will
        # tell. This claim joins nothing meanwhile, and neither seller hears of the other
        # (`_release_held_claims` places it once the feed names the return's seller).
        record.disposition = HELD
        record.case_id = None
        return
    state = CaseState(case.state) if case else None
    label = f"{record.claim_type} claim {record.escalation_id}"

    if case is None:
        record.disposition = "PRIMARY"
        case = await open_case(
            session,
            return_id=record.return_id,
            seller_id=record.seller_id,
            origin=CaseOrigin.SELLER,
            reason="",
            now=now,
            p=p,
            claim_type=ClaimType(record.claim_type),
            claimed_amount=record.claimed_amount,
            seller_contact=record.seller_contact,
            primary_escalation_id=record.escalation_id,
        )
        record.case_id = case.case_id
        await start(
            session,
            case,
            now=now,
            p=p,
            reason=f"Seller filed {label} through {record.channel.lower()}.",
        )
        return

    record.case_id = case.case_id
    merge = e2_merge_into_open_case(state)
    if merge is not None:
        adopt = case.primary_escalation_id is None
        record.disposition = "PRIMARY" if adopt else "MERGED"
        if adopt:
            # A proactive case meets the seller's own claim: the claim governs from now on.
            case.primary_escalation_id = record.escalation_id
            case.claim_type = record.claim_type
            case.claimed_amount = record.claimed_amount
            case.seller_contact = record.seller_contact or case.seller_contact
        elif case.seller_contact is None:
            case.seller_contact = record.seller_contact
        # A claim still without its checklist on a case not asking for it (E1 first, or a
        # person deciding): the filing is told what may still be asked for or used, not that
        # it has nothing to do. A case waiting for evidence already asks; so does one whose
        # next verdict is E4 (a claim adopted by a case waiting for the fraud check, or by one
        # the SOP handed to a person for want of an assessment): the request goes out in the
        # same moment and the acknowledgement says it follows, not "once the records are in".
        asks_now = False
        told: dict[str, Any] = {}
        awaited: dict[str, Any] = {}
        if state is not CaseState.AWAITING_EVIDENCE:
            facts = await refresh_facts(session, case)
            verdict = verdict_for(case, facts, now, p) if reevaluable(case) else None
            asks_now = verdict is not None and verdict.step is Step.AWAIT_EVIDENCE
            told = {} if asks_now else evidence_told(case, facts, p)
            if verdict is not None:
                # A filing joining E1's wait is told what is awaited and the wait's own end,
                # as the first filing was: the wait's timer when it runs, else the wait that
                # starts now (a claim adopted by a case that waited for nothing of the sort).
                running = case.timer_kind == TimerKind.FACTS_WAIT and case.timer_due_at
                until = case.timer_due_at if running else None
                awaited = facts_awaited(
                    facts, verdict, until=until or now + timedelta(hours=p.timers.facts_wait_h)
                )
        emit(
            session,
            case,
            CaseUpdated,
            move=Move.MERGE_ESCALATION,
            actor=SYSTEM,
            reason=f"E2: {label} merged into the open case of this return.",
            now=now,
            waiting_for=case.waiting_for,
            reason_code=case.reason_code,
            change="ESCALATION_MERGED",
            # A claim adopted by a case waiting for the P2 evidence is judged afresh (E4: its
            # own checklist and reply-by, the later of its 72 h and the P2 window, in the email
            # that follows): no date here beside that one.
            next_step_by=None
            if (adopt and state is CaseState.AWAITING_EVIDENCE) or asks_now
            else next_step_by(case, p),
            **told,
            asks_for_evidence=asks_now,
            **awaited,
        )
        if adopt and state in (CaseState.AWAITING_EVIDENCE, CaseState.OPEN):
            case.evidence_requested_by = SYSTEM if state is CaseState.AWAITING_EVIDENCE else None
        await reevaluate(session, case, now=now, p=p)
        return

    previous = decision_of(case)
    if (
        previous is not None
        and previous.rule_id == "E3b"
        and state in (CaseState.REJECTED, CaseState.CLOSED)
    ):
        # E3b told the seller to file again once the waiting period is over: that new filing
        # reopens the case instead of being turned away as a duplicate. A refiling that is
        # itself still premature (E3b again: no delivery, still inside the waiting period)
        # does not: reopening would acknowledge it and close it again in the same moment, two
        # emails saying opposite things. The case stays closed and the seller is told once
        # that it is still too early, and from when to file.
        facts = await refresh_facts(session, case)
        refiled = replace(
            facts,
            claim_type=ClaimType(record.claim_type),
            claimed_amount=record.claimed_amount,
            filed_at=record.filed_at,
        )
        # Judged as the reopened case would judge it: its waits start afresh (the closed
        # case's spent waits would skip the wait for a delivery scan still on its way).
        again = evaluate_claim(refiled, p)
        if again.rule_id == "E3b":
            # An appeal already decided on the closure cannot be offered again.
            appeal_by = None if await _appeal_decided(session, case) else case.appeal_by
            _refuse_premature_refiling(
                session,
                case,
                record,
                again,
                refiled,
                now=now,
                p=p,
                label=label,
                appeal_by=appeal_by,
            )
            return
        record.disposition = "PRIMARY"
        case.primary_escalation_id = record.escalation_id
        case.claim_type = record.claim_type
        case.claimed_amount = record.claimed_amount
        case.seller_contact = record.seller_contact or case.seller_contact
        await _cancel_primary(session, case)
        case.facts_wait_over = False
        case.fraud_wait_over = False
        # The new filing is judged afresh, as a first filing is: its acknowledgement gives the
        # date, the waits and the evidence request its first verdict leads to (a refiling of
        # another claim type may wait for a scan or need evidence: a flat review SLA promised
        # a date the wait or the reply-by then overran, and "nothing to do" before a request).
        facts = await refresh_facts(session, case)
        verdict = verdict_for(case, facts, now, p)
        asks = asks_for_evidence(case, facts, verdict, p)
        emit(
            session,
            case,
            CaseUpdated,
            move=Move.REOPEN,
            actor=SYSTEM,
            now=now,
            reason=f"The seller filed again ({label}) after a premature claim; the case reopens.",
            change="REOPENED",
            next_step_by=expected_decision_by(verdict, now, p),
            **facts_awaited(facts, verdict, until=now + timedelta(hours=p.timers.facts_wait_h)),
            asks_for_evidence=asks,
            asks_once_facts_are_in=asks and verdict.step is Step.WAIT_FACTS,
        )
        # Cleared after the move: the table's guard reads the E3b decision being reopened.
        case.decision = None
        case.decided_at = None
        case.appeal_by = None
        await reevaluate(session, case, now=now, p=p)
        return

    duplicate = e2b_duplicate_claim(state, is_appeal=False)
    if duplicate is not None:
        record.disposition = "DUPLICATE"
        facts = await load_facts(session, case=case, return_id=case.return_id)
        explanation = explain(duplicate, facts, p, return_id=case.return_id)
        decision = decision_record(
            p=p,
            rule_id="E2b",
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            reason_code="DUPLICATE_CLAIM",
        )
        if case.seller_contact is None:
            # A case with no reply address (one the desk opened itself) takes the filing's,
            # so the duplicate's answer reaches the seller who just wrote.
            case.seller_contact = record.seller_contact
        emit(
            session,
            case,
            CaseUpdated,
            move=Move.REFUSE_DUPLICATE,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            waiting_for=case.waiting_for,
            reason_code=case.reason_code,
            decision=decision,
            change="DUPLICATE_CLAIM_REJECTED",
            # The seller's next date on the first case; none once an appeal was decided (final).
            appeal_by=None if await _appeal_decided(session, case) else case.appeal_by,
            # Under appeal, the next date is the appeal's result, not the appeal-by.
            next_step_by=next_step_by(case, p),
            settlement_waits=await _payment_waits(session, case, now=now),
            data={"escalation_id": record.escalation_id},
        )
        metrics.decision_made(session, "E2b", None)


def _refuse_premature_refiling(
    session: AsyncSession,
    case: Case,
    record: EscalationRecord,
    verdict: Verdict,
    facts: Facts,
    *,
    now: datetime,
    p: Policy,
    label: str,
    appeal_by: datetime | None,
) -> None:
    """A filing after an E3b closure that E3b would close again: kept on record (never the
    case's claim), answered with the E3b paragraph for this filing (its pickup day and the
    moment from which a not-received claim can be filed) at the address it came from, as a
    reopening would be. The closed case and its decision, appeal-by included, stand; the
    answer offers the appeal only while it is still the seller's to make (`appeal_by`)."""
    record.disposition = "PREMATURE"
    case.seller_contact = record.seller_contact or case.seller_contact
    explanation = explain(verdict, facts, p, return_id=case.return_id)
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.REFUSE_PREMATURE_REFILING,
        actor=SYSTEM,
        reason=f"The seller filed again ({label}) before the return could be claimed as not "
        "received; the premature claim's closure stands.",
        now=now,
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        decision=decision_record(
            p=p,
            rule_id=verdict.rule_id,
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            reason_code=verdict.reason_code,
        ),
        change="REFILED_TOO_EARLY",
        appeal_by=appeal_by,
        data={"escalation_id": record.escalation_id},
    )
    metrics.decision_made(session, "E3b", None)


async def _payment_waits(
    session: AsyncSession, case: Case, *, now: datetime
) -> list[SettlementWait]:
    """On a decided case whose payment still waits for a team (`DECIDED` rests only then):
    whom it waits for and until when, under the policy that decided it, so a seller filing
    again hears that the money has not moved yet rather than only "decided". No query for any
    other case."""
    if CaseState(case.state) is not CaseState.DECIDED or not case.decision:
        return []
    record = DecisionRecord.model_validate(case.decision)
    if record.payout <= 0:
        return []
    p = await policies.for_case(session, case, now)
    return await settlement.hooks().waits(session, case=case, record=record, p=p, now=now)


async def _appeal_decided(session: AsyncSession, case: Case) -> bool:
    """Whether the case's decision is an appeal's (the SOP allows one appeal; its decision is
    final): an appeal was accepted and the case has left `APPEALED`."""
    if CaseState(case.state) is CaseState.APPEALED:
        return False
    return any(
        a.disposition == "ACCEPTED" for a in await facts_repository.appeals(session, case.return_id)
    )


async def _cancel_primary(session: AsyncSession, case: Case) -> None:
    """The earlier filing stops being the case's claim (it stays on record)."""
    for e in await facts_repository.escalations(session, case.return_id):
        if (
            e.case_id == case.case_id
            and e.disposition == "PRIMARY"
            and e.escalation_id != case.primary_escalation_id
        ):
            e.disposition = "SUPERSEDED"


async def on_evidence(
    session: AsyncSession,
    *,
    event: EvidenceAdded,
    ce_id: UUID,
    now: datetime,
    p: Policy | None = None,
) -> None:
    if not await facts_repository.store_evidence(session, event, ce_id):
        return
    case = await repository.lock_by_return(session, event.return_id)
    escalation = await facts_repository.get_escalation(session, event.escalation_id)
    if escalation is not None and (
        escalation.disposition == REFUSED or escalation.seller_id != event.seller_id
    ):
        # Kept on record, never read as a fact (`load_facts` skips refused escalations').
        _refused(
            session,
            case,
            kind="evidence",
            reason="seller_mismatch",
            detail=f"Evidence for escalation {event.escalation_id} was refused: it is not a "
            "claim of this return's seller.",
            now=now,
            data={"escalation_id": event.escalation_id, "return_id": event.return_id},
        )
        return
    if case is None or (escalation is not None and escalation.disposition == HELD):
        return  # kept; the case that opens (or the claim once placed) reads it
    state = CaseState(case.state)
    kinds = ", ".join(sorted({e.kind.value for e in event.evidence})) or "a received weight"
    if state not in OPEN_STATES:
        # Decided cases are not re-judged by a fact; the seller who sent it is still answered:
        # kept on the case, and what may still change the decision (an appeal) or that it is
        # final.
        await answer_seller_message(
            session,
            case,
            actor=event.seller_id,
            now=now,
            what=f"Evidence added after the decision ({kinds}).",
            evidence=dict(Counter(e.kind.value for e in event.evidence)),
            weight_g=event.received_weight_g,
        )
        return
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.ADD_EVIDENCE,
        actor=event.seller_id,
        now=now,
        reason=f"The seller added evidence: {kinds}.",
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        change="EVIDENCE_ADDED",
    )
    if state is CaseState.AWAITING_EVIDENCE and case.evidence_requested_by not in (None, SYSTEM):
        requester = case.evidence_requested_by
        p = p or await policies.for_case(session, case, now)
        emit(
            session,
            case,
            CaseUnderReview,
            move=Move.SEND_TO_REVIEW,
            actor=SYSTEM,
            now=now,
            reason=f"The evidence {requester} asked for arrived; the case is back with the desk.",
            reason_code="EVIDENCE_RECEIVED",
            decision_due_by=review_due_by(case, now, p),
        )
        await sync_timers(session, case, now, p)
        return
    # Asked already before this evidence came: a request this very evaluation makes (a case
    # that was OPEN) is the first one, not to be followed by a second in the same breath.
    asked_before = state is CaseState.AWAITING_EVIDENCE and case.reason_code in CHECKLIST_REQUESTS
    added = case.version
    await reevaluate(session, case, now=now, p=p)
    if asked_before:
        await _ask_for_the_rest(session, case, now=now, p=p)
    if case.version == added and (
        CaseState(case.state) in WITH_A_PERSON or waits_for_records(case)
    ):
        # Nothing moved: a person decides (a review, management), or E1 waits for the return's
        # records (up to its 48 hours), and the seller who sent evidence, invited to by the
        # acknowledgement, would hear nothing until that decision or the wait's end, days later.
        await answer_seller_message(
            session,
            case,
            actor=event.seller_id,
            now=now,
            what=f"The seller added evidence ({kinds}) while "
            + (
                "the case waits for the return's records."
                if waits_for_records(case)
                else "a person decides the case."
            ),
            evidence=dict(Counter(e.kind.value for e in event.evidence)),
            weight_g=event.received_weight_g,
        )


def waits_for_records(case: Case) -> bool:
    """E1's wait for the return's record or its delivery scan (`PENDING_FACTS`, up to the
    facts wait's hours), not the minutes-long waits for scans or the fraud check, which end
    in the case's own next email."""
    return CaseState(case.state) is CaseState.OPEN and case.waiting_for == "PENDING_FACTS"


# States in which a person, not the SOP, decides next: evidence that moves nothing there is
# answered on its own (`answer_seller_message`).
WITH_A_PERSON = (CaseState.UNDER_REVIEW, CaseState.ESCALATED)


# The SOP's own evidence requests, answered when evidence leaves them unmet: a claim's (E4) and
# the one a weight-drop case the desk opened asks of its seller (P2).
CHECKLIST_REQUESTS = ("EVIDENCE_MISSING", "WEIGHT_DROP_CHECKLIST")


async def _ask_for_the_rest(
    session: AsyncSession, case: Case, *, now: datetime, p: Policy | None
) -> None:
    """Evidence arrived but does not complete the SOP's checklist (E4 or P2 still waits): the
    seller is asked again, told what reached us, by the first request's reply-by (the wait is
    not extended). Without it the seller, whose evidence cancelled the reminder, heard nothing
    until the claim closed unpaid "without the evidence"."""
    if (
        CaseState(case.state) is not CaseState.AWAITING_EVIDENCE
        or case.evidence_requested_by != SYSTEM
        or case.reason_code not in CHECKLIST_REQUESTS
        or case.reply_by is None
        or case.claim_type is None
    ):
        return
    p = p or await policies.for_case(session, case, now)
    facts = await load_facts(session, case=case, return_id=case.return_id)
    emit(
        session,
        case,
        EvidenceRequested,
        move=Move.REQUEST_EVIDENCE,
        actor=SYSTEM,
        now=now,
        reason="The evidence received does not complete the checklist yet; the seller is told "
        "what reached us and what is still needed, by the same reply-by.",
        waiting_for="EVIDENCE",
        reason_code=case.reason_code,
        checklist=list(p.evidence[ClaimType(case.claim_type)].checklist),
        reply_by=case.reply_by,
        received=dict(facts.evidence_counts),
        received_weight_g=facts.received_weight_g,
        answers_evidence=True,
        still_needed=evidence_shortfall(facts, p),
    )


async def on_refund(session: AsyncSession, *, event: RefundIssued, now: datetime) -> None:
    """The buyer's refund is part of the return's story; the SOP does not read it."""
    case = await repository.get_by_return(session, event.return_id)
    if case is not None:
        note(
            session,
            case,
            kind="REFUND_ISSUED",
            actor="marketplace",
            now=now,
            reason=f"Refund {event.refund_id} of {event.amount} paise issued to the buyer.",
            data={"refund_id": event.refund_id, "amount": event.amount},
        )


async def on_assessment(
    session: AsyncSession, *, event: FraudAssessed, now: datetime, p: Policy | None = None
) -> None:
    if not await facts_repository.store_assessment(session, event):
        return
    case = await repository.lock_by_return(session, event.return_id)
    if case is None:
        return
    if event.revision:
        # Fraud learnt more about a party after the first assessment. An undecided case is
        # decided on the new band below; a decided one keeps its decision, and the desk sees
        # why it may want to revisit it (an appeal, a recovery).
        top = event.reasons[0] if event.reasons else None
        note(
            session,
            case,
            kind="FRAUD_REASSESSED",
            actor="fraud",
            now=now,
            reason=f"Fraud re-assessed this return {event.band.value} (revision "
            f"{event.revision})" + (f": {top.code} {top.detail}" if top else "."),
            data={
                "assessment_id": str(event.assessment_id),
                "revision": event.revision,
                "band": event.band.value,
                "score": event.score,
            },
        )
    await reevaluate(session, case, now=now, p=p)


async def on_appeal(
    session: AsyncSession,
    *,
    event: AppealFiled,
    ce_id: UUID,
    now: datetime,
    p: Policy | None = None,
) -> None:
    case = await repository.lock_by_return(session, event.return_id)
    state = CaseState(case.state) if case else None
    escalation = await facts_repository.get_escalation(session, event.escalation_id)
    # Intake files an appeal only for the return's own seller (404 to anyone else); an event
    # reaching Kafka another way is refused here if anything it names belongs to someone else:
    # the escalation it appeals (another seller's, another return's, or refused), or the case.
    if (
        escalation is not None
        and (
            escalation.disposition == REFUSED
            or escalation.seller_id != event.seller_id
            or escalation.return_id != event.return_id
        )
    ) or (case is not None and event.seller_id != case.seller_id):
        if not await facts_repository.store_appeal(session, event, ce_id, REFUSED):
            return
        # The appealing seller is answered too: what it names is not theirs, and nothing more.
        _answer_appeal_without_case(session, event, None, now=now, answer="NOT_YOURS")
        _refused(
            session,
            case,
            kind="appeal",
            reason="seller_mismatch",
            detail=f"An appeal on escalation {event.escalation_id} was refused: it is not by "
            "this case's seller.",
            now=now,
            data={"escalation_id": event.escalation_id, "return_id": event.return_id},
        )
        return
    if case is None or state not in FINISHED_STATES or case.decided_at is None:
        if await _answered_already(session, case, event, ce_id, "NOTHING_TO_APPEAL"):
            return
        if case is None:
            _answer_appeal_without_case(session, event, escalation, now=now)
        else:
            await _answer_unheard_appeal(
                session,
                case,
                event,
                kind="APPEAL_IGNORED",
                change="APPEAL_BEFORE_DECISION",
                reason="An appeal arrived but the case has no decision to appeal yet.",
                now=now,
                p=p,
            )
        return
    if state is CaseState.APPEALED or await _appeal_decided(session, case):
        if await _answered_already(session, case, event, ce_id, "ALREADY_APPEALED"):
            return
        await _answer_unheard_appeal(
            session,
            case,
            event,
            kind="APPEAL_REPEATED",
            change="APPEAL_REPEATED",
            reason="A further appeal arrived while the first one is open."
            if state is CaseState.APPEALED
            else "A further appeal arrived after the appeal was decided; that decision is final.",
            now=now,
            p=p,
        )
        return
    if case.appeal_by is not None and event.filed_at > case.appeal_by:
        if await _answered_already(session, case, event, ce_id, "LATE"):
            return
        # A move in place rather than a note: the seller is owed an answer (the window's end),
        # and the event is what notifications writes it from. The decision stands.
        emit(
            session,
            case,
            CaseUpdated,
            move=Move.REFUSE_LATE_APPEAL,
            actor=event.seller_id,
            now=now,
            kind="APPEAL_LATE",
            reason=f"Appeal filed {event.filed_at.isoformat()}, after the appeal window "
            f"closed at {case.appeal_by.isoformat()}.",
            waiting_for=case.waiting_for,
            reason_code=case.reason_code,
            change="APPEAL_LATE",
            appeal_by=case.appeal_by,
            data={"escalation_id": event.escalation_id, "filed_at": event.filed_at.isoformat()},
        )
        return
    if not await facts_repository.store_appeal(session, event, ce_id, "ACCEPTED"):
        return
    # The appeal is judged under the version that decided the case, whatever is in force now.
    p = p or await policies.for_case(session, case, now)
    emit(
        session,
        case,
        CaseAppealed,
        move=Move.APPEAL,
        actor=event.seller_id,
        now=now,
        reason=f"The seller appealed: {event.reason}",
        decision=None,
        decision_due_by=appeal_due_by(now, p),
        data={"escalation_id": event.escalation_id},
    )
    await sync_timers(session, case, now, p)


# The moves that answer a seller's appeal: the hearing itself and each answer of one not heard.
_APPEAL_ANSWERS = frozenset({"CaseAppealed", "APPEAL_REPEATED", "APPEAL_IGNORED", "APPEAL_LATE"})


async def _answered_already(
    session: AsyncSession,
    case: Case | None,
    event: AppealFiled,
    ce_id: UUID,
    disposition: str,
) -> bool:
    """Store an appeal the SOP does not hear, with why; whether its answer is out already: the
    same event delivered again (stored before), or a word-for-word repeat of the seller's
    appeal just answered, with nothing moved on the case since — a double click, a retry
    without an Idempotency-Key, ten copies at once. The seller holds the answer already (the
    hearing's acknowledgement, or why it is not heard), so a copy is stored and answered by
    nothing; each copy once wrote its own "already with a manager" email. Intake cannot judge
    this (it does not know the case), and the premature appeal sent again once the case is
    decided must still be heard: the decision is a move, so the same words after it are a new
    appeal."""
    if not await facts_repository.store_appeal(session, event, ce_id, disposition):
        return True
    before = await facts_repository.previous_appeal(session, event.return_id, other_than=ce_id)
    if before is None or before.seller_id != event.seller_id or before.reason != event.reason:
        return False
    if case is None:
        # No case to move: the answer would be the one the first copy got.
        return before.disposition == disposition
    last = await repository.last_entry(session, case, passing=repository.TELLING)
    return last is not None and last.kind in _APPEAL_ANSWERS and last.actor == event.seller_id


async def _answer_unheard_appeal(
    session: AsyncSession,
    case: Case,
    event: AppealFiled,
    *,
    kind: str,
    change: str,
    reason: str,
    now: datetime,
    p: Policy | None,
) -> None:
    """An appeal the SOP does not hear changes nothing on the case, but the seller who sent it
    is answered (intake accepted it without judging it): a move in place whose event carries
    the date the seller holds, which notifications words as `appeal_not_heard`."""
    p = p or await policies.for_case(session, case, now)
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.ANSWER_UNHEARD_APPEAL,
        actor=event.seller_id,
        now=now,
        kind=kind,
        reason=reason,
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        change=change,
        next_step_by=next_step_by(case, p),
        data={"escalation_id": event.escalation_id, "filed_at": event.filed_at.isoformat()},
    )


def _answer_appeal_without_case(
    session: AsyncSession,
    event: AppealFiled,
    escalation: EscalationRecord | None,
    *,
    now: datetime,
    answer: Literal["NO_CASE", "NOT_YOURS"] = "NO_CASE",
) -> None:
    """An appeal with no case of the seller's (or naming another seller's) has nothing to hear;
    without a case of theirs to move there is no transition to carry the answer, so the answer
    is its own event (on the return's key, after the appeal), and notifications words it as
    `appeal_not_heard`.
    `escalation` is the appealing seller's own claim, whose reply address the answer goes to;
    None for one of another seller's, whose address is not theirs to be written at."""
    publish(
        session,
        AppealWithoutCase(
            appeal_id=event.escalation_id,
            return_id=event.return_id,
            seller_id=event.seller_id,
            filed_at=event.filed_at,
            occurred_at=now,
            seller_contact=escalation.seller_contact if escalation else None,
            answer=answer,
        ),
        subject=event.return_id,
        now=now,
    )


SELLER_WROTE = "SELLER_WROTE"


async def answer_seller_message(
    session: AsyncSession,
    case: Case,
    *,
    actor: str,
    now: datetime,
    what: str,
    evidence: dict[str, int] | None = None,
    weight_g: int | None = None,
) -> None:
    """A seller's message that nothing else on the case answers (evidence or a reply after
    the decision; a reply of text alone to an open case) gets its answer: one `CaseUpdated`
    `SELLER_WROTE` per message (the consumer's inbox keeps a redelivery from making a second),
    carrying what the seller's next step and date are, as a duplicate filing's answer does:
    the appeal-by while it is ahead, the appeal's result date, a payment still waiting, or on
    an open case the date the seller holds and what the evidence still lacks."""
    state = CaseState(case.state)
    p = await policies.for_case(session, case, now)
    told: dict[str, Any] = {}
    if state in OPEN_STATES:
        facts = await load_facts(session, case=case, return_id=case.return_id)
        told = evidence_told(case, facts, p)
        if waits_for_records(case) and case.timer_kind == TimerKind.FACTS_WAIT:
            # E1's wait: which record is awaited and the wait's end, as the acknowledgement
            # said, so the answer does not read as if a person were already on the case.
            told |= facts_awaited(
                facts, verdict_for(case, facts, now, p), until=case.timer_due_at or now
            )
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.ANSWER_SELLER_MESSAGE,
        actor=actor,
        reason=what,
        now=now,
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        decision=decision_of(case) if state in FINISHED_STATES else None,
        change=SELLER_WROTE,
        appeal_by=None
        if state in OPEN_STATES or await _appeal_decided(session, case)
        else case.appeal_by,
        next_step_by=next_step_by(case, p),
        settlement_waits=await _payment_waits(session, case, now=now),
        message_evidence=evidence or {},
        message_weight_g=weight_g,
        **told,
    )


def seller_replied(case: Case, *, received_at: datetime) -> None:
    """A seller's reply on the case: unread until the desk reads it (the queue filters on it)."""
    if case.seller_unread_since is None or received_at < case.seller_unread_since:
        case.seller_unread_since = received_at
    if case.seller_last_reply_at is None or received_at > case.seller_last_reply_at:
        case.seller_last_reply_at = received_at


def seller_replies_read(case: Case, *, read_through: datetime) -> None:
    """The desk read the replies up to `read_through`. A reply newer than that (one that came
    in while the desk was reading) stays unread; its exact time is not known here, so the
    newest reply's time stands for it."""
    last = case.seller_last_reply_at
    if last is None or last <= read_through:
        case.seller_unread_since = None
    elif case.seller_unread_since is None or case.seller_unread_since <= read_through:
        case.seller_unread_since = last


def record_delivery(
    session: AsyncSession, case: Case, *, kind: str, reason: str, at: datetime, data: dict[str, Any]
) -> None:
    """An email about the case went out (or could not): part of the case's story, not a move."""
    note(session, case, kind=kind, actor="notifications", reason=reason, now=at, data=data)
