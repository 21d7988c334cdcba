"""Partner webhook intake: parse, deduplicate, emit canonical events, archive the request.

Never commits: the archive row and the outbox rows are stored together, so a `202` always means
both are. The common request (every scan owned, see `ingest_owned`) stores them in one
autocommitted statement, its own transaction, and needs no session; any other goes through
`ingest` in the request's unit of work, which commits them. A batch is parsed and validated
whole (`parse`) before anything is written, so a bad event rejects the whole batch and nothing
is half-stored.

A partner reports only on shipments assigned to it: the return's feed entry must name this
partner and the scan's AWB. A scan of another partner's shipment (or with another AWB) is
refused and counted, never emitted; the request is archived with verdict `foreign_shipment`
(every scan foreign) or `partially_foreign` (the partner's own scans of the batch go through).
A scan whose return the feed has not announced yet is held (`held_scans`) and bound when the
feed entry arrives (`bind_held`), or refused `unknown_shipment` after the hold window
(`expire_held`). See docs/return-ownership.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from asyncpg import Connection
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import metrics
from services.intake.history.service import SOURCE
from services.intake.models import Outbox
from services.intake.partners import repository
from services.intake.partners.adapter import ParsedScan, PartnerAdapter, PayloadInvalid
from services.intake.partners.batching import OwnedScanStatements
from services.intake.partners.parsing import validation_errors
from services.intake.partners.registry import ADAPTERS
from services.intake.partners.repository import OwnedScans
from services.intake.returns import repository as returns
from services.intake.returns.repository import Owner
from shared.events import ReturnShipmentEvent, ShipmentEventType
from shared.outbox import enqueue, note_enqueued, outbox_envelope_columns
from shared.validation import repeated_key_path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refusal:
    partner_event_id: str
    reason: str  # partner_mismatch | awb_mismatch


@dataclass(frozen=True, slots=True)
class IngestResult:
    raw_ref: str
    accepted: int
    duplicates: int
    unmapped: list[str]
    held: list[str] = field(default_factory=list)  # partner event ids newly held
    refused: list[Refusal] = field(default_factory=list)
    # Duplicates of events stored before (not repeats inside this request): scans of this
    # partner's own, so a request carrying them besides foreign ones is only partly foreign.
    known: int = 0

    @property
    def verdict(self) -> str:
        if self.refused:
            own = self.accepted or self.unmapped or self.held or self.known
            return "partially_foreign" if own else "foreign_shipment"
        if self.held:
            return "partially_held" if (self.accepted or self.unmapped) else "held"
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


@dataclass(frozen=True, slots=True)
class Delivery:
    """One authenticated request, parsed: what either path of ingest needs."""

    partner_id: str
    scans: list[ParsedScan]
    raw_id: UUID
    received_at: datetime
    headers: dict[str, str]  # the ones archived
    body: bytes
    # Each scan's canonical event and row, when the request may be common (`_built_if_common`).
    built: Built | None


def parse(
    *,
    partner_id: str,
    adapter: PartnerAdapter,
    headers: Mapping[str, str],
    body: bytes,
    received_at: datetime,
) -> Delivery:
    """The request is authenticated already; parse errors propagate as PayloadInvalid, before
    anything is written. A key given twice in one object is such an error, whichever partner:
    which of its values the partner meant is not ours to guess."""
    if (path := repeated_key_path(body)) is not None:
        field = ".".join(["body", *(str(p) for p in path)])
        raise PayloadInvalid(
            [{"field": field, "message": f"the key {path[-1]!r} appears twice in one object"}]
        )
    scans = adapter.parse(headers=headers, body=body)
    raw_id = uuid4()
    return Delivery(
        partner_id=partner_id,
        scans=scans,
        raw_id=raw_id,
        received_at=received_at,
        headers=archived_headers(adapter, headers),
        body=body,
        built=_built_if_common(partner_id, scans, raw_id=raw_id, now=received_at),
    )


async def ingest_owned(statements: OwnedScanStatements, delivery: Delivery) -> IngestResult | None:
    """The common request in one autocommitted statement, perhaps shared with other requests
    (`batching.py`), or None when it is not one (then nothing was written, and `ingest` takes
    it). Needs no session: the statement is its own transaction, so the common request opens
    none."""
    if delivery.built is None:
        return None
    return await _ingest_owned(statements, delivery)


def request_key(headers: Mapping[str, str], body: bytes) -> str:
    """The request's identity for its archive: the partner's own request id where its format
    has one (swiftship's `webhook-id`, among the archived headers; no other partner archives
    that header) and the exact body. A retry resends both, so it is the same request; another
    body under the same id is not. Migration f6c1a8e2d5b3 computes the same in SQL."""
    own_id = headers.get("webhook-id", "")
    return hashlib.sha256(own_id.encode() + b"\0" + body).hexdigest()


async def ingest(session: AsyncSession, delivery: Delivery) -> IngestResult:
    """Any request in the session's transaction: mappings read, scans held or refused, events
    and the archive stored together when the session commits.

    The request is archived first, once per partner and `request_key`: a retry of a request
    archived before (its scans unmapped, held or foreign; twenty copies sent at once) is
    judged against that copy, so the scans it emits now name the copy (`raw_ref`) and add to
    its count, and no second copy is kept."""
    earlier = await repository.archive_once(
        session,
        raw_id=delivery.raw_id,
        partner_id=delivery.partner_id,
        request_key=request_key(delivery.headers, delivery.body),
        received_at=delivery.received_at,
        headers=delivery.headers,
        body=delivery.body,
        verdict="received",
        events_emitted=0,
        detail=None,
    )
    result = await _emit(
        session,
        partner_id=delivery.partner_id,
        scans=delivery.scans,
        raw_id=earlier or delivery.raw_id,
        now=delivery.received_at,
        # The events built beforehand name this delivery's id: made again, naming the copy.
        built=delivery.built if earlier is None else None,
    )
    if earlier is None:
        await repository.record_verdict(
            session,
            delivery.raw_id,
            verdict=result.verdict,
            events_emitted=result.accepted,
            detail=_detail(result),
        )
    elif result.accepted:
        await repository.count_emitted(session, earlier, result.accepted)
    return result


Built = list[tuple[ReturnShipmentEvent, dict[str, object]]]


def _built_if_common(
    partner_id: str, scans: Sequence[ParsedScan], *, raw_id: UUID, now: datetime
) -> Built | None:
    """Each scan's canonical event and its `shipment_events` row, if the request may be common:
    every scan has a built-in canonical type and no partner event repeats in the request."""
    ids = {scan.partner_event_id for scan in scans}
    if not scans or len(ids) != len(scans) or any(s.event_type is None for s in scans):
        return None
    built: Built = []
    for index, scan in enumerate(scans):
        assert scan.event_type is not None
        event = _canonical(partner_id, scan, scan.event_type, raw_id=raw_id, index=index)
        built.append((event, _shipment_row(event, raw_id=raw_id, now=now)))
    return built


async def _ingest_owned(statements: OwnedScanStatements, delivery: Delivery) -> IngestResult | None:
    """The common request in one autocommitted statement, or None when it is not one.

    Common (beyond `_built_if_common`): every scan is of a return the feed gave to this partner
    under the scan's AWB. Anything else (an admin-mapped or unmapped status, a scan to hold or
    to refuse) takes `_emit`'s transaction, which reads mappings, takes the return's lock,
    holds and refuses; when the statement finds a scan it does not own, it has written nothing
    of this request.
    """
    built = delivery.built
    assert built is not None
    raw_ref = str(delivery.raw_id)
    # What the archive says for each number of new events, decided here as for any request.
    outcomes = []
    for fresh in range(len(built) + 1):
        known = len(built) - fresh
        would_be = IngestResult(raw_ref, fresh, known, [], known=known)
        outcomes.append({"verdict": would_be.verdict, "detail": _detail(would_be)})
    recorded = await statements.record(_owned_scans(delivery, built, outcomes))
    if recorded is None:
        return None
    known = len(built) - len(recorded.events)
    # A redelivery is answered with the copy archived first (nothing of it was stored now).
    return IngestResult(str(recorded.raw_ref), len(recorded.events), known, [], known=known)


def _owned_scans(delivery: Delivery, built: Built, outcomes: Sequence[Any]) -> OwnedScans:
    """The request as the one-statement paths take it: each scan's event row with its outbox
    columns and AWB, the archived request's columns, and what to archive (`outcomes`)."""
    return OwnedScans(
        rows=[{**row, **_outbox_columns(event), "awb": event.awb} for event, row in built],
        raw_id=delivery.raw_id,
        partner_id=delivery.partner_id,
        request_key=request_key(delivery.headers, delivery.body),
        received_at=delivery.received_at,
        headers=delivery.headers,
        body=delivery.body,
        outcomes=outcomes,
    )


