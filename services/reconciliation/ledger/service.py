"""Settle a decision in the ledger, and reverse earlier settlements when an appeal overturns
them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.ledger import repository
from services.reconciliation.ledger.postings import (
    Posting,
    reversal_postings,
    settlement_postings,
)
from shared.events import DecisionRecord


async def settle(
    session: AsyncSession,
    *,
    case_id: str,
    seller_id: str,
    partner_id: str | None,
    buyer_id: str | None,
    decision: DecisionRecord,
    now: datetime,
) -> UUID | None:
    """Post the decision's lines; None when there is nothing to move (a denial)."""
    lines = settlement_postings(
        seller_id=seller_id,
        partner_id=partner_id,
        buyer_id=buyer_id,
        payout=decision.payout,
        partner_debit=decision.partner_debit,
        buyer_receivable=decision.buyer_receivable,
    )
    if not lines:
        return None
    transaction_id = uuid4()
    await repository.add_transaction(
        session,
        transaction_id=transaction_id,
        case_id=case_id,
        kind="SETTLEMENT",
        lines=lines,
        posted_at=now,
        description=f"Settlement of {case_id} by rule {decision.rule_id}",
        policy_version=decision.policy_version,
    )
    return transaction_id


async def reverse_transaction(
    session: AsyncSession,
    *,
    case_id: str,
    transaction_id: UUID,
    now: datetime,
    description: str,
) -> UUID | None:
    """Post the mirror of one transaction of the case, unless it is reversed already (so a
    second call posts nothing); the mirror's id, or None."""
    if await repository.is_reversed(session, transaction_id):
        return None
    return await _post_mirror(
        session, case_id=case_id, transaction_id=transaction_id, now=now, description=description
    )


async def has_settlement_in_force(session: AsyncSession, *, case_id: str) -> bool:
    """Whether a settlement of the case is posted and not reversed."""
    return bool(await repository.unreversed_settlements(session, case_id))


async def reverse_settlements(session: AsyncSession, *, case_id: str, now: datetime) -> list[UUID]:
    """Post the mirror of every settlement of the case that is still in force."""
    return [
        await _post_mirror(
            session,
            case_id=case_id,
            transaction_id=tx.transaction_id,
            now=now,
            description=f"Reversal of {tx.transaction_id} ({case_id}): decision overturned",
            policy_version=tx.policy_version,
        )
        for tx in await repository.unreversed_settlements(session, case_id)
    ]


async def _post_mirror(
    session: AsyncSession,
    *,
    case_id: str,
    transaction_id: UUID,
    now: datetime,
    description: str,
    policy_version: str | None = None,
) -> UUID:
    """Post the REVERSAL of one transaction: its entries with their signs turned, linked to it
    by `reverses`, so the ledger shows what was undone rather than losing it."""
    entries = await repository.entries_of(session, transaction_id)
    reversal_id = uuid4()
    await repository.add_transaction(
        session,
        transaction_id=reversal_id,
        case_id=case_id,
        kind="REVERSAL",
        lines=reversal_postings(
            [Posting(e.account, e.account_type, e.counterparty_id, e.amount) for e in entries]
        ),
        posted_at=now,
        description=description,
        policy_version=policy_version,
        reverses=transaction_id,
    )
    return reversal_id
