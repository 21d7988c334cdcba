"""The SOP applied to a case: re-run the rules on its facts and make the case what the verdict
says; a decision is settled in the ledger in the same transaction and the case closes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases import repository, settlement
from services.reconciliation.cases.deadlines import (
    appeal_due_by,
    escalation_due_by,
    hold_decision_date,
    review_due_by,
    sync_timers,
)
from services.reconciliation.cases.errors import OwnershipUnverified
from services.reconciliation.cases.timeline import SYSTEM, decision_document, emit, seller_claimed
from services.reconciliation.cases.transitions import Move
from services.reconciliation.facts import repository as facts_repository
from services.reconciliation.facts.service import load_facts
from services.reconciliation.ledger import service as ledger
from services.reconciliation.models import Case
from services.reconciliation.policy import service as policies
from services.reconciliation.policy.explain import explain
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import (
    TOLD_NO_ACTION,
    Amounts,
    Step,
    Verdict,
    evaluate_claim,
    evaluate_proactive,
    evidence_satisfied,
    evidence_shortfall,
    missing_facts,
    settled_by_partner_record,
)
from services.reconciliation.policy.sop_v1 import Policy
from shared.events import (
    CaseAppealed,
    CaseDecided,
    CaseEscalated,
    CaseOpened,
    CaseOrigin,
    CaseRejected,
    CaseSettled,
    CaseState,
    CaseUnderReview,
    CaseUpdated,
    ClaimTerms,
    ClaimType,
    DecisionRecord,
    EvidenceRequested,
    LiableParty,
    Outcome,
)

# Reviews the SOP itself opened for want of a fact (or of a rule that fits the facts so far) end
# when a fact arrives; fraud reviews and anything a person started stay with the desk.
_REVIEWS_FACTS_CAN_END = frozenset({"MISSING_FACTS", "FRAUD_ASSESSMENT_MISSING", "NO_RULE_MATCHED"})


def decision_record(
    *,
    p: Policy,
    rule_id: str,
    facts: Facts,
    explanation: str,
    decided_by: str,
    now: datetime,
    amounts: Amounts | None = None,
    liable_party: LiableParty | None = None,
    reason_code: str | None = None,
) -> DecisionRecord:
    return DecisionRecord(
        policy_version=p.version,
        rule_id=rule_id,
        outcome=amounts.outcome if amounts else None,
        reason_code=reason_code,
        liable_party=liable_party,
        payout_pct=amounts.payout_pct if amounts else 0,
        payout=amounts.payout if amounts else 0,
        partner_debit=amounts.partner_debit if amounts else 0,
        buyer_receivable=amounts.buyer_receivable if amounts else 0,
        marketplace_cost=amounts.marketplace_cost if amounts else 0,
        facts=facts.as_record(),
        explanation=explanation,
        decided_by=decided_by,
        decided_at=now,
    )


async def decide_and_settle(
    session: AsyncSession,
    case: Case,
    record: DecisionRecord,
    *,
    actor: str,
    reason: str,
    now: datetime,
    p: Policy,
    reverse_first: bool = False,
) -> None:
    """DECIDED, then the ledger postings and CLOSED, in one transaction. Refuses
    (`OwnershipUnverified`) a payout to a claimant the feed has not named as the return's
    seller: the SOP waits for the return anyway (E1); this stops a person's decision."""
    if record.payout > 0:
        await ensure_owner_verified(session, case)
    appeal_by = now + timedelta(days=p.windows.appeal_window_days)
    # Read before the decision's event takes it: the closure this decision replaces, if any.
    reopened = case.closure_reopened
    case.decision = decision_document(session, record)
    case.decided_by = actor
    case.decided_at = now
    case.appeal_by = appeal_by
    case.proposal = None
    # An overturned appeal replaces what the first decision paid (reversed below).
    paid_before = replaced_payout(case) if reverse_first else 0
    # Named in the event so the seller's decision email says whom the payment waits for.
    waits = await settlement.hooks().waits(session, case=case, record=record, p=p, now=now)
    emit(
        session,
        case,
        CaseDecided,
        move=Move.DECIDE,
        actor=actor,
        reason=reason,
        now=now,
        decision=record,
        reason_code=record.reason_code,
        appeal_by=appeal_by,
        paid_before=paid_before,
        settlement_waits=waits,
    )
    metrics.decision_made(
        session, record.rule_id, record.liable_party.value if record.liable_party else None
    )
    reversals: list[UUID] = []
    if reverse_first:
        reversals = await ledger.reverse_settlements(session, case_id=case.case_id, now=now)
        # The reversal took the partner's debit back: its notice leaves dispute, and a contest
        # ruling that took the same debit off is posted back, or the partner is credited twice.
        await settlement.hooks().withdraw_partner_debits(session, case=case, now=now)
    await settle_unless_held(session, case, record, actor=actor, now=now, p=p, reversals=reversals)
    if reopened is not None and reopened.get("appeal_answered"):
        await hear_appeal_set_aside(session, case, reopened, now=now, p=p)


