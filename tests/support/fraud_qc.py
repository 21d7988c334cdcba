"""The QC-pass world fraud's QC-contradiction tests score on a database of their own: returns
passed at QC at a hub (by a named agent or by none), some later claimed as a wrong item, the
ordinary hubs a hub or an agent is weighed against, and what fraud made of them (its alerts,
each claim's latest band)."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.fraud.models import Alert, Assessment
from shared.events import EventPayload
from tests.support.factories import uid
from tests.support.fraud import intact_journey, score_events

START = datetime(2026, 6, 1, 9, tzinfo=UTC)
# The ten agents of `ordinary_network(hubs=5)`: AG-1a, AG-1b, …, AG-5b.
AGENTS = [f"AG-{h}{a}" for h in range(1, 6) for a in ("a", "b")]


def qc_journey(
    *, seller: str, buyer: str, hub: str, agent: str | None, day: float, claim: str | None
) -> list[EventPayload]:
    """A return passed at QC by `agent` at pickup (None: a partner that names no agent),
    delivered intact on day `day`, and claimed (if at all) an hour later."""
    return intact_journey(
        uid("R"),
        seller,
        buyer,
        START + timedelta(days=day),
        claim,
        agent,
        hub=hub,
        category="fashion",
        item_value=150_000,
        description="not the item sold",
        passed_qc=True,
        weight_g=600,
    )


def qc_pass(
    i: int, *, hub: str, agent: str | None, day: float, claimed: bool = False
) -> list[EventPayload]:
    """The `i`-th pass of a run at `hub`: one of twelve sellers' in turn, returned by a buyer
    named nowhere else, and later claimed as a wrong item if `claimed`."""
    return qc_journey(
        seller=f"S-{i % 12:02d}",
        buyer=uid("B"),
        hub=hub,
        agent=agent,
        day=day,
        claim="WRONG_ITEM" if claimed else None,
    )


def hub_passes(
    hub: str,
    agents: Sequence[str | None],
    passes: Iterable[int],
    *,
    from_day: float,
    apart: float,
    claimed: Container[int] = (),
) -> list[EventPayload]:
    """`hub`'s passes numbered `passes`, the i-th on day `from_day + i * apart` by
    `agents[i % len(agents)]` (None: no agent named), and claimed when i is in `claimed` (a
    `range(k, n, every)` for one pass in `every`)."""
    return [
        e
        for i in passes
        for e in qc_pass(
            i,
            hub=hub,
            agent=agents[i % len(agents)],
            day=from_day + i * apart,
            claimed=i in claimed,
        )
    ]


async def ordinary_network(sessions: async_sessionmaker[Any], *, hubs: int, per_agent: int) -> None:
    """Hubs H-1… of two agents each (AG-1a, AG-1b, …), scored: one QC pass in 40
    contradicted, each by a different buyer."""
    events: list[EventPayload] = []
    for h in range(1, hubs + 1):
        for a in ("a", "b"):
            events += hub_passes(
                f"H-{h}",
                [f"AG-{h}{a}"],
                range(per_agent),
                from_day=0,
                apart=0.4,
                claimed=range(17, per_agent, 40),
            )
    await score_events(sessions, events)


async def agent_5b_passes(
    sessions: async_sessionmaker[Any],
    passes: int,
    *,
    from_day: float,
    apart: float,
    claimed: tuple[int, int],
) -> set[tuple[str, str]]:
    """AG-5b (hub H-5) passes `passes` more, `apart` days apart from `from_day`; the i-th is
    later claimed as a wrong item when i % claimed[0] == claimed[1], each by another buyer.
    The QC alerts raised by then."""
    every, which = claimed
    await score_events(
        sessions,
        hub_passes(
            "H-5",
            ["AG-5b"],
            range(passes),
            from_day=from_day,
            apart=apart,
            claimed=range(which, passes, every),
        ),
    )
    return await qc_alerts(sessions)


async def qc_alert_rows(sessions: async_sessionmaker[Any]) -> list[Alert]:
    """Every QC-contradiction alert raised (on hubs and agents alike)."""
    async with sessions() as session:
        return list(
            await session.scalars(select(Alert).where(Alert.pattern.like("QC_CONTRADICTION_%")))
        )


async def qc_alerts(sessions: async_sessionmaker[Any]) -> set[tuple[str, str]]:
    """The entities alerted for QC contradictions, as (entity type, entity id)."""
    return {(a.entity_type, a.entity_id) for a in await qc_alert_rows(sessions)}


async def wrong_used_alerts(sessions: async_sessionmaker[Any]) -> set[str]:
    """The buyers alerted for wrong/used returns."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Alert.entity_id).where(Alert.pattern == "WRONG_USED_RETURNS")
        )
        return set(rows)


async def latest_bands(sessions: async_sessionmaker[Any]) -> dict[str, str]:
    """Each claim's band in its latest revision, by escalation id."""
    async with sessions() as session:
        rows = await session.execute(
            select(Assessment.escalation_id, Assessment.band)
            .where(Assessment.escalation_id.is_not(None))
            .order_by(Assessment.escalation_id, Assessment.revision)
        )
        return {escalation: band for escalation, band in rows}
