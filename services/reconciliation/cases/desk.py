"""The review desk's actions on a case: assign, note, request evidence, escalate, decide,
approve (four eyes) and decide appeals. Each locks the case row first; nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.cases import repository, settlement
from services.reconciliation.cases.deadlines import escalation_due_by, sync_timers
from services.reconciliation.cases.decisions import (
    decide_and_settle,
    decision_record,
    ensure_owner_verified,
    proposal_id,
    refresh_facts,
    settle_unless_held,
)
from services.reconciliation.cases.errors import (
    AppealNeedsAnotherDecider,
    CaseNotFound,
    CaseStateConflict,
    EvidenceAlreadyRequested,
    OverturnIncomplete,
    ProposalSuperseded,
    ProposerCannotApprove,
)
from services.reconciliation.cases.timeline import decision_document, emit, seller_claimed
from services.reconciliation.cases.transitions import Move
from services.reconciliation.ledger import service as ledger
from services.reconciliation.models import Case
from services.reconciliation.policy import service as policies
from services.reconciliation.policy.explain import (
    as_approved,
    dismissed_appeal,
    explain_manual,
)
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import (
    above_approval_cap,
    compute_amounts,
)
from services.reconciliation.policy.sop_v1 import Policy
from shared.events import (
    CaseDecided,
    CaseEscalated,
    CaseNoteAdded,
    CaseSettled,
    CaseState,
    CaseUpdated,
    DecisionRecord,
    EvidenceRequested,
    LiableParty,
)

DESK_DECIDABLE = frozenset(
    {CaseState.OPEN, CaseState.AWAITING_EVIDENCE, CaseState.UNDER_REVIEW, CaseState.ESCALATED}
)


async def _locked(session: AsyncSession, case_id: str) -> Case:
    case = await repository.lock(session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def _conflict(case: Case, action: str) -> CaseStateConflict:
    return CaseStateConflict(case.case_id, case.state, action)


async def assign(
    session: AsyncSession, *, case_id: str, assignee: str, actor: str, now: datetime
) -> Case:
    case = await _locked(session, case_id)
    case.assignee = assignee
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.ASSIGN,
        actor=actor,
        now=now,
        reason=f"Assigned to {assignee}.",
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        change="ASSIGNED",
        data={"assignee": assignee},
    )
    return case


async def add_note(
    session: AsyncSession,
    *,
    case_id: str,
    note: str,
    actor: str,
    now: datetime,
    kind: str = "NOTE",
    data: dict[str, Any] | None = None,
) -> Case:
    case = await _locked(session, case_id)
    emit(
        session,
        case,
        CaseNoteAdded,
        move=Move.NOTE,
        actor=actor,
        now=now,
        reason=note,
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        note=note,
        call_counterpart=(data or {}).get("counterpart") if kind == "CALL_LOGGED" else None,
        kind=kind,
        data=data,
    )
    return case


async def request_evidence(
    session: AsyncSession,
    *,
    case_id: str,
    checklist: list[str],
    reason: str,
    actor: str,
    now: datetime,
    p: Policy | None = None,
) -> Case:
    case = await _locked(session, case_id)
    p = p or await policies.for_case(session, case, now)
    if CaseState(case.state) not in DESK_DECIDABLE:
        raise _conflict(case, "request evidence")
    await _refuse_the_same_request_unanswered(session, case, checklist, reason)
    reply_by = now + timedelta(hours=p.timers.evidence_reply_h)
    emit(
        session,
        case,
        EvidenceRequested,
        move=Move.REQUEST_EVIDENCE,
        actor=actor,
        now=now,
        reason=reason,
        waiting_for="EVIDENCE",
        reason_code="DESK_REQUEST",
        checklist=checklist,
        reply_by=reply_by,
    )
    case.reply_by = reply_by
    case.evidence_requested_by = actor
    await sync_timers(session, case, now, p)
    return case


async def _refuse_the_same_request_unanswered(
    session: AsyncSession, case: Case, checklist: list[str], reason: str
) -> None:
    """The case's last move was this very request (same checklist and reason): the same request
    sent again (a double click, a retry without an Idempotency-Key, two agents at once) emailed
    the seller once for each copy, each with a later reply-by. The case row's lock orders racing
    copies, so the second sees the first's move. Anything that moved the case since (the
    seller's evidence, a note, another request) makes asking again a new request; an email
    going out (this request's, or a task's opened just before) moves nothing (hostile8: a
    task's email landing between two copies let the second ask the seller again)."""
    if CaseState(case.state) is not CaseState.AWAITING_EVIDENCE or case.reply_by is None:
        return
    entry = await repository.last_entry(session, case, passing=repository.TELLING)
    if entry is None or entry.kind != EvidenceRequested.__name__ or entry.reason != reason:
        return
    event = (entry.data or {}).get("event") or {}
    if event.get("checklist") == checklist:
        raise EvidenceAlreadyRequested(case.case_id, case.reply_by.isoformat())


async def escalate(
    session: AsyncSession,
    *,
    case_id: str,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy | None = None,
) -> Case:
    case = await _locked(session, case_id)
    p = p or await policies.for_case(session, case, now)
    if CaseState(case.state) not in DESK_DECIDABLE - {CaseState.ESCALATED}:
        raise _conflict(case, "escalate")
    emit(
        session,
        case,
        CaseEscalated,
        move=Move.ESCALATE,
        actor=actor,
        now=now,
        reason=reason,
        reason_code="MANUAL",
        escalation_reason="MANUAL",
        decision_due_by=escalation_due_by(now, p),
    )
    await sync_timers(session, case, now, p)
    return case


def _manual_record(
    case: Case,
    facts: Facts,
    *,
    rule_id: str,
    liable_party: LiableParty,
    payout_pct: int,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy,
    appealable: bool = True,
) -> DecisionRecord:
    amounts = compute_amounts(
        claimed_amount=case.claimed_amount or facts.item_value or 0,
        item_value=facts.item_value,
        payout_pct=payout_pct,
        liable_party=liable_party,
        partner_id=case.partner_id,
        p=p,
    )
    explanation = explain_manual(
        return_id=case.return_id,
        reason=reason,
        payout=amounts.payout,
        base=amounts.base,
        payout_pct=payout_pct,
        liable_party=liable_party,
        partner_debit=amounts.partner_debit,
        p=p,
        seller_claimed=seller_claimed(case),
        appealable=appealable,
    )
    return decision_record(
        p=p,
        rule_id=rule_id,
        facts=facts,
        explanation=explanation,
        decided_by=actor,
        now=now,
        amounts=amounts,
        liable_party=liable_party,
    )


async def decide(
    session: AsyncSession,
    *,
    case_id: str,
    rule_id: str,
    liable_party: LiableParty,
    payout_pct: int,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy | None = None,
) -> Case:
    """A person decides (or overrides the SOP's proposal). Up to the approval cap an ops_agent's
    decision stands; above it, anyone's decision is a proposal that an ops_manager other than the
    proposer must approve (four eyes)."""
    case = await _locked(session, case_id)
    p = p or await policies.for_case(session, case, now)
    if CaseState(case.state) not in DESK_DECIDABLE:
        raise _conflict(case, "decide")
    facts = await refresh_facts(session, case)
    record = _manual_record(
        case,
        facts,
        rule_id=rule_id,
        liable_party=liable_party,
        payout_pct=payout_pct,
        reason=reason,
        actor=actor,
        now=now,
        p=p,
    )
    if record.payout > 0:
        await ensure_owner_verified(session, case)  # a proposal that pays, refused as early
    if above_approval_cap(record.payout, p):
        case.proposal = decision_document(session, record)
        case.proposed_by = actor
        emit(
            session,
            case,
            CaseEscalated,
            move=Move.ESCALATE,
            actor=actor,
            now=now,
            reason=f"Proposed {record.payout} paise, above the approval cap of "
            f"{p.approval_cap_paise}: an ops_manager other than {actor} must approve. "
            f"{reason}",
            reason_code="ABOVE_APPROVAL_CAP",
            decision=record,
            escalation_reason="ABOVE_APPROVAL_CAP",
            decision_due_by=escalation_due_by(now, p),
        )
        await sync_timers(session, case, now, p)
        return case
    await decide_and_settle(session, case, record, actor=actor, reason=reason, now=now, p=p)
    return case


async def approve(
    session: AsyncSession,
    *,
    case_id: str,
    reason: str,
    actor: str,
    now: datetime,
    p: Policy | None = None,
    approving: str | None = None,
) -> Case:
    """Approve the proposal awaiting it. `approving` names the proposal the manager read
    (`proposal_id` on the case): one replaced since (a fact re-judged it, or a person proposed
    anew) is refused with the current one named, never approved in its stead."""
    case = await _locked(session, case_id)
    p = p or await policies.for_case(session, case, now)
    current = proposal_id(case.proposal) if CaseState(case.state) is CaseState.ESCALATED else None
    if approving is not None and approving != current:
        raise ProposalSuperseded(case.case_id, approving, current)
    if CaseState(case.state) is not CaseState.ESCALATED or case.proposal is None:
        raise _conflict(case, "approve (no proposal awaits approval)")
    if case.proposed_by == actor:
        raise ProposerCannotApprove()
    proposal = DecisionRecord.model_validate(case.proposal)
    record = proposal.model_copy(
        update={
            "decided_by": actor,
            "decided_at": now,
            "explanation": as_approved(proposal.explanation),
        }
    )
    proposer = case.proposed_by
    await decide_and_settle(
        session,
        case,
        record,
        actor=actor,
        now=now,
        p=p,
        reason=f"Approved the decision proposed by {proposer}. {reason}".strip(),
    )
    case.proposed_by = proposer
    return case


async def decide_appeal(
    session: AsyncSession,
    *,
    case_id: str,
    overturn: bool,
    reason: str,
    actor: str,
    now: datetime,
    liable_party: LiableParty | None = None,
    payout_pct: int | None = None,
    rule_id: str = "APPEAL",
    p: Policy | None = None,
) -> Case:
    case = await _locked(session, case_id)
    p = p or await policies.for_case(session, case, now)
    if CaseState(case.state) is not CaseState.APPEALED:
        raise _conflict(case, "decide an appeal")
    if actor in {case.decided_by, case.proposed_by}:
        raise AppealNeedsAnotherDecider()
    facts = await refresh_facts(session, case)
    if overturn:
        if liable_party is None or payout_pct is None:
            raise OverturnIncomplete()
        record = _manual_record(
            case,
            facts,
            rule_id=rule_id,
            liable_party=liable_party,
            payout_pct=payout_pct,
            reason=reason,
            actor=actor,
            now=now,
            appealable=False,  # the appeal decision is final
            p=p,
        )
        await decide_and_settle(
            session, case, record, actor=actor, reason=reason, now=now, p=p, reverse_first=True
        )
        return case
    previous = DecisionRecord.model_validate(case.decision)
    record = previous.model_copy(
        update={
            "decided_by": actor,
            "decided_at": now,
            "rule_id": previous.rule_id,
            # The record keeps the original payout; the code tells the seller's email (and any
            # reader of the record) that the appeal failed rather than succeeded.
            "reason_code": "APPEAL_UPHELD_ORIGINAL",
            "explanation": dismissed_appeal(
                previous.explanation, return_id=case.return_id, reason=reason
            ),
        }
    )
    appeal_by = case.appeal_by
    case.decision = decision_document(session, record)
    case.decided_by = actor
    case.decided_at = now
    # The decision was appealed while its payment still waited for a team's confirmation (a
    # settlement hold): dismissing the appeal leaves that payment owed, so it is settled now,
    # or when the team confirms, as the decision itself would have been.
    owed = record.payout > 0 and not await ledger.has_settlement_in_force(
        session, case_id=case.case_id
    )
    emit(
        session,
        case,
        CaseDecided,
        move=Move.DECIDE,
        actor=actor,
        now=now,
        reason=f"Appeal dismissed: {reason}",
        decision=record,
        appeal_by=None,
        reason_code="APPEAL_UPHELD_ORIGINAL",
        settlement_waits=(
            await settlement.hooks().waits(session, case=case, record=record, p=p, now=now)
            if owed
            else []
        ),
    )
    if owed:
        await settle_unless_held(session, case, record, actor=actor, now=now, p=p)
    else:
        emit(
            session,
            case,
            CaseSettled,
            move=Move.SETTLE,
            actor=actor,
            now=now,
            reason="The original settlement stands; nothing new is posted.",
            decision=record,
        )
    case.appeal_by = appeal_by
    await sync_timers(session, case, now, p)
    return case
