"""Intake administration: register partners, rotate their secrets, map statuses, replay."""

from __future__ import annotations

import base64
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.admin import repository
from services.intake.admin.schemas import (
    PartnerIn,
    PartnerList,
    PartnerOut,
    RawRequestOut,
    SecretOut,
    SecretRotation,
    StatusMappingIn,
    StatusMappingList,
    StatusMappingOut,
    UnmappedStatusList,
    UnmappedStatusOut,
)
from services.intake.models import Partner, PartnerSecret, StatusMapping
from services.intake.partners import repository as partners_repository
from services.intake.partners.adapter import PartnerAdapter
from services.intake.partners.registry import ADAPTERS
from services.intake.partners.secrets import PartnerSecrets
from shared.auth import hash_key
from shared.events import ShipmentEventType
from shared.problems import Problem


def _adapter(scheme: str) -> PartnerAdapter:
    adapter = ADAPTERS.get(scheme)
    if adapter is None:
        raise Problem(
            422,
            "Validation failed",
            f"Unknown scheme; known: {', '.join(sorted(ADAPTERS))}.",
            errors=[{"field": "body.scheme", "message": "unknown scheme"}],
        )
    return adapter


def _secret_row(
    adapter: PartnerAdapter, partner_id: str, secret: str, secrets: PartnerSecrets
) -> PartnerSecret:
    problem = adapter.check_secret(secret)
    if problem is not None:
        raise Problem(
            422, "Validation failed", problem, errors=[{"field": "body.secret", "message": problem}]
        )
    if adapter.stores_secret_hash:
        return PartnerSecret(partner_id=partner_id, secret_hash=hash_key(secret))
    return PartnerSecret(
        partner_id=partner_id,
        secret_encrypted=secrets.encrypt(partner_id=partner_id, secret=secret),
    )


def _partner_out(partner: Partner, secrets: list[PartnerSecret], now: datetime) -> PartnerOut:
    return PartnerOut(
        partner_id=partner.partner_id,
        display_name=partner.display_name,
        scheme=partner.scheme,
        liability_cap=partner.liability_cap,
        rate_limit_per_s=partner.rate_limit_per_s,
        active=partner.active,
        secrets=[
            SecretOut(
                id=s.id,
                created_at=s.created_at,
                not_after=s.not_after,
                active=s.not_after is None or s.not_after > now,
            )
            for s in secrets
        ],
    )


async def refuse_partner_spelled_otherwise(
    session: AsyncSession, partner_id: str | None, field: str
) -> None:
    """A filter naming a registered partner in other letter case (`?partner_id=SwiftShip`) is
    refused naming the field and the registered spelling, as the feed refuses it: read byte for
    byte it matched nothing, and a replay answered 200 having replayed nothing."""
    if partner_id is None:
        return
    if (registered := await repository.partner_spelled_otherwise(session, partner_id)) is None:
        return
    raise Problem(
        422,
        "Validation failed",
        f"The partner is registered as {registered!r}; send its id as registered.",
        errors=[
            {
                "field": field,
                "message": f"names the registered partner {registered!r} in other letter case",
            }
        ],
    )


def _held_in_other_case(twin: str) -> Problem:
    return Problem(
        409,
        "Conflict",
        f"A partner with this id in other letter case exists already: {twin!r}.",
        errors=[{"field": "body.partner_id", "message": f"is {twin!r} in other letter case"}],
    )


async def add_partner(
    session: AsyncSession, *, data: PartnerIn, now: datetime, secrets: PartnerSecrets
) -> PartnerOut:
    adapter = _adapter(data.scheme)
    secret = _secret_row(adapter, data.partner_id, data.secret, secrets)
    # `FastLane` beside `fastlane` would be two partners to the registry and one to everyone
    # reading the desk's pages, statements and notices. Looked up first to name the twin; the
    # folded unique index decides between two registrations racing past this look.
    if (twin := await repository.partner_spelled_otherwise(session, data.partner_id)) is not None:
        raise _held_in_other_case(twin)
    created = await repository.insert_partner(
        session,
        {
            "partner_id": data.partner_id,
            "display_name": data.display_name,
            "scheme": data.scheme,
            "liability_cap": data.liability_cap,
            "rate_limit_per_s": data.rate_limit_per_s,
            "active": True,
            "created_at": now,
        },
    )
    if not created:
        # The insert did nothing: the id itself, or (a registration racing this one, committed
        # between the look and the insert) the id in other letter case.
        twin = await repository.partner_spelled_otherwise(session, data.partner_id)
        if twin is not None:
            raise _held_in_other_case(twin)
        raise Problem(
            409,
            "Conflict",
            "A partner with this id exists already.",
            errors=[{"field": "body.partner_id", "message": "is registered already"}],
        )
    secret.created_at = now
    repository.add_secret(session, secret)
    await session.flush()
    partner = await partners_repository.get_partner(session, data.partner_id)
    assert partner is not None
    return _partner_out(partner, [secret], now)