# The most scans a request may carry to be held in one call: what it archives is passed for
# every pair of counts (new events, newly held), which grows with the square of the scans.
HELD_IN_ONE_CALL_MAX_SCANS = 8


async def ingest_held(connection: Connection, delivery: Delivery) -> IngestResult | None:
    """A request the one statement declined (`ingest_owned`), when every scan is of a return
    the feed gave this partner under the scan's AWB or of one not announced yet: its events and
    holds in one autocommitted call on asyncpg's `connection`
    (`repository.record_or_hold_scans`), deciding as `_emit` does under the returns' locks.
    None when it wrote nothing (a redelivery, a foreign scan, a twin archived meanwhile) or
    would not try (more than `HELD_IN_ONE_CALL_MAX_SCANS` scans): then
    `ingest` takes it in the request's transaction. Scans ahead of their feed entries are what
    a late intake sees most (the feed entry and the first scan sent half a second apart)."""
    built = delivery.built
    if built is None or len(built) > HELD_IN_ONE_CALL_MAX_SCANS:
        return None
    raw_ref = str(delivery.raw_id)
    # What the archive says for each pair of counts, decided here as for any request; the call
    # adds the held scans' ids to the detail.
    outcomes: list[list[dict[str, object] | None]] = []
    for fresh in range(len(built) + 1):
        row: list[dict[str, object] | None] = []
        for held in range(len(built) + 1):
            if fresh + held > len(built):
                row.append(None)
                continue
            known = len(built) - fresh - held
            would_be = IngestResult(raw_ref, fresh, known, [], held=["?"] * held, known=known)
            detail = _detail(would_be)
            if detail is not None:
                detail.pop("held", None)
            row.append({"verdict": would_be.verdict, "detail": detail or None})
        outcomes.append(row)
    stored = await repository.record_or_hold_scans(
        connection, _owned_scans(delivery, built, outcomes)
    )
    if stored is None:
        return None
    if stored.held:
        metrics.HELD.labels("scan", delivery.partner_id).inc(len(stored.held))
    known = len(built) - len(stored.recorded) - len(stored.held)
    return IngestResult(raw_ref, len(stored.recorded), known, [], held=stored.held, known=known)


