"""Record a canonical event about a return: into the outbox (to be published) and into the
return's history (to be read back), in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.history import repository
from services.intake.history.schemas import ReturnEventOut, ReturnHistory
from services.intake.models import Outbox, ReturnEventLog
from shared.events import EventPayload, ReturnShipmentEvent
from shared.outbox import enqueue

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
            payload=json.loads(payload.model_dump_json()),
        ),
    )
    return envelope.id


async def record_shipment_events(
    session: AsyncSession,
    events: Sequence[tuple[ReturnShipmentEvent, dict[str, Any]]],
    *,
    recorded_at: datetime,
) -> None:
    """`record` for a partner batch: the history rows go in one statement (a 500-event batch
    would otherwise be 500 ORM objects more to flush)."""
    if not events:
        return
    for event, _ in events:
        # The canonical event's ce_id is its event_id: fixed when the fact is recorded.
        enqueue(
            session, Outbox, event, source=SOURCE, subject=event.return_id, ce_id=event.event_id
        )
    await repository.add_many(
        session,
        [
            {"ce_id": event.event_id, "return_id": event.return_id, "ce_type": event.ce_type,
             "occurred_at": event.occurred_at, "recorded_at": recorded_at, "payload": payload}
            for event, payload in events
        ],
    )


async def history(session: AsyncSession, *, return_id: str, limit: int) -> ReturnHistory:
    rows = await repository.for_return(session, return_id=return_id, limit=limit)
    return ReturnHistory(
        return_id=return_id,
        events=[
            ReturnEventOut(
                ce_id=str(r.ce_id),
                ce_type=r.ce_type,
                occurred_at=r.occurred_at,
                recorded_at=r.recorded_at,
                payload=r.payload,
            )
            for r in rows
        ],
    )
