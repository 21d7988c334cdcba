"""Seller escalations: file, read, add evidence, appeal; each change emits its event.

Object-level access: a seller portal key sees and touches only its own seller's escalations;
anything else answers 404 exactly as a missing id does, so escalation ids cannot be probed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.escalations import repository
from services.intake.escalations.schemas import (
    AppealAccepted,
    AppealIn,
    EscalationIn,
    EscalationList,
    EscalationOut,
    EvidenceAccepted,
    EvidenceIn,
)
from services.intake.history import service as history
from services.intake.models import Escalation
from shared.auth import Principal, Role
from shared.events import (
    AppealFiled,
    ClaimType,
    EscalationChannel,
    EvidenceAdded,
    EvidenceItem,
    SellerEscalationFiled,
)
from shared.pii import ContactSealer
from shared.problems import Problem

MAX_EVIDENCE_PER_ESCALATION = 200
_OPS = (Role.OPS_AGENT, Role.OPS_MANAGER, Role.ADMIN)
_NOT_FOUND = "No escalation with this id."


def _channel(principal: Principal, asked: EscalationChannel | None) -> EscalationChannel:
    """The portal files as PORTAL; an agent files on a seller's behalf after a CALL or EMAIL."""
    if principal.has(*_OPS):
        if asked not in (EscalationChannel.CALL, EscalationChannel.EMAIL):
            raise Problem(
                422,
                "Validation failed",
                "An agent files after a CALL or an EMAIL: say which.",
                errors=[{"field": "body.channel", "message": "CALL or EMAIL when an agent files"}],
            )
        return asked
    if asked not in (None, EscalationChannel.PORTAL):
        raise Problem(
            422,
            "Validation failed",
            "The seller portal files with channel PORTAL.",
            errors=[{"field": "body.channel", "message": "PORTAL for the seller portal"}],
        )
    return EscalationChannel.PORTAL


def _evidence_json(items: list[EvidenceItem]) -> list[dict[str, Any]]:
    return json.loads(json.dumps([e.model_dump(mode="json") for e in items]))  # type: ignore[no-any-return]


def _out(e: Escalation) -> EscalationOut:
    return EscalationOut(
        escalation_id=e.escalation_id,
        return_id=e.return_id,
        seller_id=e.seller_id,
        claim_type=ClaimType(e.claim_type),
        claimed_amount=e.claimed_amount,
        channel=EscalationChannel(e.channel),
        filed_at=e.filed_at,
        evidence=[EvidenceItem.model_validate(i) for i in e.evidence],
        description=e.description,
        received_weight_g=e.received_weight_g,
        filed_by=e.filed_by,
        appealed_at=e.appealed_at,
        appeal_reason=e.appeal_reason,
    )


async def file_escalation(
    session: AsyncSession,
    *,
    data: EscalationIn,
    principal: Principal,
    now: datetime,
    sealer: ContactSealer,
) -> EscalationOut:
    if not principal.can_act_for_seller(data.seller_id):
        raise Problem(403, "Forbidden", "This key may not file escalations for that seller.")
    channel = _channel(principal, data.channel)
    escalation_id = f"ESC-{uuid4().hex[:16].upper()}"
    event = SellerEscalationFiled(
        escalation_id=escalation_id,
        return_id=data.return_id,
        seller_id=data.seller_id,
        claim_type=data.claim_type,
        claimed_amount=data.claimed_amount,
        description=data.description,
        evidence=data.evidence,
        received_weight_g=data.received_weight_g,
        channel=channel,
        filed_at=now,
        filed_by=principal.client_id,
        # The address travels sealed for notifications; intake keeps no copy.
        seller_contact=sealer.seal(data.seller_email) if data.seller_email else None,
    )
    escalation = Escalation(
        escalation_id=escalation_id,
        return_id=data.return_id,
        seller_id=data.seller_id,
        claim_type=data.claim_type.value,
        claimed_amount=data.claimed_amount,
        description=data.description,
        evidence=_evidence_json(data.evidence),
        received_weight_g=data.received_weight_g,
        channel=channel.value,
        filed_by=principal.client_id,
        filed_at=now,
    )
    repository.add(session, escalation)
    history.record(session, event, occurred_at=now, recorded_at=now)
    return _out(escalation)


