"""Seller escalations: file, read, add evidence, appeal; each change emits its event.

Object-level access: a seller portal key sees and touches only its own seller's escalations;
anything else answers 404 exactly as a missing id does, so escalation ids cannot be probed.

A return belongs to the seller the marketplace feed names. An escalation on another seller's
return answers the same 404. One that arrives before the return's feed entry is emitted at once,
its ownership unverified (`pending_return`): reconciliation opens the case waiting for the return
(SOP E1) and pays nothing until the feed names the claimant. When the feed entry arrives it binds
the escalation: `filed` for the same seller, refused for another (`bind_pending`), while
reconciliation closes that case unpaid. See docs/return-ownership.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from asyncpg import Connection
from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import metrics
from services.intake.answer_address import sealed_answer_address
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
from services.intake.returns import repository as returns
from shared import paging
from shared.auth import Principal, Role
from shared.db import json_text
from shared.events import (
    AppealFiled,
    ClaimType,
    EscalationChannel,
    EvidenceAdded,
    EvidenceItem,
    SellerEscalationFiled,
)
from shared.idempotency import KeyedRequest
from shared.outbox import note_enqueued
from shared.pii import ContactSealer
from shared.problems import Problem

log = logging.getLogger(__name__)

MAX_EVIDENCE_PER_ESCALATION = 200
_OPS = (Role.OPS_AGENT, Role.OPS_MANAGER)
# One answer for an id that does not exist, an escalation of another seller and a return of
# another seller: none of them tells the caller whose the thing is.
_NOT_FOUND = "Nothing with this id for this seller."

FILED = "filed"
PENDING_RETURN = "pending_return"
REFUSED = "refused"


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


def _evidence_json(items: Sequence[EvidenceItem]) -> list[dict[str, Any]]:
    return json.loads(json.dumps([e.model_dump(mode="json") for e in items]))  # type: ignore[no-any-return]


def _out(e: Escalation, principal: Principal | None = None) -> EscalationOut:
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
        state=e.state,
        # Why a filing was refused tells whether the return is another seller's: ops only.
        refused_reason=e.refused_reason if principal is None or principal.has(*_OPS) else None,
    )


def _filed_event(e: Escalation) -> SellerEscalationFiled:
    """The event of a stored escalation, as filed (a held one keeps its original filing time)."""
    return SellerEscalationFiled(
        escalation_id=e.escalation_id,
        return_id=e.return_id,
        seller_id=e.seller_id,
        claim_type=ClaimType(e.claim_type),
        claimed_amount=e.claimed_amount,
        description=e.description,
        evidence=[EvidenceItem.model_validate(i) for i in e.evidence],
        received_weight_g=e.received_weight_g,
        channel=EscalationChannel(e.channel),
        filed_at=e.filed_at,
        filed_by=e.filed_by,
        seller_contact=e.seller_contact,
    )


def _refuse(e: Escalation, *, reason: str, now: datetime) -> None:
    e.state = REFUSED
    e.refused_reason = reason
    e.resolved_at = now
    e.updated_at = now
    metrics.security_event("escalation", reason)
    # Ids only: the seller's contact details never reach the logs.
    log.warning(
        "escalation refused (%s): escalation %s, return %s",
        reason,
        e.escalation_id,
        e.return_id,
    )


@dataclass(frozen=True, slots=True)
class _Filing:
    """A filing as it is written: the row (never added to a session), its evidence as JSON, and
    its event's JSON, outbox row and history line (`history.recorded_columns`)."""

    escalation: Escalation
    evidence: str
    recorded: dict[str, object]


def _filing(
    *, data: EscalationIn, principal: Principal, now: datetime, sealer: ContactSealer
) -> _Filing:
    """The filing's rows, or the Problem that refuses it before any is read."""
    if not principal.can_act_for_seller(data.seller_id):
        raise Problem(403, "Forbidden", "This key may not file escalations for that seller.")
    channel = _channel(principal, data.channel)
    # Sealed for notifications: intake can seal an address but never read one back. A held
    # escalation needs it when the feed binds it; a filed one's event carries it onward.
    seller_contact = sealed_answer_address(data.seller_email, sealer)
    escalation_id = f"ESC-{uuid4().hex[:16].upper()}"
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
        seller_contact=seller_contact,
        state=FILED,
    )
    # Emitted at once even before the feed names the return's seller: the SOP's clock (E1, the
    # acknowledgement) starts at the filing. Money cannot follow: reconciliation pays only a
    # claimant the feed has named, and closes the case unpaid if the feed names another.
    # Stored with its event's outbox row and history line in one statement; the event is the
    # same whether the escalation is filed or held.
    recorded = history.recorded_columns(
        _filed_event(escalation), occurred_at=now, recorded_at=now, ce_id=uuid4()
    )
    return _Filing(escalation, json.dumps(escalation.evidence), recorded)


