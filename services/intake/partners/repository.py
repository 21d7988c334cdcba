"""Every SQL statement of partner intake: registry reads, archive writes, event dedup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from asyncpg import Connection, PostgresError
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import (
    HeldScan,
    Partner,
    PartnerSecret,
    RawRequest,
    ShipmentEventRecord,
    StatusMapping,
    UnmappedScan,
)
from shared.db import json_text, table_of


async def get_partner(session: AsyncSession, partner_id: str) -> Partner | None:
    return await session.get(Partner, partner_id)


async def all_secrets(session: AsyncSession, *, partner_id: str) -> Sequence[PartnerSecret]:
    """Every stored secret of the partner with its validity; callers filter by their own clock."""
    return (
        await session.scalars(select(PartnerSecret).where(PartnerSecret.partner_id == partner_id))
    ).all()


async def secrets_to_reencrypt(session: AsyncSession) -> Sequence[PartnerSecret]:
    """Every encrypted secret, locked: a key rotation rewrites those made with a retired key."""
    return (
        await session.scalars(
            select(PartnerSecret)
            .where(PartnerSecret.secret_encrypted.is_not(None))
            .order_by(PartnerSecret.id)
            .with_for_update()
        )
    ).all()


async def status_mappings(
    session: AsyncSession, *, partner_id: str, statuses: Sequence[str]
) -> dict[str, str]:
    rows = await session.execute(
        select(StatusMapping.status, StatusMapping.event_type).where(
            StatusMapping.partner_id == partner_id, StatusMapping.status.in_(list(statuses))
        )
    )
    return {status: event_type for status, event_type in rows.all()}


# Built once: a statement object made per request would pay SQLAlchemy's cache-key walk each time.
_ARCHIVE_ONCE = (
    pg_insert(table_of(RawRequest))
    .on_conflict_do_nothing(
        index_elements=["partner_id", "request_key"], index_where=text("request_key IS NOT NULL")
    )
    .returning(table_of(RawRequest).c.id)
)


async def archive_once(
    session: AsyncSession,
    *,
    raw_id: UUID,
    partner_id: str,
    request_key: str,
    received_at: datetime,
    headers: dict[str, str],
    body: bytes,
    verdict: str,
    events_emitted: int,
    detail: dict[str, Any] | None,
) -> UUID | None:
    """Archive the request under `raw_id` unless this partner's request with this key is
    archived already: None when stored now, else the id of the copy stored before.

    The unique index on (partner_id, request_key) decides, not a read first: a twin sent at the
    same moment waits on the index for this transaction, then finds the row and takes its id."""
    stored = await session.execute(
        _ARCHIVE_ONCE,
        {
            "id": raw_id,
            "partner_id": partner_id,
            "request_key": request_key,
            "received_at": received_at,
            "headers": headers,
            "body": body,
            "verdict": verdict,
            "events_emitted": events_emitted,
            "detail": detail,
        },
    )
    if stored.scalar_one_or_none() is not None:
        return None
    earlier = await session.execute(
        select(RawRequest.id).where(
            RawRequest.partner_id == partner_id, RawRequest.request_key == request_key
        )
    )
    return earlier.scalar_one()


async def record_verdict(
    session: AsyncSession,
    raw_id: UUID,
    *,
    verdict: str,
    events_emitted: int,
    detail: dict[str, Any] | None,
) -> None:
    """What intake made of the request archived (by `archive_once`) before it was judged."""
    await session.execute(
        update(RawRequest)
        .where(RawRequest.id == raw_id)
        .values(verdict=verdict, events_emitted=events_emitted, detail=detail)
    )


async def record_events_once(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert canonical events unless their partner event was seen before; the new ones' ids.

    One statement for the whole batch: the unique key (partner_id, partner_event_id) is the
    redelivery guard, and concurrent deliveries of the same event race safely on it.
    """
    if not rows:
        return set()
    # Parameters passed separately (not `.values(rows)`), so the statement compiles once and
    # is cached whatever the batch size; the driver batches the rows.
    inserted = await session.execute(
        pg_insert(ShipmentEventRecord)
        .on_conflict_do_nothing(index_elements=["partner_id", "partner_event_id"])
        .returning(ShipmentEventRecord.partner_event_id),
        list(rows),
    )
    return set(inserted.scalars().all())


