"""Finance's task to recover or confirm money a decision moved on a fact since contradicted (a
parcel paid as lost, then delivered: `cases/delivered_after_payout.py` decides when). Installed
as a case hook (`wiring.py`): the cases may not import the tasks."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.cases.delivered_after_payout import DELIVERED_AFTER_LOSS_PAYOUT
from services.reconciliation.cases.timeline import SYSTEM
from services.reconciliation.models import Case, CaseTask
from services.reconciliation.policy.sop_v1 import Policy
from services.reconciliation.tasks import repository
from services.reconciliation.tasks.holds import new_task
from services.reconciliation.tasks.teams import Team


async def ask_recovery(
    session: AsyncSession, *, case: Case, ask: str, p: Policy, now: datetime
) -> UUID | None:
    """The task's id, or None when the case had one already (open, done or cancelled): a
    repeated delivery scan is the same delivery, and a task a person closed stays closed."""
    if await _asked_before(session, case):
        return None
    task = new_task(
        session,
        case=case,
        team=Team.FINANCE,
        ask=ask,
        owner=None,
        blocks_settlement=False,
        hold_kind=DELIVERED_AFTER_LOSS_PAYOUT,
        actor=SYSTEM,
        now=now,
        p=p,
    )
    return task.task_id


async def _asked_before(session: AsyncSession, case: Case) -> bool:
    # A consumer batch does not flush between its events (`facts/batch.py`), so a second
    # delivery scan in the same batch finds the first one's task among the session's pending
    # objects rather than in the table. The case row is locked, so no other transaction races.
    pending = any(
        isinstance(obj, CaseTask)
        and obj.case_id == case.case_id
        and obj.hold_kind == DELIVERED_AFTER_LOSS_PAYOUT
        for obj in session.new
    )
    return pending or await repository.ever_of_kind(
        session, case.case_id, hold_kind=DELIVERED_AFTER_LOSS_PAYOUT
    )