@dataclass(frozen=True, slots=True)
class PreparedFiling:
    """A filing ready for the one call: its rows, the answer it gives, and that answer as the
    key's row stores it (`answer` None when the request has no key: nothing stores it)."""

    filing: _Filing
    out: EscalationOut
    answer_status: int
    answer: str | None


def prepare_filing(
    *,
    data: EscalationIn,
    principal: Principal,
    now: datetime,
    sealer: ContactSealer,
    keyed: KeyedRequest | None,
    status_of: Callable[[EscalationOut], int],
) -> PreparedFiling | None:
    """Everything the one call sends, built before any connection is taken from the pool (so
    none is held while it is built). None when the filing is refused before any read: the
    transactional path answers it, after the key's claim (a key reused answers 422 first)."""
    try:
        filing = _filing(data=data, principal=principal, now=now, sealer=sealer)
    except Problem:
        return None
    out = _out(filing.escalation, principal)
    answer = None if keyed is None else json_text(jsonable_encoder(out))
    return PreparedFiling(filing, out, status_of(out), answer)


async def file_escalation_alone(
    connection: Connection, prepared: PreparedFiling, *, keyed: KeyedRequest | None
) -> EscalationOut | None:
    """The common filing, on a return the feed named as the filing's seller's under a key not
    used before (or none), as one autocommitted call on asyncpg's `connection`
    (`repository.file_alone`): what `file_escalation` and the key's claim and completion write
    for it, the answer stored on the key's row, without a transaction of the request's. None
    when it wrote nothing (a return not named or another seller's, a key used before): then
    the transactional path (`shared.idempotency.idempotent` around `file_escalation`, given
    the same `prepared.filing`) answers, after the key's claim, as it answers every such
    request."""
    filing = prepared.filing
    filed = await repository.file_alone(
        connection,
        filing.escalation,
        evidence=filing.evidence,
        recorded=filing.recorded,
        keyed=keyed,
        answer_status=prepared.answer_status,
        answer=prepared.answer,
    )
    return prepared.out if filed else None


async def file_escalation(
    session: AsyncSession,
    *,
    data: EscalationIn,
    principal: Principal,
    now: datetime,
    sealer: ContactSealer,
    filing: _Filing | None = None,
) -> EscalationOut:
    """`filing`: the rows `prepare_filing` built for a one call that wrote nothing (written
    by nobody, so they are used as they are rather than built again)."""
    if filing is None:
        filing = _filing(data=data, principal=principal, now=now, sealer=sealer)
    escalation, evidence, recorded = filing.escalation, filing.evidence, filing.recorded
    # The common filing: the return is named, and the same statement checks its seller.
    owner_seller_id = await repository.file_on_named_return(
        session, escalation, evidence=evidence, recorded=recorded
    )
    stored = owner_seller_id == data.seller_id
    if owner_seller_id is None:
        # Not fed yet: decide under the return's lock, so the feed entry cannot commit between
        # this check and the hold (it would never bind what is held).
        await returns.lock_return_id(session, data.return_id)
        owner = (await returns.owners(session, [data.return_id])).get(data.return_id)
        owner_seller_id = owner.seller_id if owner is not None else None
    if owner_seller_id is not None and owner_seller_id != data.seller_id:
        metrics.security_event("escalation", "seller_mismatch")
        log.warning(
            "escalation refused (seller_mismatch): return %s, filed by %s",
            data.return_id,
            principal.client_id,
        )
        raise Problem(404, "Not found", _NOT_FOUND)
    if not stored:
        if owner_seller_id is None:
            escalation.state = PENDING_RETURN
        await repository.store_filed(session, escalation, evidence=evidence, recorded=recorded)
    note_enqueued(session)
    if owner_seller_id is None:
        metrics.HELD.labels("escalation", "none").inc()
    return _out(escalation, principal)