async def hear_appeal_set_aside(
    session: AsyncSession, case: Case, reopened: dict[str, Any], *, now: datetime, p: Policy
) -> None:
    """The seller appealed a filing-window closure, then a partner's record took the closure's
    ground away and this decision replaced it. sop-v1 has an appeal decided by an ops_manager,
    and the same facts the other way round (the record first, the appeal after its decision)
    are an appeal of this decision: so the appeal is heard against it (`APPEALED`), by the
    date the seller's acknowledgement gave, and the seller is not acknowledged twice."""
    appeal = await facts_repository.hear_appeal_answered_by_record(session, case.return_id)
    if appeal is None:
        return
    promised = reopened.get("appeal_decision_due_by")
    due_by = datetime.fromisoformat(promised) if promised else appeal_due_by(now, p)
    emit(
        session,
        case,
        CaseAppealed,
        move=Move.APPEAL,
        actor=appeal.seller_id,
        now=now,
        reason=f"The seller's appeal of the closure, filed {appeal.filed_at.isoformat()}, is "
        f"heard against the decision that replaced it: {appeal.reason}",
        decision=None,
        decision_due_by=due_by,
        appealed_at=appeal.filed_at,
        data={"escalation_id": appeal.escalation_id},
    )
    await hold_decision_date(session, case, due_by, now=now, p=p)


async def settle_unless_held(
    session: AsyncSession,
    case: Case,
    record: DecisionRecord,
    *,
    actor: str,
    now: datetime,
    p: Policy,
    reversals: list[UUID] | None = None,
) -> None:
    """Settle the decided case now, or leave it DECIDED while a team must confirm first
    (finance for a large payout, the warehouse for a wrong item): it then settles when the
    last blocking task is done."""
    if await settlement.hooks().hold(session, case=case, record=record, p=p, now=now, actor=actor):
        return
    await settle_decision(session, case, record, actor=actor, now=now, p=p, reversals=reversals)


def replaced_payout(case: Case) -> int:
    """What the seller was paid on the case before the decision now being settled.

    `case.payout` changes only when a settlement posts, and a case settles a second time only
    after an overturned appeal reversed the first settlement; so until the new decision
    settles, it is the payout that decision replaces. That holds also when a team's task
    releases the settlement days after the reversal (a finance or warehouse hold)."""
    return case.payout


def paid_and_pending(case: Case) -> tuple[int, int | None]:
    """What the seller holds from the case now, and a decided payout still waiting to post.

    A case rests in `DECIDED` only while a team's task holds its settlement (finance, the
    warehouse); any earlier settlement was reversed by then (an overturned appeal), so nothing
    is paid in force, although `case.payout` keeps the replaced amount (`replaced_payout`)."""
    if CaseState(case.state) is not CaseState.DECIDED:
        return case.payout, None
    record = decision_of(case)
    return 0, record.payout if record else None


async def ensure_owner_verified(session: AsyncSession, case: Case) -> None:
    ret = await facts_repository.get_return(session, case.return_id)
    if ret is None or ret.seller_id != case.seller_id or case.ownership_refused_at is not None:
        raise OwnershipUnverified(case.case_id)


