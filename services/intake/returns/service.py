"""Accept returns from the marketplace feed and emit `ReturnInitiated` once per return."""

from __future__ import annotations

import json
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Outbox
from services.intake.returns import repository
from services.intake.returns.schemas import ReturnAccepted, ReturnIn
from shared.events import ReturnInitiated
from shared.outbox import enqueue

SOURCE = "disputedesk/intake"


async def accept_return(session: AsyncSession, *, data: ReturnIn) -> ReturnAccepted:
    event = ReturnInitiated(**data.model_dump())
    ce_id = uuid4()
    stored = await repository.insert_return_once(
        session,
        return_id=data.return_id,
        seller_id=data.seller_id,
        payload=json.loads(event.model_dump_json()),
        ce_id=ce_id,
    )
    if stored is None:
        existing = await repository.get_return(session, data.return_id)
        return ReturnAccepted(
            return_id=data.return_id, event_id=str(existing.ce_id if existing else ""), duplicate=True
        )
    enqueue(session, Outbox, event, source=SOURCE, subject=data.return_id, ce_id=ce_id)
    return ReturnAccepted(return_id=data.return_id, event_id=str(ce_id), duplicate=False)