# The canonical events and their outbox rows in one round trip. The rows travel as one JSON
# array, so the statement's text is the same for 1 or 500 events and stays prepared on the
# connection; the outbox rows are inserted only for the events the unique key let through, in
# the order given (the relay publishes by outbox id). Both statements below are built from
# these parts: the rows, and the events with their outbox rows.
_INCOMING = """incoming AS (
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS i(
        ordinal int, event_id uuid, partner_id varchar, partner_event_id varchar,
        return_id varchar, awb varchar, event_type varchar, occurred_at timestamptz,
        raw_ref uuid, payload jsonb, recorded_at timestamptz, ce_type varchar,
        ce_source varchar, ce_time timestamptz, ce_subject varchar, topic varchar,
        key varchar, traceparent varchar)
)"""


def _recorded_and_published(scans: str, order: str) -> str:
    """The events of `scans` (rows `i` of `incoming`, joined as the statement needs) recorded
    unless seen before, and the outbox rows of exactly those, both in `order`. The outbox rows
    are joined by `event_id`, each incoming row's own: two rows carrying one partner event
    record it once and publish it once."""
    return f"""recorded AS (
    INSERT INTO shipment_events (event_id, partner_id, partner_event_id, return_id, event_type,
                                 occurred_at, raw_ref, payload, recorded_at)
    SELECT i.event_id, i.partner_id, i.partner_event_id, i.return_id, i.event_type,
           i.occurred_at, i.raw_ref, i.payload, i.recorded_at
      FROM {scans}
     ORDER BY {order}
    ON CONFLICT (partner_id, partner_event_id) DO NOTHING
    RETURNING event_id, raw_ref, partner_event_id
), published AS (
    INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, ce_subject, topic, key, payload,
                        traceparent)
    SELECT i.event_id, i.ce_type, i.ce_source, i.ce_time, i.ce_subject, i.topic, i.key,
           i.payload, i.traceparent
      FROM {scans}
      JOIN recorded r ON r.event_id = i.event_id
     ORDER BY {order}
)"""


_RECORD_WITH_OUTBOX = text(
    f"""
WITH {_INCOMING}, {_recorded_and_published("incoming i", "i.ordinal")}
SELECT partner_event_id FROM recorded
"""
)