async def bind_pending(
    session: AsyncSession, *, return_id: str, seller_id: str, now: datetime
) -> int:
    """The feed named the return's seller: its escalations filed before the feed entry (already
    emitted) are `filed` when they are that seller's, refused when another's (reconciliation,
    reading the same feed entry, closes that claim's case unpaid). Runs in the feed entry's
    transaction. Returns how many were filed."""
    filed = 0
    for e in await repository.pending_for_return(session, return_id):
        if e.seller_id != seller_id:
            _refuse(e, reason="seller_mismatch", now=now)
            continue
        e.state = FILED
        e.resolved_at = now
        filed += 1
    return filed


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
    return _out(await _visible(session, escalation_id, principal), principal)


async def list_escalations(
    session: AsyncSession,
    *,
    principal: Principal,
    seller_id: str | None,
    return_id: str | None,
    limit: int,
    cursor: str | None,
) -> EscalationList:
    if not principal.has(*_OPS):
        # A portal key lists its own seller's escalations, and only those.
        if seller_id is not None and seller_id != principal.seller_id:
            raise Problem(403, "Forbidden", "This key may only list its own seller's escalations.")
        seller_id = principal.seller_id
        if seller_id is None:
            raise Problem(403, "Forbidden", "This key is not bound to a seller.")
    rows = await repository.search(
        session,
        seller_id=seller_id,
        return_id=return_id,
        limit=limit + 1,
        after=paging.decode_cursor(cursor, (datetime, str)) if cursor is not None else None,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r.filed_at, r.escalation_id))
    return EscalationList(items=[_out(r, principal) for r in items], next=next_cursor)


async def add_evidence(
    session: AsyncSession,
    *,
    escalation_id: str,
    data: EvidenceIn,
    principal: Principal,
    now: datetime,
) -> EvidenceAccepted:
    escalation = await _visible(session, escalation_id, principal, for_update=True)
    if escalation.state == REFUSED:
        raise Problem(
            409,
            "Conflict",
            "This escalation was refused; it takes no evidence.",
            errors=[{"field": "path.escalation_id", "message": "refused; takes no evidence"}],
        )
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
    if fresh or weight_changed:
        # Also before the feed entry: the escalation's event went out when it was filed.
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
    """Record the seller's appeal and pass it on. Whether it is heard is the case's rule alone
    (reconciliation's `on_appeal`: one appeal per return, of a decision or rejection, within
    its window), since only the case knows whether anything is decided. Intake once refused a
    second appeal itself, and so counted one sent before any decision, which the case ignores,
    against the seller's real appeal later."""
    escalation = await _visible(session, escalation_id, principal, for_update=True)
    if escalation.state != FILED:
        raise Problem(
            409,
            "Conflict",
            "Nothing has been decided on this escalation to appeal.",
            errors=[{"field": "path.escalation_id", "message": "nothing decided to appeal"}],
        )
    escalation.appealed_at = now
    escalation.appeal_reason = data.reason
    escalation.updated_at = now
    return _appeal(
        session,
        appealed=escalation.escalation_id,
        return_id=escalation.return_id,
        seller_id=escalation.seller_id,
        data=data,
        now=now,
    )


async def file_return_appeal(
    session: AsyncSession,
    *,
    return_id: str,
    data: AppealIn,
    principal: Principal,
    now: datetime,
) -> AppealAccepted:
    """The appeal of the decision on a return, by the seller the feed names as its owner.

    The way in for a case the desk opened itself (SOP P1–P3): its seller never escalated, yet
    the SOP gives every decision a 7-day appeal. The owner is checked against the feed; another
    seller's return answers 404 like an unknown one."""
    owner = (await returns.owners(session, [return_id])).get(return_id)
    if owner is None or not principal.can_act_for_seller(owner.seller_id):
        raise Problem(404, "Not found", _NOT_FOUND)
    return _appeal(
        session,
        # The appeal's own id stands where an escalation's would: this seller filed none.
        appealed=f"APL-{uuid4().hex[:16].upper()}",
        return_id=return_id,
        seller_id=owner.seller_id,
        data=data,
        now=now,
    )


def _appeal(
    session: AsyncSession,
    *,
    appealed: str,
    return_id: str,
    seller_id: str,
    data: AppealIn,
    now: datetime,
) -> AppealAccepted:
    event = AppealFiled(
        escalation_id=appealed,
        return_id=return_id,
        seller_id=seller_id,
        reason=data.reason,
        filed_at=now,
    )
    event_id = history.record(session, event, occurred_at=now, recorded_at=now)
    return AppealAccepted(
        escalation_id=appealed, return_id=return_id, appealed_at=now, event_id=str(event_id)
    )