async def settle_decision(
    session: AsyncSession,
    case: Case,
    record: DecisionRecord,
    *,
    actor: str,
    now: datetime,
    p: Policy,
    reversals: list[UUID] | None = None,
) -> None:
    """The ledger postings (and a partner's debit notice) of a decision, then CLOSED."""
    reversals = reversals or []
    paid_before = replaced_payout(case)
    transaction_id = await ledger.settle(
        session,
        case_id=case.case_id,
        seller_id=case.seller_id,
        partner_id=case.partner_id,
        buyer_id=case.buyer_id,
        decision=record,
        now=now,
    )
    if transaction_id is not None and record.partner_debit > 0 and case.partner_id:
        await settlement.hooks().notify_partner_debit(
            session,
            case=case,
            record=record,
            settlement_id=transaction_id,
            contest_window_days=p.windows.partner_contest_window_days,
            now=now,
        )
    case.payout = record.payout
    metrics.paid_out(session, record.payout - paid_before if record.payout > paid_before else 0)
    settled = (
        f"Settled: {record.payout} paise to the seller"
        + (f", {record.partner_debit} recovered from the partner" if record.partner_debit else "")
        + (
            f", {record.buyer_receivable} recovered from the buyer"
            if record.buyer_receivable
            else ""
        )
        + (f"; {len(reversals)} earlier settlement(s) reversed" if reversals else "")
        + "."
    )
    emit(
        session,
        case,
        CaseSettled,
        move=Move.SETTLE,
        actor=actor,
        reason=settled,
        now=now,
        decision=record,
        ledger_transaction_id=transaction_id,
        paid_before=paid_before,
        data={"reversals": [str(r) for r in reversals]},
    )
    await sync_timers(session, case, now, p)


