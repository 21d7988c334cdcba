"""SQL of the stored facts: one insert per event (idempotent on the event's own id) and the
queries that gather everything known about a return.

While a consumer batch is being handled (`facts.batch`), the batch's facts were inserted and its
returns' facts read up front: storing a fact then only makes it visible, and the reads answer
from the batch's view."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.facts import batch, legacy
from services.reconciliation.models import (
    AppealRecord,
    AssessmentRecord,
    EscalationRecord,
    EvidenceAddition,
    RefundRecord,
    ReturnRecord,
    ShipmentEventRecord,
)
from shared.events import (
    AppealFiled,
    EvidenceAdded,
    EvidenceItem,
    FraudAssessed,
    RefundIssued,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
)
from shared.unit_of_work import unit_of


def _evidence_json(items: list[EvidenceItem]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in items]


async def _insert(
    session: AsyncSession, model: Any, values: dict[str, Any], key: str | None = None
) -> bool:
    """Insert once; False when the same fact was stored before."""
    stmt = pg_insert(model).values(**values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    created = bool(result.rowcount)  # type: ignore[attr-defined]
    view = batch.current(session)
    if created and view is not None and key is not None and view.covers(values["return_id"]):
        # A fact the batch did not prepare would be missing from its view: have the runner
        # handle this batch one event at a time instead.
        raise batch.StaleBatchView(f"{model.__tablename__} {values[key]} not prepared")
    return created


async def _store_fact(
    session: AsyncSession,
    model: Any,
    *,
    key: str,
    fact_id: Any,
    return_id: str,
    row: Callable[[], dict[str, Any]],
) -> bool:
    """Store a fact identified by `key`; False when it was stored before. In a batch that
    inserted it up front, it only becomes visible, and its row is not built a second time."""
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        claimed = view.claim_fact(model, fact_id, return_id)
        if claimed is not None:
            return claimed
    return await _insert(session, model, row(), key)


def return_row(e: ReturnInitiated, ce_id: UUID) -> dict[str, Any]:
    return {
        "return_id": e.return_id,
        "ce_id": ce_id,
        "order_id": e.order_id,
        "seller_id": e.seller_id,
        "buyer_id": e.buyer_id,
        "category": e.category,
        "item_value": e.item_value,
        "qc_required": e.qc_required,
        "partner_id": e.partner_id,
        "awb": e.awb,
        "initiated_at": e.initiated_at,
    }


async def store_return(session: AsyncSession, e: ReturnInitiated, ce_id: UUID) -> bool:
    return await _store_fact(
        session,
        ReturnRecord,
        key="return_id",
        fact_id=e.return_id,
        return_id=e.return_id,
        row=lambda: return_row(e, ce_id),
    )


def scan_row(e: ReturnShipmentEvent, ce_id: UUID) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "ce_id": ce_id,
        "return_id": e.return_id,
        "partner_id": e.partner_id,
        "event_type": e.event_type.value,
        "occurred_at": e.occurred_at,
        "weight_g": e.weight_g,
        "pod_otp_verified": e.pod_otp_verified,
        "hub_id": e.hub_id,
        "agent_id": e.agent_id,
        "qc_failure_reason": e.qc_failure_reason,
    }


async def store_scan(session: AsyncSession, e: ReturnShipmentEvent, ce_id: UUID) -> bool:
    return await _store_fact(
        session,
        ShipmentEventRecord,
        key="event_id",
        fact_id=e.event_id,
        return_id=e.return_id,
        row=lambda: scan_row(e, ce_id),
    )


async def discard_scan(session: AsyncSession, e: ReturnShipmentEvent) -> None:
    """Remove a refused scan a consumer batch stored up front (it stays hidden in the batch's
    view, as it was never claimed); outside a batch there is nothing to remove."""
    await session.execute(
        delete(ShipmentEventRecord).where(
            ShipmentEventRecord.event_id == e.event_id,
            ShipmentEventRecord.partner_id == e.partner_id,
        )
    )


def escalation_row(e: SellerEscalationFiled, ce_id: UUID) -> dict[str, Any]:
    return {
        "escalation_id": e.escalation_id,
        "ce_id": ce_id,
        "return_id": e.return_id,
        "seller_id": e.seller_id,
        "claim_type": e.claim_type.value,
        "claimed_amount": e.claimed_amount,
        "description": e.description,
        "evidence": _evidence_json(e.evidence),
        "received_weight_g": e.received_weight_g,
        "channel": e.channel.value,
        "filed_at": e.filed_at,
        "filed_by": e.filed_by,
        "seller_contact": legacy.sealed_contact(e),
    }


async def store_escalation(session: AsyncSession, e: SellerEscalationFiled, ce_id: UUID) -> bool:
    return await _store_fact(
        session,
        EscalationRecord,
        key="escalation_id",
        fact_id=e.escalation_id,
        return_id=e.return_id,
        row=lambda: escalation_row(e, ce_id),
    )


def evidence_row(e: EvidenceAdded, ce_id: UUID) -> dict[str, Any]:
    return {
        "ce_id": ce_id,
        "escalation_id": e.escalation_id,
        "return_id": e.return_id,
        "evidence": _evidence_json(e.evidence),
        "received_weight_g": e.received_weight_g,
        "added_at": e.added_at,
    }


async def store_evidence(session: AsyncSession, e: EvidenceAdded, ce_id: UUID) -> bool:
    return await _store_fact(
        session,
        EvidenceAddition,
        key="ce_id",
        fact_id=ce_id,
        return_id=e.return_id,
        row=lambda: evidence_row(e, ce_id),
    )


def assessment_row(e: FraudAssessed) -> dict[str, Any]:
    return {
        "assessment_id": e.assessment_id,
        "subject_event_id": e.subject_event_id,
        "subject_type": e.subject_type,
        "return_id": e.return_id,
        "escalation_id": e.escalation_id,
        "band": e.band.value,
        "score": e.score,
        "reasons": [r.model_dump(mode="json") for r in e.reasons],
        "model_version": e.model_version,
        "assessed_at": e.assessed_at,
    }


async def store_assessment(session: AsyncSession, e: FraudAssessed) -> bool:
    return await _store_fact(
        session,
        AssessmentRecord,
        key="assessment_id",
        fact_id=e.assessment_id,
        return_id=e.return_id,
        row=lambda: assessment_row(e),
    )


async def store_appeal(
    session: AsyncSession, e: AppealFiled, ce_id: UUID, disposition: str
) -> bool:
    return await _insert(
        session,
        AppealRecord,
        {
            "ce_id": ce_id,
            "escalation_id": e.escalation_id,
            "return_id": e.return_id,
            "seller_id": e.seller_id,
            "reason": e.reason,
            "filed_at": e.filed_at,
            "disposition": disposition,
        },
    )


async def previous_appeal(
    session: AsyncSession, return_id: str, *, other_than: UUID
) -> AppealRecord | None:
    """The appeal on the return stored last before the one `other_than` names (appeals are
    stored as they come, never held by a consumer batch)."""
    row: AppealRecord | None = await session.scalar(
        select(AppealRecord)
        .where(AppealRecord.return_id == return_id, AppealRecord.ce_id != other_than)
        .order_by(AppealRecord.filed_at.desc())
        .limit(1)
    )
    return row


async def store_refund(session: AsyncSession, e: RefundIssued) -> bool:
    return await _insert(
        session,
        RefundRecord,
        {
            "refund_id": e.refund_id,
            "return_id": e.return_id,
            "order_id": e.order_id,
            "amount": e.amount,
            "issued_at": e.issued_at,
        },
    )


async def get_return(session: AsyncSession, return_id: str) -> ReturnRecord | None:
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        ret = view.returns.get(return_id)
        return ret if ret is not None and view.visible(ReturnRecord, [ret]) else None
    return await session.get(ReturnRecord, return_id)


async def scans(session: AsyncSession, return_id: str) -> list[ShipmentEventRecord]:
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        return view.visible(ShipmentEventRecord, view.scans.get(return_id, ()))
    rows = await session.scalars(
        select(ShipmentEventRecord)
        .where(ShipmentEventRecord.return_id == return_id)
        .order_by(ShipmentEventRecord.occurred_at, ShipmentEventRecord.event_id)
    )
    return list(rows)


async def escalations(session: AsyncSession, return_id: str) -> list[EscalationRecord]:
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        return view.visible(EscalationRecord, view.escalations.get(return_id, ()))
    rows = await session.scalars(
        select(EscalationRecord)
        .where(EscalationRecord.return_id == return_id)
        .order_by(EscalationRecord.filed_at, EscalationRecord.escalation_id)
    )
    return list(rows)


async def get_escalation(session: AsyncSession, escalation_id: str) -> EscalationRecord | None:
    return await session.get(EscalationRecord, escalation_id)


async def evidence_additions(session: AsyncSession, return_id: str) -> list[EvidenceAddition]:
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        return view.visible(EvidenceAddition, view.additions.get(return_id, ()))
    rows = await session.scalars(
        select(EvidenceAddition)
        .where(EvidenceAddition.return_id == return_id)
        .order_by(EvidenceAddition.added_at)
    )
    return list(rows)


async def assessments_for(
    session: AsyncSession, *, return_id: str, escalation_ids: list[str], subject_ids: list[UUID]
) -> list[AssessmentRecord]:
    view = batch.current(session)
    if view is not None and view.covers(return_id):
        return batch.assessments_for(
            view, return_id=return_id, escalation_ids=escalation_ids, subject_ids=subject_ids
        )
    conditions = []
    if escalation_ids:
        conditions.append(AssessmentRecord.escalation_id.in_(escalation_ids))
    if subject_ids:
        conditions.append(AssessmentRecord.subject_event_id.in_(subject_ids))
    if not conditions:
        return []
    rows = await session.scalars(
        select(AssessmentRecord).where(AssessmentRecord.return_id == return_id, or_(*conditions))
    )
    return list(rows)


async def all_assessments(session: AsyncSession, return_id: str) -> list[AssessmentRecord]:
    rows = await session.scalars(
        select(AssessmentRecord)
        .where(AssessmentRecord.return_id == return_id)
        .order_by(AssessmentRecord.assessed_at)
    )
    return list(rows)


async def answer_appeals_by_record(session: AsyncSession, return_id: str) -> None:
    """The return's heard appeal was of a closure the partner's record undid: it stops counting
    as the return's one appeal (`ANSWERED_BY_RECORD`)."""
    await session.execute(
        update(AppealRecord)
        .where(AppealRecord.return_id == return_id, AppealRecord.disposition == "ACCEPTED")
        .values(disposition="ANSWERED_BY_RECORD")
    )