async def record_events_with_outbox_once(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> set[str]:
    """`record_events_once` and the outbox rows of the events it recorded, in one statement.

    Each row is a `shipment_events` row whose `payload` is also the outbox row's, plus the
    outbox row's envelope columns (`shared.outbox.outbox_row`); the event's `event_id` is its
    `ce_id`. Returns the partner event ids recorded now (the others were seen before).
    """
    if not rows:
        return set()
    document = json_text([{**row, "ordinal": n} for n, row in enumerate(rows)])
    recorded = await session.execute(_RECORD_WITH_OUTBOX, {"rows": document})
    return set(recorded.scalars().all())


# Requests whose every scan is of a return the feed gave to this partner under this AWB, in one
# autocommitted statement (no BEGIN, no COMMIT, no separate ownership read): per request, the
# ownership check, the events, their outbox rows and the archived request, all or nothing.
# Several requests may share the statement (`partners/batching.py`); each is judged alone: a
# request with a scan not of such a return writes nothing and comes back not `owned`, and its
# caller takes the transactional path, which holds or refuses. `outcomes` is, per request, what
# to archive (verdict, detail) for each possible number of new events, as the caller decides it:
# the statement only picks. The rows carry their request's archive id as `raw_ref`; the outbox
# rows are joined to the events recorded by `event_id`, so two requests of one statement that
# carry the same partner event record it once and publish it once.
# The archive keeps each request once per partner and `request_key` (the partner's request id
# and the exact body), as the transactional path does; archived on each delivery, a partner
# resending one payload grew the archive by its whole body every time, without bound. A
# redelivery of a request archived before, whose every scan is recorded already (the common
# retry), is still answered here: nothing is written, and its answer names the copy archived
# first (`archive_id`). One that would record a scan now (its copy went the transactional way,
# its scans held or refused then), or the twin of a request earlier in the same statement, is
# not taken here (not `owned`): the transactional path judges it against the copy archived
# first.
_OWNED_SCANS = "incoming i JOIN owned o ON o.raw_id = i.raw_ref AND o.every_scan"
_RECORD_OWNED = text(
    f"""
WITH {_INCOMING}, requests AS (
    SELECT * FROM unnest(CAST(:raw_ids AS uuid[]), CAST(:partner_ids AS varchar[]),
                         CAST(:request_keys AS varchar[]),
                         CAST(:received_ats AS timestamptz[]), CAST(:headers AS text[]),
                         CAST(:bodies AS bytea[]), CAST(:outcomes AS text[]))
           WITH ORDINALITY AS q(raw_id, partner_id, request_key, received_at, headers, body,
                                outcomes, position)
), judged AS (
    SELECT q.raw_id, q.position,
           bool_and(r.return_id IS NOT NULL) AS every_scan_owned,
           (SELECT a.id FROM raw_requests a
             WHERE a.partner_id = q.partner_id AND a.request_key = q.request_key) AS earlier,
           EXISTS (SELECT 1 FROM requests t
                    WHERE t.partner_id = q.partner_id AND t.request_key = q.request_key
                      AND t.position < q.position) AS twin_ahead
      FROM requests q
      JOIN incoming i ON i.raw_ref = q.raw_id
      LEFT JOIN returns r
        ON r.return_id = i.return_id AND r.partner_id = i.partner_id AND r.awb = i.awb
     GROUP BY q.raw_id, q.position, q.partner_id, q.request_key
), owned AS (
    -- Whether every scan is recorded already is asked of a redelivery only (CASE evaluates
    -- the subquery for it alone): a first delivery's scans are probed once, by the insert.
    SELECT j.raw_id, j.position, j.earlier,
           j.every_scan_owned AND NOT j.twin_ahead
           AND CASE WHEN j.earlier IS NULL THEN true
                    ELSE NOT EXISTS (
                        SELECT 1 FROM incoming i
                         WHERE i.raw_ref = j.raw_id
                           AND NOT EXISTS (
                               SELECT 1 FROM shipment_events s
                                WHERE s.partner_id = i.partner_id
                                  AND s.partner_event_id = i.partner_event_id))
               END AS every_scan
      FROM judged j
), {_recorded_and_published(_OWNED_SCANS, "o.position, i.ordinal")}, tally AS (
    SELECT raw_ref, count(*)::int AS fresh, array_agg(partner_event_id) AS ids
      FROM recorded GROUP BY raw_ref
), archived AS (
    INSERT INTO raw_requests (id, partner_id, request_key, received_at, headers, body, verdict,
                              events_emitted, detail)
    SELECT q.raw_id, q.partner_id, q.request_key, q.received_at, CAST(q.headers AS jsonb),
           q.body, picked.outcome->>'verdict', coalesce(t.fresh, 0), picked.outcome->'detail'
      FROM requests q
      JOIN owned o ON o.raw_id = q.raw_id AND o.every_scan AND o.earlier IS NULL
      LEFT JOIN tally t ON t.raw_ref = q.raw_id
     CROSS JOIN LATERAL (SELECT CAST(q.outcomes AS jsonb) -> coalesce(t.fresh, 0) AS outcome)
           picked
    -- A twin archived by another process's statement at the same moment: kept once.
    ON CONFLICT (partner_id, request_key) WHERE request_key IS NOT NULL DO NOTHING
)
SELECT o.raw_id, o.every_scan AS owned, coalesce(t.ids, '{{}}') AS recorded,
       coalesce(o.earlier, o.raw_id) AS archive_id
  FROM owned o
  LEFT JOIN tally t ON t.raw_ref = o.raw_id
 ORDER BY o.position
"""
)


# The statement as asyncpg takes it: numbered parameters, in this order of the named ones.
_RECORD_OWNED_COMPILED = _RECORD_OWNED.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
_RECORD_OWNED_SQL = str(_RECORD_OWNED_COMPILED)
_RECORD_OWNED_ORDER = tuple(_RECORD_OWNED_COMPILED.positiontup or ())


@dataclass(frozen=True, slots=True)
class OwnedRecord:
    """What the statement did for one request it took: the partner event ids recorded now, and
    the archived copy that answers for the request (its own, or the one archived before)."""

    events: frozenset[str]
    raw_ref: UUID


@dataclass(frozen=True, slots=True)
class OwnedScans:
    """One request for the statement above. `rows` as for `record_events_with_outbox_once`,
    each with the scan's `awb` and `raw_ref` (the request's `raw_id`); `outcomes` what to
    archive for 0, 1, … new events; the rest the archived request's columns."""

    rows: Sequence[dict[str, Any]]
    raw_id: UUID
    partner_id: str
    request_key: str
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    outcomes: Sequence[Any]  # per count of new events, or per pair of counts (new, held)


async def record_owned_scans(
    connection: Connection, requests: Sequence[OwnedScans]
) -> list[OwnedRecord | None]:
    """The statement above, for each request in order: the partner event ids it recorded now
    and the archived copy answering for it, or None if any of its scans is not of a return this
    partner owns under its AWB, or it is to be judged against a copy archived before (then
    nothing of that request was written).

    Sent to asyncpg itself on a connection the caller checked out of the pool
    (`shared.pooled.driver_connection`; the sender keeps one for statements sent back to back,
    `batching.py`), outside any transaction (so autocommitted: the statement is its own
    transaction, no BEGIN, no COMMIT), and prepared once per connection by asyncpg's statement
    cache: its text is the same for any number of requests and scans. SQLAlchemy's execution
    around it (building the cache key, finding the compiled statement, wrapping the result) was
    a third of the time the driver took.
    """
    params = {
        "rows": json_text(
            [{**row, "ordinal": n} for request in requests for n, row in enumerate(request.rows)]
        ),
        "raw_ids": [request.raw_id for request in requests],
        "partner_ids": [request.partner_id for request in requests],
        "request_keys": [request.request_key for request in requests],
        "received_ats": [request.received_at for request in requests],
        "headers": [json_text(request.headers) for request in requests],
        "bodies": [request.body for request in requests],
        "outcomes": [json_text(request.outcomes) for request in requests],
    }
    answers = await connection.fetch(
        _RECORD_OWNED_SQL, *(params[name] for name in _RECORD_OWNED_ORDER)
    )
    by_request = {answer["raw_id"]: answer for answer in answers}
    return [
        OwnedRecord(frozenset(answer["recorded"]), answer["archive_id"])
        if (answer := by_request[r.raw_id])["owned"]
        else None
        for r in requests
    ]


async def record_unmapped_once(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Remember unmapped scans (first sighting only); the statuses of the newly seen ones."""
    if not rows:
        return []
    inserted = await session.execute(
        pg_insert(UnmappedScan)
        .on_conflict_do_nothing(index_elements=["partner_id", "partner_event_id"])
        .returning(UnmappedScan.status),
        list(rows),
    )
    return list(inserted.scalars().all())


async def unresolved_raw_refs(
    session: AsyncSession, *, partner_id: str | None, limit: int
) -> list[tuple[UUID, str]]:
    query = select(UnmappedScan.raw_ref, UnmappedScan.partner_id).where(
        UnmappedScan.resolved_at.is_(None)
    )
    if partner_id is not None:
        query = query.where(UnmappedScan.partner_id == partner_id)
    query = query.group_by(UnmappedScan.raw_ref, UnmappedScan.partner_id).order_by(
        UnmappedScan.raw_ref
    )
    return [(r, p) for r, p in (await session.execute(query.limit(limit))).all()]


async def get_raw_request(session: AsyncSession, raw_id: UUID) -> RawRequest | None:
    return await session.get(RawRequest, raw_id)


async def resolve_emitted_unmapped(session: AsyncSession, *, partner_id: str, now: datetime) -> int:
    """Mark unmapped scans resolved once their partner event has a canonical event."""
    emitted = select(ShipmentEventRecord.partner_event_id).where(
        ShipmentEventRecord.partner_id == partner_id
    )
    result = await session.execute(
        update(UnmappedScan)
        .where(
            UnmappedScan.partner_id == partner_id,
            UnmappedScan.resolved_at.is_(None),
            UnmappedScan.partner_event_id.in_(emitted),
        )
        .values(resolved_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def hold_once(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Hold scans whose return is not known yet (first sighting only); the newly held ids."""
    if not rows:
        return []
    inserted = await session.execute(
        pg_insert(HeldScan)
        .on_conflict_do_nothing(index_elements=["partner_id", "partner_event_id"])
        .returning(HeldScan.partner_event_id),
        list(rows),
    )
    return list(inserted.scalars().all())


async def held_for_return(session: AsyncSession, return_id: str) -> Sequence[HeldScan]:
    query = (
        select(HeldScan)
        .where(HeldScan.return_id == return_id, HeldScan.state == "held")
        .order_by(HeldScan.id)
        .with_for_update()
    )
    return (await session.scalars(query)).all()


async def held_before(
    session: AsyncSession, held_before: datetime, *, limit: int = 500
) -> Sequence[HeldScan]:
    """Scans held since before `held_before`, locked; those a feed entry is binding right now
    are skipped, not waited for."""
    query = (
        select(HeldScan)
        .where(HeldScan.state == "held", HeldScan.held_at < held_before)
        .order_by(HeldScan.held_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(query)).all()


async def count_emitted(session: AsyncSession, raw_id: UUID, n: int) -> None:
    """Add events emitted later (a held scan bound) to the archived request they came in."""
    await session.execute(
        update(RawRequest)
        .where(RawRequest.id == raw_id)
        .values(events_emitted=RawRequest.events_emitted + n)
    )


# A request whose scans are of returns this partner owns under their AWBs or of returns not
# announced yet, in one autocommitted call (migration b5e1c7a3d9f4): the returns' locks, the
# owners read after them, the events with their outbox rows, the holds and the archive.
_RECORD_OR_HOLD = "SELECT * FROM intake_record_or_hold_scans($1, $2, $3, $4, $5, $6, $7, $8)"
# The call's SQLSTATE when a twin of the request was archived by another call meanwhile: its
# writes are rolled back, and the request is judged against the twin's copy.
TWIN_ARCHIVED = "DDH01"


@dataclass(frozen=True, slots=True)
class RecordedOrHeld:
    """What the call wrote for a request: the partner event ids recorded now and held now."""

    recorded: frozenset[str]
    held: list[str]  # in request order, as the archive's detail lists them


async def record_or_hold_scans(
    connection: Connection, request: OwnedScans
) -> RecordedOrHeld | None:
    """The call above, on asyncpg's `connection` outside any transaction (the call is its own).
    `request` as for `record_owned_scans`, with `outcomes[fresh][held]` what to archive for
    that many new events and newly held scans. None when it wrote nothing: the request was
    archived before, a scan is of another partner's or AWB's return, or a twin was archived
    by another call meanwhile; the transactional path then judges it."""
    try:
        answer = await connection.fetchrow(
            _RECORD_OR_HOLD,
            json_text([{**row, "ordinal": n} for n, row in enumerate(request.rows)]),
            request.raw_id,
            request.partner_id,
            request.request_key,
            request.received_at,
            json_text(request.headers),
            request.body,
            json_text(request.outcomes),
        )
    except PostgresError as exc:
        if exc.sqlstate == TWIN_ARCHIVED:
            return None
        raise
    assert answer is not None
    if answer["outcome"] != "stored":
        return None
    return RecordedOrHeld(frozenset(answer["recorded"]), list(answer["held"]))