def _canonical(
    partner_id: str,
    scan: ParsedScan,
    event_type: ShipmentEventType,
    *,
    raw_id: UUID,
    index: int,
) -> ReturnShipmentEvent:
    """The canonical event of a partner scan; PayloadInvalid if the contract refuses it."""
    try:
        return ReturnShipmentEvent(
            event_id=uuid4(),
            partner_id=partner_id,
            partner_event_id=scan.partner_event_id,
            return_id=scan.return_id,
            awb=scan.awb,
            event_type=event_type,
            occurred_at=scan.occurred_at,
            hub_id=scan.hub_id,
            agent_id=scan.agent_id,
            # A scale reading of 0 g is no reading: a parcel in a partner's hands weighs its
            # packaging at least. Read as a weight, 0 g at delivery is a drop of the whole
            # pickup weight (SOP L6, the partner liable in full; pilferage counted at the hub),
            # and 0 g at pickup hides every later drop. The scan itself is kept, unweighed
            # (partners keep their tolerance); the raw request keeps what was sent.
            weight_g=scan.weight_g or None,
            images=scan.images,
            pod_otp_verified=scan.pod_otp_verified,
            qc_failure_reason=scan.qc_failure_reason,
            raw_ref=str(raw_id),
        )
    except ValidationError as exc:  # an adapter let through what the contract refuses
        raise PayloadInvalid(validation_errors(exc, f"scan.{index}")) from exc


