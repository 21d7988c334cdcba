"""What settling a decision asks of the rooms above the cases, as interfaces the cases own.

Settlement holds (`tasks/`: whether a decision waits for a team, and for whom) and partner
debit notices (`disputes/`) both build on the cases, so the cases may not import them:
`decisions.py` calls these protocols, and the composition root
(`services/reconciliation/wiring.py`, run by the app) installs the implementations. Settling
without them installed is an error, never a silent skip: money would move without its hold or
its notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case
from services.reconciliation.policy.sop_v1 import Policy
from shared.events import DecisionRecord, SettlementWait


class SettlementHold(Protocol):
    """True when the decision must wait for a team before money moves."""

    async def __call__(
        self,
        session: AsyncSession,
        *,
        case: Case,
        record: DecisionRecord,
        p: Policy,
        now: datetime,
        actor: str,
    ) -> bool: ...


class SettlementWaits(Protocol):
    """Whom a decision's payment will wait for and until when (what `SettlementHold` holds it
    for), so the decision's event can tell the seller before the hold is opened."""

    async def __call__(
        self,
        session: AsyncSession,
        *,
        case: Case,
        record: DecisionRecord,
        p: Policy,
        now: datetime,
    ) -> list[SettlementWait]: ...


class PartnerDebitNotifier(Protocol):
    """Writes the partner's debit notice in the settlement's own transaction."""

    async def __call__(
        self,
        session: AsyncSession,
        *,
        case: Case,
        record: DecisionRecord,
        settlement_id: UUID,
        contest_window_days: int,
        now: datetime,
    ) -> object: ...


class PartnerDebitWithdrawer(Protocol):
    """Takes the case's partner debit notices out of dispute once an overturn has reversed the
    settlements that debited the partner, in the overturn's own transaction (the case locked)."""

    async def __call__(self, session: AsyncSession, *, case: Case, now: datetime) -> object: ...


class RecoveryAsk(Protocol):
    """Asks finance, once per case, to recover or confirm the money a decision moved on a fact
    since contradicted (`ask` says what); the task's id, or None when the case was asked
    before (whatever became of that task)."""

    async def __call__(
        self, session: AsyncSession, *, case: Case, ask: str, p: Policy, now: datetime
    ) -> UUID | None: ...


@dataclass(frozen=True)
class SettlementHooks:
    hold: SettlementHold
    waits: SettlementWaits
    notify_partner_debit: PartnerDebitNotifier
    withdraw_partner_debits: PartnerDebitWithdrawer
    ask_recovery: RecoveryAsk


_installed: SettlementHooks | None = None


def install(hooks: SettlementHooks) -> None:
    global _installed
    _installed = hooks


def hooks() -> SettlementHooks:
    if _installed is None:
        raise RuntimeError(
            "settlement hooks are not installed: call services.reconciliation.wiring.install()"
        )
    return _installed
