"""SQL of labels: the latest label per subject joined with what the model said."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.models import Label


def add(session: AsyncSession, label: Label) -> None:
    session.add(label)


async def event_verdicts(session: AsyncSession) -> list[tuple[str, bool]]:
    rows = await session.execute(
        text("""
        SELECT DISTINCT ON (l.event_id) l.verdict, (a.band = 'HIGH') AS flagged
        FROM labels l
        JOIN LATERAL (
            -- The event's current assessment: its latest revision.
            SELECT band FROM assessments x WHERE x.subject_event_id = l.event_id
            ORDER BY x.revision DESC LIMIT 1
        ) a ON true
        WHERE l.event_id IS NOT NULL
        ORDER BY l.event_id, l.id DESC
    """)
    )
    return [(v, bool(f)) for v, f in rows]


async def entity_verdicts(session: AsyncSession) -> list[tuple[str, bool]]:
    # An entity counts as flagged when its risk is HIGH or an alert was ever raised on it.
    rows = await session.execute(
        text("""
        SELECT DISTINCT ON (l.entity_type, l.entity_id) l.verdict,
               (coalesce(r.band, 'LOW') = 'HIGH' OR EXISTS (
                    SELECT 1 FROM alerts x
                    WHERE x.entity_type = l.entity_type AND x.entity_id = l.entity_id
               )) AS flagged
        FROM labels l
        LEFT JOIN entity_risk r ON r.entity_type = l.entity_type AND r.entity_id = l.entity_id
        WHERE l.entity_id IS NOT NULL
        ORDER BY l.entity_type, l.entity_id, l.id DESC
    """)
    )
    return [(v, bool(f)) for v, f in rows]