async def apply_verdict(
    session: AsyncSession, case: Case, verdict: Verdict, facts: Facts, *, now: datetime, p: Policy
) -> None:
    """Make the case what the SOP says it should be; nothing happens when it already is."""
    state = CaseState(case.state)
    explanation = explain(
        verdict, facts, p, return_id=case.return_id, seller_claimed=seller_claimed(case)
    )
    step = verdict.step
    if state is CaseState.ESCALATED and step is not Step.PROPOSE:
        if step in (Step.WAIT_FACTS, Step.WAIT_FRAUD):
            return  # facts only accumulate: a proposal's waits are over and stay over
        # The facts now lead elsewhere (decided under the cap, a review, a rejection): the
        # proposal is withdrawn and can no longer be approved.
        case.proposal = None
    if step in (Step.WAIT_FACTS, Step.WAIT_FRAUD):
        # E1 waits for PENDING_FACTS or PENDING_SCANS (each its own timer), E5b for fraud.
        waiting = (
            verdict.reason_code or "PENDING_FACTS"
            if step is Step.WAIT_FACTS
            else "FRAUD_ASSESSMENT"
        )
        if state is CaseState.OPEN and case.waiting_for == waiting:
            return
        emit(
            session,
            case,
            CaseUpdated,
            move=Move.WAIT,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            waiting_for=waiting,
            reason_code=verdict.reason_code,
            change=f"WAITING_FOR_{waiting}",
            # A claim leaving the evidence wait for E1 still lacks its checklist: a merged
            # filing's acknowledgement reworded for this move must not say "nothing to do".
            **evidence_told(case, facts, p),
        )
    elif step is Step.AWAIT_EVIDENCE:
        if state is CaseState.AWAITING_EVIDENCE and case.reason_code == verdict.reason_code:
            return
        if verdict.rule_id == "P2" and facts.delivered_at is not None:
            reply_by = facts.delivered_at + timedelta(hours=p.windows.claim_window_h)
        else:
            reply_by = now + timedelta(hours=p.timers.evidence_reply_h)
            if state is CaseState.AWAITING_EVIDENCE and case.reply_by is not None:
                # A date the seller already holds for this evidence is never cut short: a
                # claim joining a P2 case keeps the P2 window when it ends later than 72 h.
                reply_by = max(reply_by, case.reply_by)
        emit(
            session,
            case,
            EvidenceRequested,
            move=Move.REQUEST_EVIDENCE,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            waiting_for="EVIDENCE",
            reason_code=verdict.reason_code,
            checklist=list(verdict.checklist),
            reply_by=reply_by,
            # What came with the claim already counts: the seller is told it reached us and
            # asked for the rest only. A first request, not an answer to evidence: it goes at
            # once and counts as one (`answers_evidence`).
            received=dict(facts.evidence_counts),
            received_weight_g=facts.received_weight_g,
            answers_evidence=False,
            still_needed=evidence_shortfall(facts, p),
            # P2's reply-by is the claim window's end: the email states the window.
            claim_window_h=(
                p.windows.claim_window_h
                if verdict.rule_id == "P2" and facts.delivered_at is not None
                else None
            ),
        )
        case.reply_by = reply_by
        case.evidence_requested_by = SYSTEM
    elif step is Step.REVIEW:
        if state is CaseState.UNDER_REVIEW and case.reason_code == verdict.reason_code:
            return
        emit(
            session,
            case,
            CaseUnderReview,
            move=Move.SEND_TO_REVIEW,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            reason_code=verdict.reason_code,
            data={"rule_id": verdict.rule_id},
            decision_due_by=review_due_by(case, now, p),
            **evidence_told(case, facts, p),
            # Which record never came, so the seller is told that one, not "one or the other".
            # Without the return's record no scan can be matched to the return (intake holds
            # them), so that record alone is named then.
            facts_missing=_missing_records(facts) if verdict.reason_code == "MISSING_FACTS" else [],
            facts_wait_h=p.timers.facts_wait_h if verdict.reason_code == "MISSING_FACTS" else None,
        )
    elif step is Step.REJECT:
        record = decision_record(
            p=p,
            rule_id=verdict.rule_id,
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            reason_code=verdict.reason_code,
        )
        appeal_by = now + timedelta(days=p.windows.appeal_window_days)
        case.decision = decision_document(session, record)
        case.decided_by = SYSTEM
        case.decided_at = now
        case.appeal_by = appeal_by
        emit(
            session,
            case,
            CaseRejected,
            move=Move.REJECT,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            reason_code=verdict.reason_code,
            decision=record,
            appeal_by=appeal_by,
            # The reply-by that passed (E4), for the seller's email: read before the move clears it.
            reply_by=case.reply_by if verdict.reason_code == "EVIDENCE_NOT_PROVIDED" else None,
            # The policy's own windows, for the lesson the seller's digest draws from this.
            claim_terms=ClaimTerms(
                claim_window_h=p.windows.claim_window_h,
                not_received_earliest_days=p.windows.not_received_earliest_days,
                not_received_latest_days=p.windows.not_received_latest_days,
                evidence_reply_h=p.timers.evidence_reply_h,
                evidence_checklist=list(p.evidence[ClaimType(case.claim_type)].checklist)
                if case.claim_type
                else [],
            ),
        )
        metrics.decision_made(session, verdict.rule_id, None)
    elif step is Step.PROPOSE:
        record = decision_record(
            p=p,
            rule_id=verdict.rule_id,
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            amounts=verdict.amounts,
            liable_party=verdict.liable_party,
            reason_code="ABOVE_APPROVAL_CAP",
        )
        if state is CaseState.ESCALATED and case.proposal is not None:
            await _replace_proposal(session, case, record, now=now)
            return
        case.proposal = decision_document(session, record)
        case.proposed_by = SYSTEM
        emit(
            session,
            case,
            CaseEscalated,
            move=Move.ESCALATE,
            actor=SYSTEM,
            reason=explanation,
            now=now,
            reason_code="ABOVE_APPROVAL_CAP",
            decision=record,
            escalation_reason="ABOVE_APPROVAL_CAP",
            decision_due_by=escalation_due_by(now, p),
        )
    elif step is Step.DECIDE:
        record = decision_record(
            p=p,
            rule_id=verdict.rule_id,
            facts=facts,
            explanation=explanation,
            decided_by=SYSTEM,
            now=now,
            amounts=verdict.amounts,
            liable_party=verdict.liable_party,
        )
        await decide_and_settle(
            session, case, record, actor=SYSTEM, reason=explanation, now=now, p=p
        )
        return
    await sync_timers(session, case, now, p)