def _detail(result: IngestResult) -> dict[str, object] | None:
    detail: dict[str, object] = {}
    if result.duplicates or result.unmapped:
        detail.update(duplicates=result.duplicates, unmapped=result.unmapped)
    if result.held:
        detail["held"] = result.held
    if result.refused:
        detail["refused"] = _refusals(result)
    return detail or None


def _refusals(result: IngestResult) -> list[dict[str, str]]:
    """Which scans were refused and why, for the operator's archive; the partner's answer says
    only how many, never whose shipment it is."""
    return [{"partner_event_id": r.partner_event_id, "reason": r.reason} for r in result.refused]


def refusal(owner: Owner, *, partner_id: str, awb: str) -> str | None:
    """Why this partner may not report this scan on the return, or None when it may."""
    if owner.partner_id != partner_id:
        return "partner_mismatch"
    if owner.awb != awb:
        return "awb_mismatch"
    return None


def _refused(partner_id: str, return_id: str, partner_event_id: str, reason: str) -> None:
    metrics.security_event("scan", reason, partner_id)
    log.warning(
        "partner scan refused (%s): partner %s, event %s, return %s",
        reason,
        partner_id,
        partner_event_id[:200],
        return_id,
    )


def _shipment_row(event: ReturnShipmentEvent, *, raw_id: UUID, now: datetime) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "partner_id": event.partner_id,
        "partner_event_id": event.partner_event_id,
        "return_id": event.return_id,
        "event_type": event.event_type.value,
        "occurred_at": event.occurred_at,
        "raw_ref": raw_id,
        "payload": event.model_dump(mode="json"),
        "recorded_at": now,
    }


def _outbox_columns(event: ReturnShipmentEvent) -> dict[str, object]:
    """The outbox row's envelope columns; its payload is the event row's own (the same JSON)."""
    _, row = outbox_envelope_columns(
        event, source=SOURCE, subject=event.return_id, ce_id=event.event_id
    )
    del row["ce_id"]  # the event row's event_id
    return row


def archived_headers(adapter: PartnerAdapter, headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v[:2000] for k, v in headers.items() if k in adapter.archived_headers}


