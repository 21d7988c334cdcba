"""SQL of partner disputes: endpoints, notices, delivery attempts, contests."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import (
    DebitNotice,
    LedgerEntry,
    NoticeAttempt,
    NoticeContest,
    PartnerEndpoint,
)
from shared import paging


async def endpoint(
    session: AsyncSession, partner_id: str, *, lock: bool = False
) -> PartnerEndpoint | None:
    if not lock:
        return await session.get(PartnerEndpoint, partner_id)
    # Read afresh under the lock: a row this session holds may predate another's commit.
    return await session.get(
        PartnerEndpoint, partner_id, with_for_update=True, populate_existing=True
    )


async def add_endpoint_if_absent(
    session: AsyncSession,
    partner_id: str,
    *,
    url: str,
    scheme: str,
    secret_encrypted: str,
    now: datetime,
) -> None:
    """A partner's endpoint row, disabled, unless it has one. Insert-or-nothing: a concurrent
    insert of the same partner is waited for, then this one does nothing, never a key error."""
    await session.execute(
        pg_insert(PartnerEndpoint)
        .values(
            partner_id=partner_id,
            url=url,
            scheme=scheme,
            secret_encrypted=secret_encrypted,
            enabled=False,
            finance_contact=None,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[PartnerEndpoint.partner_id])
    )


async def endpoints(session: AsyncSession) -> list[PartnerEndpoint]:
    return list(await session.scalars(select(PartnerEndpoint).order_by(PartnerEndpoint.partner_id)))


async def notice(
    session: AsyncSession, notice_id: UUID, *, lock: bool = False
) -> DebitNotice | None:
    query = select(DebitNotice).where(DebitNotice.notice_id == notice_id)
    if lock:
        # Read afresh under the lock: the row this session already holds (read before the case
        # lock was waited for) may predate an overturn that withdrew the notice meanwhile.
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def notices(
    session: AsyncSession,
    *,
    partner_id: str | None = None,
    delivery: str | None = None,
    dispute: str | None = None,
    case_id: str | None = None,
    after: tuple[datetime, UUID] | None = None,
    limit: int = 200,
) -> list[DebitNotice]:
    """Newest first, keyset-paginated on (created_at, notice_id)."""
    order = [(DebitNotice.created_at, True), (DebitNotice.notice_id, True)]
    query = select(DebitNotice).order_by(*paging.order_by(order)).limit(limit)
    if partner_id is not None:
        query = query.where(DebitNotice.partner_id == partner_id)
    if delivery is not None:
        query = query.where(DebitNotice.delivery == delivery)
    if dispute is not None:
        query = query.where(DebitNotice.dispute == dispute)
    if case_id is not None:
        query = query.where(DebitNotice.case_id == case_id)
    if after is not None:
        query = query.where(paging.after(order, after))
    return list(await session.scalars(query))


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[DebitNotice]:
    """Due notices, locked; SKIP LOCKED so replicas never deliver the same notice at once."""
    return list(
        await session.scalars(
            select(DebitNotice)
            .where(DebitNotice.delivery == "PENDING", DebitNotice.next_attempt_at <= now)
            .order_by(DebitNotice.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


async def next_due(session: AsyncSession) -> datetime | None:
    """When the delivery loop next has work: a pending notice's next attempt or an open
    contest window's end, whichever is first (None: neither). Both are read on their own
    partial indexes."""
    attempt = (
        select(func.min(DebitNotice.next_attempt_at))
        .where(DebitNotice.delivery == "PENDING")
        .scalar_subquery()
    )
    window = (
        select(func.min(DebitNotice.contest_by))
        .where(DebitNotice.dispute == "OPEN")
        .scalar_subquery()
    )
    result: datetime | None = await session.scalar(select(func.least(attempt, window)))
    return result


async def finalize_expired(session: AsyncSession, *, now: datetime) -> int:
    """Uncontested notices whose window has passed become final: the window's durable timer is
    the `contest_by` column itself, so a restart loses nothing."""
    result = await session.execute(
        update(DebitNotice)
        .where(DebitNotice.dispute == "OPEN", DebitNotice.contest_by <= now)
        .values(dispute="FINAL", final_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def owe_unsent_rulings(
    session: AsyncSession, *, rulings: frozenset[str], now: datetime
) -> int:
    """Notices ruled while rulings were not sent (before 2026-12-05) are owed their ruling:
    ruled, delivered (or dead-lettered, which a ruling made now revives), and never attempted
    since the ruling (a ruling made since goes back to the queue and is attempted after it).
    Put back in the delivery queue, as a ruling made now is; the ruling's message id is
    stable, so a partner that somehow has it drops it."""
    since_ruling = exists().where(
        NoticeAttempt.notice_id == DebitNotice.notice_id,
        NoticeAttempt.attempted_at >= NoticeContest.decided_at,
    )
    result = await session.execute(
        update(DebitNotice)
        .where(
            DebitNotice.dispute.in_(sorted(rulings)),
            DebitNotice.delivery.in_(("DELIVERED", "DEAD")),
            NoticeContest.notice_id == DebitNotice.notice_id,
            and_(NoticeContest.decided_at.is_not(None), ~since_ruling),
        )
        .values(delivery="PENDING", attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def park(session: AsyncSession, partner_id: str) -> None:
    await session.execute(
        update(DebitNotice)
        .where(DebitNotice.partner_id == partner_id, DebitNotice.delivery == "PENDING")
        .values(delivery="PARKED", next_attempt_at=None)
    )


async def unpark(session: AsyncSession, partner_id: str, now: datetime) -> None:
    await session.execute(
        update(DebitNotice)
        .where(DebitNotice.partner_id == partner_id, DebitNotice.delivery == "PARKED")
        .values(delivery="PENDING", next_attempt_at=now)
    )


async def attempts(session: AsyncSession, notice_id: UUID) -> list[NoticeAttempt]:
    return list(
        await session.scalars(
            select(NoticeAttempt)
            .where(NoticeAttempt.notice_id == notice_id)
            .order_by(NoticeAttempt.id)
        )
    )


async def contest_of(session: AsyncSession, notice_id: UUID) -> NoticeContest | None:
    return await session.scalar(select(NoticeContest).where(NoticeContest.notice_id == notice_id))


async def balance_before(session: AsyncSession, account: str, before: datetime) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account == account, LedgerEntry.posted_at < before
        )
    )
    return int(total or 0)


async def contests_filed(
    session: AsyncSession, partner_id: str, start: datetime, end: datetime
) -> list[tuple[NoticeContest, DebitNotice]]:
    rows = await session.execute(
        select(NoticeContest, DebitNotice)
        .join(DebitNotice, DebitNotice.notice_id == NoticeContest.notice_id)
        .where(
            NoticeContest.partner_id == partner_id,
            NoticeContest.filed_at >= start,
            NoticeContest.filed_at < end,
        )
        .order_by(NoticeContest.filed_at)
    )
    return [(c, n) for c, n in rows]
