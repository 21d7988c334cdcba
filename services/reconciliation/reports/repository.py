"""The rows reports are computed from: cases with their decision's figures, and escalations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case, EscalationRecord, ReturnRecord, ShipmentEventRecord
from services.reconciliation.reports.kpis import CaseRow, EscalationRow


async def case_rows(session: AsyncSession, *, since: datetime, until: datetime) -> list[CaseRow]:
    """Cases opened or decided in [since, until)."""
    # The hub a return last passed: its delivery scan's hub when delivered, else the latest one.
    hub = (
        select(ShipmentEventRecord.hub_id)
        .where(
            ShipmentEventRecord.return_id == Case.return_id,
            ShipmentEventRecord.hub_id.is_not(None),
        )
        .order_by(
            case((ShipmentEventRecord.event_type == "DELIVERED_TO_SELLER", 0), else_=1),
            ShipmentEventRecord.occurred_at.desc(),
        )
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            Case.case_id,
            Case.seller_id,
            Case.partner_id,
            ReturnRecord.category,
            Case.claim_type,
            hub,
            Case.opened_at,
            Case.decided_at,
            Case.decided_by,
            Case.decision["rule_id"].astext,
            Case.decision["outcome"].astext,
            Case.decision["reason_code"].astext,
            Case.decision["payout"].as_integer(),
            Case.decision["partner_debit"].as_integer(),
            Case.decision["buyer_receivable"].as_integer(),
            Case.decision["marketplace_cost"].as_integer(),
            Case.sla_breached,
            Case.fraud_band,
        )
        .outerjoin(ReturnRecord, ReturnRecord.return_id == Case.return_id)
        .where(
            or_(
                (Case.opened_at >= since) & (Case.opened_at < until),
                (Case.decided_at >= since) & (Case.decided_at < until),
            )
        )
        .order_by(Case.opened_at, Case.case_id)
    )
    rows = await session.execute(query)
    return [
        CaseRow(
            case_id=r[0],
            seller_id=r[1],
            partner_id=r[2],
            category=r[3],
            claim_type=r[4],
            hub_id=r[5],
            opened_at=r[6],
            decided_at=r[7] if r[9] is not None else None,
            decided_by=r[8],
            rule_id=r[9],
            outcome=r[10],
            reason_code=r[11],
            payout=r[12] or 0,
            partner_debit=r[13] or 0,
            buyer_receivable=r[14] or 0,
            marketplace_cost=r[15] or 0,
            sla_breached=bool(r[16]),
            fraud_band=r[17],
        )
        for r in rows.all()
    ]


async def first_case_at(session: AsyncSession) -> datetime | None:
    """When the desk's first case opened: how much history a trend can lean on."""
    return await session.scalar(select(func.min(Case.opened_at)))


async def escalation_rows(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[EscalationRow]:
    rows = await session.execute(
        select(
            EscalationRecord.seller_id,
            ReturnRecord.partner_id,
            ReturnRecord.category,
            EscalationRecord.claim_type,
            EscalationRecord.filed_at,
        )
        .outerjoin(ReturnRecord, ReturnRecord.return_id == EscalationRecord.return_id)
        .where(EscalationRecord.filed_at >= since, EscalationRecord.filed_at < until)
    )
    return [EscalationRow(*r) for r in rows.all()]
