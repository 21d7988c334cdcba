"""Partner webhook intake: parse, deduplicate, emit canonical events, archive the request.

Never commits: the request's unit of work commits the archive row and the outbox rows together,
so a `202` always means both are stored. A batch is parsed and validated whole before anything
is written, so a bad event rejects the whole batch and nothing is half-stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import metrics
from services.intake.history.service import SOURCE
from services.intake.models import Outbox
from services.intake.partners import repository
from services.intake.partners.adapter import ParsedScan, PartnerAdapter, PayloadInvalid
from services.intake.partners.parsing import validation_errors
from services.intake.partners.registry import ADAPTERS
from shared.events import ReturnShipmentEvent, ShipmentEventType
from shared.outbox import enqueue


@dataclass(frozen=True, slots=True)
class IngestResult:
    raw_ref: str
    accepted: int
    duplicates: int
    unmapped: list[str]

    @property
    def verdict(self) -> str:
        if self.accepted and self.unmapped:
            return "partially_unmapped"
        if self.accepted:
            return "accepted"
        if self.unmapped:
            return "unmapped"
        return "duplicate"


@dataclass(frozen=True, slots=True)
class ReplayResult:
    requests_replayed: int
    events_emitted: int
    scans_resolved: int


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
    result = await _emit(
        session, partner_id=partner_id, scans=scans, raw_id=raw_id, now=received_at
    )
    repository.archive(
        session,
        raw_id=raw_id,
        partner_id=partner_id,
        received_at=received_at,
        headers=archived_headers(adapter, headers),
        body=body,
        verdict=result.verdict,
        events_emitted=result.accepted,
        detail=(
            {"duplicates": result.duplicates, "unmapped": result.unmapped}
            if (result.duplicates or result.unmapped)
            else None
        ),
    )
    return result


def archived_headers(adapter: PartnerAdapter, headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v[:2000] for k, v in headers.items() if k in adapter.archived_headers}


def archive_invalid(
    session: AsyncSession,
    *,
    partner_id: str,
    adapter: PartnerAdapter,
    headers: Mapping[str, str],
    body: bytes,
    received_at: datetime,
    errors: list[dict[str, str]],
) -> str:
    """Keep an authenticated but unreadable request, so the partner's mistake can be shown."""
    raw_id = uuid4()
    repository.archive(
        session,
        raw_id=raw_id,
        partner_id=partner_id,
        received_at=received_at,
        headers=archived_headers(adapter, headers),
        body=body,
        verdict="invalid",
        events_emitted=0,
        detail={"errors": errors[:50]},
    )
    return str(raw_id)


async def _resolve_types(
    session: AsyncSession, *, partner_id: str, scans: Sequence[ParsedScan]
) -> list[ShipmentEventType | None]:
    """The adapter's built-in map first, then the partner's admin-added mappings."""
    missing = {s.status for s in scans if s.event_type is None}
    added = (
        await repository.status_mappings(session, partner_id=partner_id, statuses=sorted(missing))
        if missing
        else {}
    )
    return [
        s.event_type
        if s.event_type is not None
        else (ShipmentEventType(added[s.status]) if s.status in added else None)
        for s in scans
    ]


async def _emit(
    session: AsyncSession,
    *,
    partner_id: str,
    scans: Sequence[ParsedScan],
    raw_id: UUID,
    now: datetime,
) -> IngestResult:
    types = await _resolve_types(session, partner_id=partner_id, scans=scans)
    seen: set[str] = set()
    duplicates = 0
    events: list[tuple[ReturnShipmentEvent, dict[str, object]]] = []
    unmapped_rows: list[dict[str, object]] = []
    unmapped: list[str] = []
    for index, (scan, event_type) in enumerate(zip(scans, types, strict=True)):
        if scan.partner_event_id in seen:  # the same event twice in one request
            duplicates += 1
            continue
        seen.add(scan.partner_event_id)
        if event_type is None:
            unmapped.append(scan.status)
            unmapped_rows.append(
                {
                    "partner_id": partner_id,
                    "partner_event_id": scan.partner_event_id,
                    "status": scan.status[:100],
                    "raw_ref": raw_id,
                    "seen_at": now,
                }
            )
            continue
        try:
            event = ReturnShipmentEvent(
                event_id=uuid4(),
                partner_id=partner_id,
                partner_event_id=scan.partner_event_id,
                return_id=scan.return_id,
                awb=scan.awb,
                event_type=event_type,
                occurred_at=scan.occurred_at,
                hub_id=scan.hub_id,
                agent_id=scan.agent_id,
                weight_g=scan.weight_g,
                images=scan.images,
                pod_otp_verified=scan.pod_otp_verified,
                qc_failure_reason=scan.qc_failure_reason,
                raw_ref=str(raw_id),
            )
        except ValidationError as exc:  # an adapter let through what the contract refuses
            raise PayloadInvalid(validation_errors(exc, f"scan.{index}")) from exc
        events.append(
            (
                event,
                {
                    "event_id": event.event_id,
                    "partner_id": partner_id,
                    "partner_event_id": scan.partner_event_id,
                    "return_id": scan.return_id,
                    "event_type": event_type.value,
                    "occurred_at": scan.occurred_at,
                    "raw_ref": raw_id,
                    "payload": json.loads(event.model_dump_json()),
                    "recorded_at": now,
                },
            )
        )

    new_ids = await repository.record_events_once(session, [row for _, row in events])
    fresh = [(event, row["payload"]) for event, row in events if event.partner_event_id in new_ids]
    duplicates += len(events) - len(fresh)
    for event, _ in fresh:
        # The canonical event's ce_id is its event_id: fixed when the fact is recorded. The
        # history reads it from shipment_events, so only the outbox needs it here.
        enqueue(
            session, Outbox, event, source=SOURCE, subject=event.return_id, ce_id=event.event_id
        )
    accepted = len(fresh)
    for status in await repository.record_unmapped_once(session, unmapped_rows):
        metrics.UNMAPPED_STATUS.labels(partner_id, metrics.status_label(status)).inc()
    return IngestResult(str(raw_id), accepted, duplicates, unmapped)


async def replay_unmapped(
    session: AsyncSession, *, partner_id: str | None, now: datetime, limit: int = 1000
) -> ReplayResult:
    """Re-run archived requests that carried unmapped scans, from their exact archived bytes.

    Deduplication makes this safe to run any number of times: a scan already emitted (by an
    earlier replay or a redelivery) is not emitted again; one still unmapped stays listed.
    """
    replayed = emitted = resolved = 0
    partners: set[str] = set()
    for raw_ref, owner in await repository.unresolved_raw_refs(
        session, partner_id=partner_id, limit=limit
    ):
        raw = await repository.get_raw_request(session, raw_ref)
        partner = await repository.get_partner(session, owner)
        adapter = ADAPTERS.get(partner.scheme) if partner else None
        if raw is None or adapter is None:
            continue
        try:
            scans = adapter.parse(headers=raw.headers, body=raw.body)
        except PayloadInvalid:
            continue  # it parsed when it arrived; an adapter change since is not this run's job
        result = await _emit(session, partner_id=owner, scans=scans, raw_id=raw.id, now=now)
        raw.events_emitted += result.accepted
        raw.detail = {
            **(raw.detail or {}),
            "replayed_at": now.isoformat(),
            "replay_emitted": result.accepted,
        }
        replayed += 1
        emitted += result.accepted
        partners.add(owner)
    for owner in sorted(partners):
        resolved += await repository.resolve_emitted_unmapped(session, partner_id=owner, now=now)
    return ReplayResult(replayed, emitted, resolved)