async def archive_invalid(
    session: AsyncSession,
    *,
    partner_id: str,
    adapter: PartnerAdapter,
    headers: Mapping[str, str],
    body: bytes,
    received_at: datetime,
    errors: list[dict[str, str]],
) -> str:
    """Keep an authenticated but unreadable request, so the partner's mistake can be shown; once
    per partner and `request_key`, its retries answered with the same `raw_ref`."""
    raw_id = uuid4()
    kept = archived_headers(adapter, headers)
    earlier = await repository.archive_once(
        session,
        raw_id=raw_id,
        partner_id=partner_id,
        request_key=request_key(kept, body),
        received_at=received_at,
        headers=kept,
        body=body,
        verdict="invalid",
        events_emitted=0,
        detail={"errors": errors[:50]},
    )
    return str(earlier or raw_id)


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
    built: Built | None = None,
) -> IngestResult:
    """`built`: the events `_built_if_common` made of these scans, so they are not made twice."""
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
        if built is not None:  # one per scan, in order: no repeats, every type built in
            events.append(built[index])
            continue
        event = _canonical(partner_id, scan, event_type, raw_id=raw_id, index=index)
        events.append((event, _shipment_row(event, raw_id=raw_id, now=now)))

    owners = await returns.owners(session, {event.return_id for event, _ in events})
    unknown = sorted({event.return_id for event, _ in events} - owners.keys())
    for return_id in unknown:  # sorted: two requests never wait on each other in a cycle
        # Decide to hold under the return's lock: the feed entry cannot commit in between.
        await returns.lock_return_id(session, return_id)
    if unknown:
        owners |= await returns.owners(session, unknown)
    own: list[tuple[ReturnShipmentEvent, dict[str, object]]] = []
    to_hold: list[dict[str, object]] = []
    refused: list[Refusal] = []
    for event, row in events:
        owner = owners.get(event.return_id)
        if owner is None:
            to_hold.append(
                {
                    "partner_id": partner_id,
                    "partner_event_id": event.partner_event_id,
                    "return_id": event.return_id,
                    "awb": event.awb,
                    "raw_ref": raw_id,
                    "payload": row["payload"],
                    "held_at": now,
                }
            )
            continue
        reason = refusal(owner, partner_id=partner_id, awb=event.awb)
        if reason is not None:
            refused.append(Refusal(event.partner_event_id, reason))
            _refused(partner_id, event.return_id, event.partner_event_id, reason)
            continue
        own.append((event, row))

    # The canonical event's ce_id is its event_id: fixed when the fact is recorded. The
    # history reads it from shipment_events, so only the outbox needs it here.
    new_ids = await repository.record_events_with_outbox_once(
        session, [{**row, **_outbox_columns(event)} for event, row in own]
    )
    fresh = [event for event, _ in own if event.partner_event_id in new_ids]
    known = len(own) - len(fresh)
    if fresh:
        note_enqueued(session)
    held = await repository.hold_once(session, to_hold)
    known += len(to_hold) - len(held)  # held before: a redelivery, not held twice
    if held:
        metrics.HELD.labels("scan", partner_id).inc(len(held))
    for status in await repository.record_unmapped_once(session, unmapped_rows):
        metrics.UNMAPPED_STATUS.labels(partner_id, metrics.status_label(status)).inc()
    return IngestResult(
        str(raw_id),
        len(fresh),
        duplicates + known,
        unmapped,
        held=held,
        refused=refused,
        known=known,
    )


async def bind_held(session: AsyncSession, *, return_id: str, owner: Owner, now: datetime) -> int:
    """The feed named the return's partner and AWB: emit its held scans that match them, refuse
    the others. Runs in the feed entry's transaction. Returns how many were emitted."""
    rows = await repository.held_for_return(session, return_id)
    emit: list[tuple[ReturnShipmentEvent, dict[str, object]]] = []
    for held in rows:
        held.resolved_at = now
        reason = refusal(owner, partner_id=held.partner_id, awb=held.awb)
        if reason is not None:
            held.state, held.refused_reason = "refused", reason
            _refused(held.partner_id, return_id, held.partner_event_id, reason)
            continue
        held.state = "emitted"
        event = ReturnShipmentEvent.model_validate(held.payload)
        emit.append((event, _shipment_row(event, raw_id=held.raw_ref, now=now)))
    new_ids = await repository.record_events_once(session, [row for _, row in emit])
    emitted: dict[UUID, int] = {}
    for event, row in emit:
        if event.partner_event_id not in new_ids:
            continue  # emitted already (a scan from before holding existed)
        enqueue(
            session, Outbox, event, source=SOURCE, subject=event.return_id, ce_id=event.event_id
        )
        raw_ref = row["raw_ref"]
        assert isinstance(raw_ref, UUID)
        emitted[raw_ref] = emitted.get(raw_ref, 0) + 1
    for raw_ref, n in emitted.items():
        await repository.count_emitted(session, raw_ref, n)
    return sum(emitted.values())


async def expire_held(session: AsyncSession, *, held_before: datetime, now: datetime) -> int:
    """Refuse (`unknown_shipment`) held scans whose return the feed never announced in time."""
    rows = await repository.held_before(session, held_before)
    for held in rows:
        held.state, held.refused_reason, held.resolved_at = "refused", "unknown_shipment", now
        _refused(held.partner_id, held.return_id, held.partner_event_id, "unknown_shipment")
    return len(rows)


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
            **({"replay_held": result.held} if result.held else {}),
            **({"replay_refused": _refusals(result)} if result.refused else {}),
        }
        replayed += 1
        emitted += result.accepted
        partners.add(owner)
    for owner in sorted(partners):
        resolved += await repository.resolve_emitted_unmapped(session, partner_id=owner, now=now)
    return ReplayResult(replayed, emitted, resolved)