def proposal_id(proposal: dict[str, Any] | None) -> str | None:
    """The name a manager approves a proposal by: drawn from its whole record (rule, party,
    amounts, facts, when it was made), so a proposal replaced by another no longer answers to
    the name the manager read."""
    if proposal is None:
        return None
    digest = hashlib.sha256(json.dumps(proposal, sort_keys=True, default=str).encode())
    return f"PROP-{digest.hexdigest()[:16].upper()}"


# What a proposal pays and who pays it: a new proposal that differs in none of these (only in
# its time or wording) is the same proposal and replaces nothing.
_PROPOSAL_TERMS = (
    "rule_id",
    "liable_party",
    "payout_pct",
    "payout",
    "partner_debit",
    "buyer_receivable",
    "marketplace_cost",
)


async def _replace_proposal(
    session: AsyncSession, case: Case, record: DecisionRecord, *, now: datetime
) -> None:
    """A fact arrived while the SOP's proposal awaits approval and the SOP, run again, proposes
    other terms (another liable party, another amount), still above the cap: the new proposal
    replaces the old, which can then no longer be approved (`desk.approve`). The date
    management is held to stands (the decision timer is not re-armed); management is alerted
    with both proposals, and the seller, told the earlier amount, hears the new one when the
    amount changed (notifications decides that from the event's `replaced_decision`)."""
    old = DecisionRecord.model_validate(case.proposal)
    if all(getattr(old, term) == getattr(record, term) for term in _PROPOSAL_TERMS):
        return
    replaced = proposal_id(case.proposal)
    case.proposal = decision_document(session, record)
    case.proposed_by = SYSTEM
    emit(
        session,
        case,
        CaseUpdated,
        move=Move.REPROPOSE,
        actor=SYSTEM,
        reason=f"A new fact changed the proposal awaiting approval ({old.rule_id}, "
        f"{old.payout} paise, {old.liable_party.value if old.liable_party else 'nobody'} "
        f"liable → {record.rule_id}, {record.payout} paise, "
        f"{record.liable_party.value if record.liable_party else 'nobody'} liable); "
        f"{replaced} can no longer be approved. {record.explanation}",
        now=now,
        waiting_for=case.waiting_for,
        reason_code=case.reason_code,
        change=PROPOSAL_REPLACED,
        decision=record,
        # Both, so management is alerted with what changed and the seller, told the earlier
        # amount, hears the new one; the date management is held to stands.
        replaced_decision=old,
        proposal_id=proposal_id(case.proposal),
        replaced_proposal_id=replaced,
        next_step_by=case.decision_promised_by,
        data={"replaced_proposal_id": replaced, "proposal_id": proposal_id(case.proposal)},
    )


PROPOSAL_REPLACED = "PROPOSAL_REPLACED"


def verdict_for(case: Case, facts: Facts, now: datetime, p: Policy) -> Verdict:
    if case.primary_escalation_id and case.trigger_rule not in TOLD_NO_ACTION:
        reply_by_passed = (
            case.reply_by is not None
            and case.evidence_requested_by == SYSTEM
            and now >= case.reply_by
        )
        return evaluate_claim(
            facts,
            p,
            facts_wait_over=case.facts_wait_over,
            reply_by_passed=reply_by_passed,
            fraud_wait_over=case.fraud_wait_over,
        )
    if case.trigger_rule == "P2":
        if evidence_satisfied(facts, p):
            # The seller sent what the weight-drop checklist asks, without filing a claim (a
            # reply to our email, say): the case goes on as the missing-item claim we opened
            # it as, through the fraud gate to the liability rules.
            return evaluate_proactive(facts, p, fraud_wait_over=case.fraud_wait_over)
        if case.reply_by is not None and now >= case.reply_by:
            return Verdict(Step.REJECT, "P2", "CLAIM_WINDOW_EXPIRED")
        checklist = p.evidence[ClaimType.MISSING_ITEM].checklist
        return Verdict(Step.AWAIT_EVIDENCE, "P2", "WEIGHT_DROP_CHECKLIST", checklist=checklist)
    return evaluate_proactive(facts, p, fraud_wait_over=case.fraud_wait_over)