async def hear_appeal_answered_by_record(
    session: AsyncSession, return_id: str
) -> AppealRecord | None:
    """The return's latest appeal set aside by a partner's record, heard again (`ACCEPTED`):
    the record's decision is what it now appeals. None when there is none."""
    record = await session.scalar(
        select(AppealRecord)
        .where(
            AppealRecord.return_id == return_id,
            AppealRecord.disposition == "ANSWERED_BY_RECORD",
        )
        .order_by(AppealRecord.filed_at.desc())
        .limit(1)
    )
    if record is not None:
        record.disposition = "ACCEPTED"
    return record


async def appeals(session: AsyncSession, return_id: str) -> list[AppealRecord]:
    rows = await session.scalars(
        select(AppealRecord)
        .where(AppealRecord.return_id == return_id)
        .order_by(AppealRecord.filed_at)
    )
    return list(rows)


async def refunds(session: AsyncSession, return_id: str) -> list[RefundRecord]:
    rows = await session.scalars(select(RefundRecord).where(RefundRecord.return_id == return_id))
    return list(rows)


class _LockedReturns(set[str]):
    """Returns whose advisory lock this transaction holds (a part of its unit of work)."""


_LOCK_RETURNS = text(
    "SELECT pg_advisory_xact_lock(k) "
    "FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
)


def _return_lock_key(return_id: str) -> int:
    digest = hashlib.sha256(f"return:{return_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_returns(session: AsyncSession, return_ids: Iterable[str]) -> None:
    """Hold each return's lock until the transaction ends (taken once per transaction).

    A return's events arrive on several topics (intake's facts, fraud's assessments), which
    replicas may consume at the same time: without this, a case opened by one replica and the
    assessment stored by another each miss the other's uncommitted row, and the case waits for
    an assessment it already has. Locks are taken in key order, so two batches never deadlock.
    """
    held = unit_of(session).get(_LockedReturns)
    wanted = {r for r in return_ids if r and r not in held}
    if not wanted:
        return
    keys = sorted({_return_lock_key(r) for r in wanted})
    await session.execute(_LOCK_RETURNS, {"keys": keys})
    held.update(wanted)
