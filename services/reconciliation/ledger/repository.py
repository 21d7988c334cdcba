"""SQL of the ledger: inserts only (the database refuses updates and deletes)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.facts import batch
from services.reconciliation.ledger.postings import Posting
from services.reconciliation.models import Case, LedgerEntry, LedgerTransaction, PartnerEndpoint


async def add_transaction(
    session: AsyncSession,
    *,
    transaction_id: UUID,
    case_id: str,
    kind: str,
    lines: list[Posting],
    posted_at: datetime,
    description: str,
    policy_version: str | None = None,
    reverses: UUID | None = None,
) -> None:
    transaction = {
        "transaction_id": transaction_id,
        "case_id": case_id,
        "kind": kind,
        "reverses": reverses,
        "policy_version": policy_version,
        "description": description,
        "posted_at": posted_at,
    }
    view = batch.current(session)
    if view is not None:
        # A consumer batch inserts all its transactions, then all their entries, in bulk.
        view.ledger_transactions.append(transaction)
        view.ledger_entries += [
            {
                "transaction_id": transaction_id,
                "case_id": case_id,
                "account": p.account,
                "account_type": p.account_type,
                "counterparty_id": p.counterparty_id,
                "amount": p.amount,
                "posted_at": posted_at,
            }
            for p in lines
        ]
        return
    session.add(LedgerTransaction(**transaction))
    # No flush here: the entries' relationship to their transaction makes the unit of work
    # insert the transaction row first, and a batch's postings go out in bulk at commit.
    session.add_all(
        [
            LedgerEntry(
                transaction_id=transaction_id,
                case_id=case_id,
                account=p.account,
                account_type=p.account_type,
                counterparty_id=p.counterparty_id,
                amount=p.amount,
                posted_at=posted_at,
            )
            for p in lines
        ]
    )


async def unreversed_settlements(session: AsyncSession, case_id: str) -> list[LedgerTransaction]:
    reversed_ids = select(LedgerTransaction.reverses).where(
        LedgerTransaction.case_id == case_id, LedgerTransaction.reverses.is_not(None)
    )
    rows = await session.scalars(
        select(LedgerTransaction)
        .where(
            LedgerTransaction.case_id == case_id,
            LedgerTransaction.kind == "SETTLEMENT",
            LedgerTransaction.transaction_id.not_in(reversed_ids),
        )
        .order_by(LedgerTransaction.seq)
    )
    return list(rows)


async def is_reversed(session: AsyncSession, transaction_id: UUID) -> bool:
    found = await session.scalar(
        select(LedgerTransaction.transaction_id)
        .where(LedgerTransaction.reverses == transaction_id)
        .limit(1)
    )
    return found is not None


async def entries_of(session: AsyncSession, transaction_id: UUID) -> list[LedgerEntry]:
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.transaction_id == transaction_id)
        .order_by(LedgerEntry.id)
    )
    return list(rows)


async def transactions_of_case(session: AsyncSession, case_id: str) -> list[LedgerTransaction]:
    rows = await session.scalars(
        select(LedgerTransaction)
        .where(LedgerTransaction.case_id == case_id)
        .order_by(LedgerTransaction.seq)
    )
    return list(rows)


async def account_entries(
    session: AsyncSession, *, account: str, start: datetime, end: datetime
) -> list[tuple[LedgerEntry, LedgerTransaction]]:
    rows = await session.execute(
        select(LedgerEntry, LedgerTransaction)
        .join(LedgerTransaction, LedgerTransaction.transaction_id == LedgerEntry.transaction_id)
        .where(
            LedgerEntry.account == account,
            LedgerEntry.posted_at >= start,
            LedgerEntry.posted_at < end,
        )
        .order_by(LedgerEntry.posted_at, LedgerEntry.id)
    )
    return [(e, t) for e, t in rows.all()]


async def balances(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.account)
        .order_by(LedgerEntry.account)
    )
    return [(a, int(s)) for a, s in rows.all()]


async def case_exists(session: AsyncSession, case_id: str) -> bool:
    # The case room imports the ledger, so the ledger asks the table itself, not that room.
    return await session.scalar(select(Case.case_id).where(Case.case_id == case_id)) is not None


async def partner_known(session: AsyncSession, partner_id: str) -> bool:
    """Whether the desk knows this partner: a case names it, its receivable account has a
    posting, or an admin registered its notice endpoint. Reconciliation keeps no partner
    registry of its own (intake's is the source); each of these is indexed."""
    found = select(
        exists().where(Case.partner_id == partner_id)
        | exists().where(LedgerEntry.account == f"partner_receivable:{partner_id}")
        | exists().where(PartnerEndpoint.partner_id == partner_id)
    )
    return bool(await session.scalar(found))
