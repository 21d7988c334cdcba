"""Record a canonical event about a return: into the outbox (to be published) and into the
return's history (to be read back), in the caller's transaction.

Partner scans are the exception: `shipment_events` (their dedup table) already holds each one
with its payload, so the history reads them from there instead of storing them twice.
"""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.history import repository
from services.intake.history.schemas import ReturnEventOut, ReturnHistory
from services.intake.models import Outbox, ReturnEventLog
from shared import paging
from shared.events import EventPayload
from shared.outbox import enqueue, outbox_envelope_columns
from shared.problems import Problem

SOURCE = "disputedesk/intake"


def record(
    session: AsyncSession,
    payload: EventPayload,
    *,
    occurred_at: datetime,
    recorded_at: datetime,
    ce_id: UUID | None = None,
) -> UUID:
    """Enqueue `payload` (keyed by its return) and log it in the return's history; its ce_id."""
    return_id = payload.kafka_key()  # every event on intake.returns.v1 is keyed by its return
    envelope = enqueue(session, Outbox, payload, source=SOURCE, subject=return_id, ce_id=ce_id)
    repository.add(
        session,
        ReturnEventLog(
            ce_id=envelope.id,
            return_id=return_id,
            ce_type=payload.ce_type,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            payload=json.loads(logged_json(payload)),
        ),
    )
    return envelope.id


def recorded_columns(
    payload: EventPayload, *, occurred_at: datetime, recorded_at: datetime, ce_id: UUID
) -> dict[str, object]:
    """What `record` writes, as the parameters of a statement that stores the event's fact with
    its outbox row and history line in one round trip (`repository.published_and_logged`):
    the event's JSON once as text (`payload`), the outbox row's envelope columns, and the
    history line's."""
    _, outbox = outbox_envelope_columns(
        payload, source=SOURCE, subject=payload.kafka_key(), ce_id=ce_id
    )
    return {
        "payload": payload.model_dump_json(),
        **outbox,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "logged": logged_json(payload),
    }


def logged_json(payload: EventPayload) -> str:
    """The document a history line keeps of an event. The sealed seller address is for
    notifications only; the history has no use for it."""
    return payload.model_dump_json(exclude={"seller_contact"})


async def history(
    session: AsyncSession, *, return_id: str, limit: int, cursor: str | None
) -> ReturnHistory:
    rows = await repository.for_return(
        session,
        return_id=return_id,
        limit=limit + 1,
        after=(
            None if cursor is None else paging.decode_cursor(cursor, (datetime, datetime, UUID))
        ),
    )
    if not rows and cursor is None:
        # Every return intake knows has a first event (its feed entry, a claim or a scan):
        # an id with none names nothing, and is refused as an unknown case id is.
        raise Problem(404, "Not found", f"Nothing is known of return {return_id}.")
    page, next_cursor = paging.page(rows, limit, lambda r: (r.occurred_at, r.recorded_at, r.ce_id))
    return ReturnHistory(
        return_id=return_id,
        next=next_cursor,
        items=[
            ReturnEventOut(
                ce_id=str(r.ce_id),
                ce_type=r.ce_type,
                occurred_at=r.occurred_at,
                recorded_at=r.recorded_at,
                payload=r.payload,
            )
            for r in page
        ],
    )