def reevaluable(case: Case) -> bool:
    state = CaseState(case.state)
    if state is CaseState.OPEN:
        return True
    if state is CaseState.AWAITING_EVIDENCE:
        return case.evidence_requested_by == SYSTEM
    if state is CaseState.ESCALATED:
        # The SOP's own proposal awaiting approval is not a decision yet: a fact it depends on
        # re-judges it. A person's proposal, or an escalation by hand or by SLA, is the desk's.
        return case.proposal is not None and case.proposed_by == SYSTEM
    # Once someone owns the review, facts no longer move the case under their feet.
    return (
        state is CaseState.UNDER_REVIEW
        and case.reason_code in _REVIEWS_FACTS_CAN_END
        and case.assignee is None
    )


async def refresh_facts(session: AsyncSession, case: Case) -> Facts:
    facts = await load_facts(session, case=case, return_id=case.return_id)
    case.partner_id = facts.partner_id or case.partner_id
    case.buyer_id = facts.buyer_id or case.buyer_id
    case.fraud_band = facts.fraud_band.value if facts.fraud_band else None
    return facts


async def reevaluate(
    session: AsyncSession, case: Case, *, now: datetime, p: Policy | None = None
) -> None:
    facts = await refresh_facts(session, case)
    if not reevaluable(case):
        return
    p = p or await policies.for_case(session, case, now)
    await apply_verdict(session, case, verdict_for(case, facts, now, p), facts, now=now, p=p)


def expected_decision_by(verdict: Verdict, now: datetime, p: Policy) -> datetime:
    auto = timedelta(minutes=p.timers.auto_decision_min)
    if verdict.step in (Step.DECIDE, Step.REJECT):
        return now + auto
    if verdict.step is Step.WAIT_FRAUD:
        return now + timedelta(minutes=p.timers.fraud_wait_min) + auto
    if verdict.step is Step.AWAIT_EVIDENCE:
        return now + timedelta(hours=p.timers.evidence_reply_h) + auto
    if verdict.step is Step.WAIT_FACTS and verdict.reason_code == "PENDING_SCANS":
        return now + timedelta(minutes=p.timers.scan_wait_min + p.timers.fraud_wait_min) + auto
    if verdict.step is Step.WAIT_FACTS:
        return now + timedelta(hours=p.timers.facts_wait_h + p.timers.review_sla_h)
    return now + timedelta(hours=p.timers.review_sla_h)


async def open_case(
    session: AsyncSession,
    *,
    return_id: str,
    seller_id: str,
    origin: CaseOrigin,
    reason: str,
    now: datetime,
    p: Policy,
    claim_type: ClaimType | None,
    claimed_amount: int | None,
    seller_contact: str | None = None,
    primary_escalation_id: str | None = None,
    trigger_rule: str | None = None,
    trigger_ce_id: UUID | None = None,
) -> Case:
    case = Case(
        case_id=f"CASE-{uuid4().hex[:12].upper()}",
        return_id=return_id,
        seller_id=seller_id,
        claim_type=claim_type.value if claim_type else None,
        claimed_amount=claimed_amount,
        origin=origin.value,
        trigger_rule=trigger_rule,
        trigger_ce_id=trigger_ce_id,
        primary_escalation_id=primary_escalation_id,
        state=CaseState.OPEN.value,
        version=0,
        seller_contact=seller_contact,
        opened_at=now,
        updated_at=now,
        sla_used_s=0,
        sla_breached=False,
        facts_wait_over=False,
        fraud_wait_over=False,
        payout=0,
    )
    repository.add(session, case)
    await session.flush()
    return case


