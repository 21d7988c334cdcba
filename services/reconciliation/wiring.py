"""The composition root of reconciliation's rooms: what the cases call but may not import."""

from __future__ import annotations

from services.reconciliation.cases import settlement
from services.reconciliation.disputes.service import issue_notice, withdraw_notices
from services.reconciliation.tasks.holds import hold_settlement, settlement_waits
from services.reconciliation.tasks.recovery import ask_recovery


def install() -> None:
    """Idempotent; `create_app` runs it, and so may anything driving the cases without the app."""
    settlement.install(
        settlement.SettlementHooks(
            hold=hold_settlement,
            waits=settlement_waits,
            notify_partner_debit=issue_notice,
            withdraw_partner_debits=withdraw_notices,
            ask_recovery=ask_recovery,
        )
    )
