"""SQL of holds that spans both kinds of held item (escalations and partner scans)."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Escalation, HeldScan


async def anything_held(session: AsyncSession, return_id: str) -> bool:
    """Whether an escalation or a scan waits for this return's feed entry: one round trip,
    so that the usual feed entry, for which nothing waits, reads no more than that."""
    escalations = exists().where(
        Escalation.return_id == return_id, Escalation.state == "pending_return"
    )
    scans = exists().where(HeldScan.return_id == return_id, HeldScan.state == "held")
    return bool(await session.scalar(select(or_(escalations, scans))))