async def start(
    session: AsyncSession, case: Case, *, reason: str, now: datetime, p: Policy
) -> None:
    """CaseOpened, then straight on to wherever the SOP puts the case."""
    facts = await refresh_facts(session, case)
    verdict = verdict_for(case, facts, now, p)
    emit(
        session,
        case,
        CaseOpened,
        move=Move.OPEN,
        actor=SYSTEM,
        reason=reason,
        now=now,
        expected_decision_by=expected_decision_by(verdict, now, p),
        trigger_rule=case.trigger_rule,
        # The wait starts now (its timer is armed with the same `now`).
        **facts_awaited(facts, verdict, until=now + timedelta(hours=p.timers.facts_wait_h)),
        asks_for_evidence=asks_for_evidence(case, facts, verdict, p),
        # E1 first: the request follows only if the facts, once in, let the claim go on.
        asks_once_facts_are_in=verdict.step is Step.WAIT_FACTS
        and asks_for_evidence(case, facts, verdict, p),
        data={"trigger_rule": case.trigger_rule},
    )
    await apply_verdict(session, case, verdict, facts, now=now, p=p)


def facts_awaited(facts: Facts, verdict: Verdict, *, until: datetime) -> dict[str, Any]:
    """E1's wait as a seller is told it, on the case's opening (`CaseOpened`) and on a filing
    that joins the case during the wait (`CaseUpdated`): which record is awaited, the
    return's (no scan can be matched without it) or else its delivery scan (the claim window
    counts from it), and `until`, the wait's end, when a person takes the case over. Neither
    while the case waits for nothing of the sort."""
    waiting = verdict.step is Step.WAIT_FACTS and verdict.reason_code == "PENDING_FACTS"
    missing = missing_facts(facts) if waiting else []
    return {
        "awaiting_return_until": until if "RETURN" in missing else None,
        "awaiting_delivery_until": (
            until if "RETURN" not in missing and "DELIVERY_SCAN" in missing else None
        ),
    }


def _missing_records(facts: Facts) -> list[str]:
    missing = missing_facts(facts)
    return ["RETURN"] if "RETURN" in missing else missing


def asks_for_evidence(case: Case, facts: Facts, verdict: Verdict, p: Policy) -> bool:
    """Whether the seller will be asked for evidence (E4): the claim type's checklist is unmet
    at filing, whatever the first verdict, unless that verdict already closes the claim. A
    claim first held for its scans or its return's record (E1) is asked once they are in, so
    its acknowledgement must not say there is nothing to do either."""
    if case.claim_type is None or verdict.step is Step.REJECT:
        return False
    return verdict.step is Step.AWAIT_EVIDENCE or not evidence_satisfied(facts, p)


def evidence_missing(case: Case, facts: Facts, p: Policy) -> list[str]:
    """The checklist a seller's claim still lacks as it goes to a person (E1's review after the
    facts wait comes before E4 asks for it): the seller is told the person deciding can use it.
    Empty for a case the desk opened itself (no claim of the seller's to prove) and for a claim
    whose checklist is met."""
    if (
        case.claim_type is None
        or not seller_claimed(case)
        or case.trigger_rule in TOLD_NO_ACTION  # decided without it (`rules.TOLD_NO_ACTION`)
        or settled_by_partner_record(facts, p)  # the same, the claim having come first
        or evidence_satisfied(facts, p)
    ):
        return []
    return list(p.evidence[ClaimType(case.claim_type)].checklist)


def evidence_told(case: Case, facts: Facts, p: Policy) -> dict[str, Any]:
    """What a seller's claim still lacks as the case goes on without asking for it (E1's wait,
    a person's review), told as the SOP's own requests tell it: the checklist, what reached the
    case so far, and what each acceptable set still lacks. A seller who sent one photo is told
    it arrived and asked for the rest, not handed the whole checklist as if nothing had come."""
    missing = evidence_missing(case, facts, p)
    if not missing:
        return {"evidence_missing": []}
    return {
        "evidence_missing": missing,
        "evidence_received": dict(facts.evidence_counts),
        "evidence_received_weight_g": facts.received_weight_g,
        "evidence_still_needed": evidence_shortfall(facts, p),
    }


def decision_of(case: Case) -> DecisionRecord | None:
    return DecisionRecord.model_validate(case.decision) if case.decision else None


def outcome_of(case: Case) -> Outcome | None:
    record = decision_of(case)
    return record.outcome if record else None
