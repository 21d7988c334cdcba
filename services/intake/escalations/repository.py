"""SQL of seller escalations."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Escalation


def add(session: AsyncSession, escalation: Escalation) -> None:
    session.add(escalation)


async def get(session: AsyncSession, escalation_id: str) -> Escalation | None:
    return await session.get(Escalation, escalation_id)
