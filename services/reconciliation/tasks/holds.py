"""Settlement holds: the decisions a team must confirm before money moves (the policy says
which), opened as blocking tasks on the case. No import of the settling code here: completing
the last blocking task settles (`tasks/service.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases.timeline import note, publish
from services.reconciliation.models import Case, CaseTask
from services.reconciliation.policy.sop_v1 import Policy
from services.reconciliation.tasks import repository
from services.reconciliation.tasks.teams import Team
from shared.events import CaseTaskOpened, DecisionRecord, SettlementWait

FINANCE_PAYOUT = "FINANCE_PAYOUT"
WAREHOUSE_RECEIPT = "WAREHOUSE_RECEIPT"
# A blocking task the desk opened itself (`POST /v1/cases/{id}/tasks`, blocks_settlement).
DESK_HOLD = "DESK"


def new_task(
    session: AsyncSession,
    *,
    case: Case,
    team: Team,
    ask: str,
    owner: str | None,
    blocks_settlement: bool,
    hold_kind: str | None,
    actor: str,
    now: datetime,
    p: Policy,
    escalation_reason: str | None = None,
    report_html: str | None = None,
) -> CaseTask:
    """Open a task, note it on the timeline and publish it (notifications emails the team;
    an escalation's event carries the case report for the management email)."""
    task = CaseTask(
        task_id=uuid4(),
        case_id=case.case_id,
        team=team.value,
        ask=ask,
        owner=owner,
        due_at=task_due_at(team, now=now, p=p),
        status="OPEN",
        blocks_settlement=blocks_settlement,
        hold_kind=hold_kind,
        created_by=actor,
        created_at=now,
    )
    session.add(task)
    metrics.task_opened(session, team.value)
    note(
        session,
        case,
        kind="TASK_OPENED",
        actor=actor,
        reason=f"Asked {team.value}: {ask}"
        + (" Settlement waits for it." if blocks_settlement else ""),
        now=now,
        data={"task_id": str(task.task_id), "team": team.value, "due_at": task.due_at.isoformat()},
    )
    publish(
        session,
        CaseTaskOpened(
            **task_event_fields(task, case),
            escalation_reason=escalation_reason,
            report_html=report_html,
        ),
        subject=case.case_id,
        now=now,
    )
    return task


def task_due_at(team: Team, *, now: datetime, p: Policy) -> datetime:
    return now + timedelta(hours=p.task_sla_h.get(team.value, 24))


def task_event_fields(task: CaseTask, case: Case) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "case_id": case.case_id,
        "return_id": case.return_id,
        "team": task.team,
        "ask": task.ask,
        "owner": task.owner,
        "due_at": task.due_at,
        "blocks_settlement": task.blocks_settlement,
        "opened_by": task.created_by,
        "occurred_at": task.overdue_alerted_at or task.created_at,
    }


def _holds_needed(case: Case, record: DecisionRecord, p: Policy) -> list[tuple[str, Team, str]]:
    """The confirmations the policy asks for this decision: (hold kind, team, the ask)."""
    rules = p.settlement_holds
    needed: list[tuple[str, Team, str]] = []
    limit = rules.finance_confirmation_above_paise
    if limit is not None and record.payout > limit:
        needed.append(
            (
                FINANCE_PAYOUT,
                Team.FINANCE,
                f"Confirm the payout of {record.payout} paise on case {case.case_id} "
                f"(above {limit} paise) before it is paid.",
            )
        )
    claim = case.claim_type
    if claim is not None and record.payout > 0 and claim in rules.warehouse_receipt_claim_types:
        needed.append(
            (
                WAREHOUSE_RECEIPT,
                Team.WAREHOUSE,
                f"Confirm receipt of return {case.return_id} ({claim}) and what is in it.",
            )
        )
    return needed


async def _holds_pending(
    session: AsyncSession, case: Case, record: DecisionRecord, p: Policy
) -> list[tuple[str, Team, str, CaseTask | None]]:
    """The needed holds not yet confirmed on the case (a task DONE once is not asked again),
    each with its open task if one is open already, and the desk's own blocking tasks still
    open. No query when the policy needs none and the desk holds nothing: the usual decision
    pays at once."""
    needed = _holds_needed(case, record, p)
    if not needed and not case.desk_holds_open:
        return []
    existing = await repository.of_case(session, case.case_id)
    pending: list[tuple[str, Team, str, CaseTask | None]] = [
        (DESK_HOLD, Team(t.team), t.ask, t)
        for t in existing
        if t.hold_kind == DESK_HOLD and t.status == "OPEN"
    ]
    for kind, team, ask in needed:
        prior = [t for t in existing if t.hold_kind == kind]
        if any(t.status == "DONE" for t in prior):
            continue
        open_task = next((t for t in prior if t.status == "OPEN"), None)
        pending.append((kind, team, ask, open_task))
    return pending


async def settlement_waits(
    session: AsyncSession,
    *,
    case: Case,
    record: DecisionRecord,
    p: Policy,
    now: datetime,
) -> list[SettlementWait]:
    """Whom the decision's payment will wait for, and until when: the open task's due time (a
    fresh one if it has passed), or the one `hold_settlement` gives the task it opens at the same
    `now`. The decision's event carries it, so the seller's decision email can name the check
    and the date."""
    return [
        SettlementWait(
            team=team.value,
            # A task already past its due time gives the seller a fresh one, never a date gone.
            expected_by=(
                open_task.due_at
                if open_task is not None and open_task.due_at > now
                else task_due_at(team, now=now, p=p)
            ),
        )
        for _, team, _, open_task in await _holds_pending(session, case, record, p)
    ]


async def hold_settlement(
    session: AsyncSession,
    *,
    case: Case,
    record: DecisionRecord,
    p: Policy,
    now: datetime,
    actor: str,
) -> bool:
    """True when the decision must wait for a team: its blocking tasks are open (opened now if
    needed). A hold confirmed once for the case (a task DONE) is not asked again."""
    pending = await _holds_pending(session, case, record, p)
    for kind, team, ask, open_task in pending:
        if open_task is None:
            new_task(
                session,
                case=case,
                team=team,
                ask=ask,
                owner=None,
                blocks_settlement=True,
                hold_kind=kind,
                actor=actor,
                now=now,
                p=p,
            )
    return bool(pending)