async def _visible(
    session: AsyncSession, escalation_id: str, principal: Principal, *, for_update: bool = False
) -> Escalation:
    escalation = await repository.get(session, escalation_id, for_update=for_update)
    if escalation is None or not principal.can_act_for_seller(escalation.seller_id):
        raise Problem(404, "Not found", _NOT_FOUND)
    return escalation


async def get_escalation(
    session: AsyncSession, *, escalation_id: str, principal: Principal
) -> EscalationOut:
    return _out(await _visible(session, escalation_id, principal))


async def list_escalations(
    session: AsyncSession,
    *,
    principal: Principal,
    seller_id: str | None,
    return_id: str | None,
    limit: int,
    offset: int,
) -> EscalationList:
    if not principal.has(*_OPS):
        # A portal key lists its own seller's escalations, and only those.
        if seller_id is not None and seller_id != principal.seller_id:
            raise Problem(403, "Forbidden", "This key may only list its own seller's escalations.")
        seller_id = principal.seller_id
        if seller_id is None:
            raise Problem(403, "Forbidden", "This key is not bound to a seller.")
    rows = await repository.search(
        session, seller_id=seller_id, return_id=return_id, limit=limit + 1, offset=offset
    )
    return EscalationList(
        escalations=[_out(r) for r in rows[:limit]],
        next_offset=offset + limit if len(rows) > limit else None,
    )


async def add_evidence(
    session: AsyncSession,
    *,
    escalation_id: str,
    data: EvidenceIn,
    principal: Principal,
    now: datetime,
) -> EvidenceAccepted:
    escalation = await _visible(session, escalation_id, principal, for_update=True)
    known = {item["sha256"] for item in escalation.evidence}
    fresh: list[EvidenceItem] = []
    for item in data.evidence:
        if item.sha256 not in known:  # the same file sent again is not new evidence
            known.add(item.sha256)
            fresh.append(item)
    if len(escalation.evidence) + len(fresh) > MAX_EVIDENCE_PER_ESCALATION:
        raise Problem(
            422,
            "Validation failed",
            f"An escalation holds at most {MAX_EVIDENCE_PER_ESCALATION} evidence items.",
            errors=[{"field": "body.evidence", "message": "too many items for this escalation"}],
        )
    weight_changed = (
        data.received_weight_g is not None
        and data.received_weight_g != escalation.received_weight_g
    )
    event_id = None
    if fresh or weight_changed:
        escalation.evidence = [*escalation.evidence, *_evidence_json(fresh)]
        if weight_changed:
            escalation.received_weight_g = data.received_weight_g
        escalation.updated_at = now
        event = EvidenceAdded(
            escalation_id=escalation.escalation_id,
            return_id=escalation.return_id,
            seller_id=escalation.seller_id,
            evidence=fresh,
            received_weight_g=data.received_weight_g if weight_changed else None,
            added_at=now,
        )
        event_id = str(history.record(session, event, occurred_at=now, recorded_at=now))
    return EvidenceAccepted(
        escalation_id=escalation.escalation_id,
        added=len(fresh),
        evidence_total=len(escalation.evidence),
        received_weight_g=escalation.received_weight_g,
        event_id=event_id,
    )


async def file_appeal(
    session: AsyncSession,
    *,
    escalation_id: str,
    data: AppealIn,
    principal: Principal,
    now: datetime,
) -> AppealAccepted:
    """Record the seller's appeal; whether it is in time is the case's decision, not intake's."""
    escalation = await _visible(session, escalation_id, principal, for_update=True)
    if escalation.appealed_at is not None:
        raise Problem(409, "Conflict", "This escalation has been appealed already.")
    escalation.appealed_at = now
    escalation.appeal_reason = data.reason
    escalation.updated_at = now
    event = AppealFiled(
        escalation_id=escalation.escalation_id,
        return_id=escalation.return_id,
        seller_id=escalation.seller_id,
        reason=data.reason,
        filed_at=now,
    )
    event_id = history.record(session, event, occurred_at=now, recorded_at=now)
    return AppealAccepted(
        escalation_id=escalation.escalation_id, appealed_at=now, event_id=str(event_id)
    )