async def list_partners(session: AsyncSession, *, now: datetime) -> PartnerList:
    partners = await repository.list_partners(session)
    secrets = await repository.secrets_of(session, [p.partner_id for p in partners])
    return PartnerList(
        items=[
            _partner_out(p, [s for s in secrets if s.partner_id == p.partner_id], now)
            for p in partners
        ]
    )


async def rotate_secret(
    session: AsyncSession,
    *,
    partner_id: str,
    data: SecretRotation,
    now: datetime,
    secrets: PartnerSecrets,
) -> PartnerOut:
    """The new secret is valid from now; the ones valid so far stay valid until the given time."""
    partner = await repository.lock_partner(session, partner_id)  # one rotation at a time
    if partner is None:
        raise Problem(404, "Not found", "Unknown partner.")
    secret = _secret_row(_adapter(partner.scheme), partner_id, data.secret, secrets)
    await repository.expire_active_secrets(
        session, partner_id=partner_id, not_after=data.previous_not_after, now=now
    )
    secret.created_at = now
    repository.add_secret(session, secret)
    await session.flush()
    stored = await repository.secrets_of(session, [partner_id])
    return _partner_out(partner, list(stored), now)


async def add_mapping(
    session: AsyncSession, *, partner_id: str, data: StatusMappingIn, actor: str
) -> StatusMappingOut:
    if await partners_repository.get_partner(session, partner_id) is None:
        raise Problem(404, "Not found", "Unknown partner.")
    row = await repository.upsert_mapping(
        session,
        {
            "partner_id": partner_id,
            "status": data.status,
            "event_type": data.event_type.value,
            "created_by": actor,
        },
    )
    return _mapping_out(row)


def _mapping_out(row: StatusMapping) -> StatusMappingOut:
    return StatusMappingOut(
        partner_id=row.partner_id,
        status=row.status,
        event_type=ShipmentEventType(row.event_type),
        created_by=row.created_by,
        created_at=row.created_at,
    )


async def list_mappings(session: AsyncSession, *, partner_id: str) -> StatusMappingList:
    if await partners_repository.get_partner(session, partner_id) is None:
        raise Problem(404, "Not found", "Unknown partner.")
    return StatusMappingList(
        items=[_mapping_out(r) for r in await repository.mappings_of(session, partner_id)]
    )


async def unmapped_statuses(session: AsyncSession, *, partner_id: str | None) -> UnmappedStatusList:
    await refuse_partner_spelled_otherwise(session, partner_id, "query.partner_id")
    rows = await repository.unmapped_summary(session, partner_id=partner_id)
    mapped: dict[str, set[str]] = {}
    for pid in {r[0] for r in rows}:
        mapped[pid] = {m.status for m in await repository.mappings_of(session, pid)}
    return UnmappedStatusList(
        items=[
            UnmappedStatusOut(
                partner_id=pid,
                status=status,
                scans=count,
                first_seen=first,
                last_seen=last,
                mapped_now=status in mapped.get(pid, set()),
                raw_refs=[str(r) for r in refs[:20]],
            )
            for pid, status, count, first, last, refs in rows
        ]
    )


async def raw_request(session: AsyncSession, *, raw_id: UUID) -> RawRequestOut:
    raw = await partners_repository.get_raw_request(session, raw_id)
    if raw is None:
        raise Problem(404, "Not found", "No archived request with this id.")
    try:
        body, encoding = raw.body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        body, encoding = base64.b64encode(raw.body).decode(), "base64"
    return RawRequestOut(
        id=str(raw.id),
        partner_id=raw.partner_id,
        received_at=raw.received_at,
        headers=raw.headers,
        body=body,
        body_encoding=encoding,
        verdict=raw.verdict,
        events_emitted=raw.events_emitted,
        detail=raw.detail,
    )
