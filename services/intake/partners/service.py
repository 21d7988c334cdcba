"""Partner webhook intake: authenticate, parse, archive, deduplicate, emit canonical events.

Never commits: the request's unit of work commits the archive row and the outbox rows together,
so a `202` always means both are stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Outbox
from services.intake.partners import repository
from services.intake.partners.adapter import PartnerAdapter
from shared.events import ReturnShipmentEvent
from shared.outbox import enqueue

SOURCE = "disputedesk/intake"


@dataclass(frozen=True, slots=True)
class IngestResult:
    raw_ref: str
    accepted: int
    duplicates: int
    unmapped: list[str]


async def ingest(
    session: AsyncSession,
    *,
    partner_id: str,
    adapter: PartnerAdapter,
    headers: Mapping[str, str],
    body: bytes,
    received_at: datetime,
) -> IngestResult:
    """The request is authenticated already; parse errors propagate as PayloadInvalid."""
    scans = adapter.parse(headers=headers, body=body)
    raw_id = uuid4()
    accepted = duplicates = 0
    unmapped: list[str] = []
    for scan in scans:
        if scan.event_type is None:
            unmapped.append(scan.status)
            continue
        event = ReturnShipmentEvent(
            event_id=uuid4(),
            partner_id=partner_id,
            partner_event_id=scan.partner_event_id,
            return_id=scan.return_id,
            awb=scan.awb,
            event_type=scan.event_type,
            occurred_at=scan.occurred_at,
            hub_id=scan.hub_id,
            agent_id=scan.agent_id,
            weight_g=scan.weight_g,
            images=scan.images,
            pod_otp_verified=scan.pod_otp_verified,
            qc_failure_reason=scan.qc_failure_reason,
            raw_ref=str(raw_id),
        )
        is_new = await repository.record_event_once(
            session,
            {
                "event_id": event.event_id,
                "partner_id": partner_id,
                "partner_event_id": scan.partner_event_id,
                "return_id": scan.return_id,
                "event_type": scan.event_type.value,
                "occurred_at": scan.occurred_at,
                "raw_ref": raw_id,
                "payload": json.loads(event.model_dump_json()),
            },
        )
        if not is_new:
            duplicates += 1
            continue
        # The canonical event's ce_id is its event_id: fixed when the fact is recorded.
        enqueue(session, Outbox, event, source=SOURCE, subject=scan.return_id, ce_id=event.event_id)
        accepted += 1

    verdict = "accepted" if accepted else ("duplicate" if duplicates else "unmapped")
    if unmapped and accepted:
        verdict = "partially_unmapped"
    repository.archive(
        session,
        raw_id=raw_id,
        partner_id=partner_id,
        received_at=received_at,
        headers={k: v for k, v in headers.items() if k in adapter.archived_headers},
        body=body,
        verdict=verdict,
        events_emitted=accepted,
        detail={"duplicates": duplicates, "unmapped": unmapped} if (duplicates or unmapped) else None,
    )
    return IngestResult(str(raw_id), accepted, duplicates, unmapped)
