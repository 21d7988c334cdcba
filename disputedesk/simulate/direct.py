"""Score a simulated world straight through fraud's scoring, without intake, Kafka or HTTP.

Each action becomes the canonical event intake would publish for it (a scan's partner-neutral
body is what every partner adapter yields), assessed in event-time order against one fraud
database. A 56-day world takes seconds instead of minutes, which is what exploring a detector
change needs; `fraud-eval` through the real pipeline remains the measure that counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from disputedesk.simulate.evaluation import read_results, score_world
from disputedesk.simulate.generator import Action, World
from disputedesk.simulate.marketplace import Marketplace
from disputedesk.simulate.partners import partner_time
from shared.events import (
    EventPayload,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def canonical_event(world: World, i: int, action: Action) -> tuple[UUID, EventPayload]:
    """The event intake publishes for one simulated action, with a stable id."""
    event_id = uuid5(NAMESPACE_URL, f"sim/{world.seed}/{i}")
    body = action.body
    if action.kind == "return":
        return event_id, ReturnInitiated.model_validate(body)
    if action.kind == "scan":
        # A partner-neutral scan (canonical type, UTC time, grams): what every adapter yields.
        return event_id, ReturnShipmentEvent(
            event_id=event_id,
            partner_id=action.partner_id or "swiftship",
            partner_event_id=f"sim-{i}",
            return_id=body["return_id"],
            awb=body["awb"],
            event_type=ShipmentEventType(body["type"]),
            occurred_at=partner_time(action.partner_format, body["at"]),
            hub_id=body.get("hub"),
            # desipost never names the pickup agent, so intake never hears one from it.
            agent_id=None if action.partner_format == "desipost" else body.get("agent"),
            weight_g=body.get("weight_g"),
            pod_otp_verified=body.get("otp_verified"),
            raw_ref=f"sim-{i}",
        )
    return event_id, SellerEscalationFiled(
        escalation_id=f"ESC-{action.return_id}",
        filed_at=action.at,
        filed_by="simulator",
        **{k: v for k, v in body.items() if k not in {"channel"}},
        channel=body["channel"],
    )


async def score_batch(
    sessionmaker: async_sessionmaker[AsyncSession], events: Sequence[tuple[UUID, EventPayload]]
) -> None:
    """Assess `events` in one transaction, as fraud's consumer handles one batch: prepared
    together, then each in order, the counters written at the batch's end (the batch's reads
    are the consumer's: kept reads, pending increments)."""
    from services.fraud.features.repository import deferred_counters
    from services.fraud.scoring.service import assess_event, prepare_batch

    async with sessionmaker() as session, session.begin():
        async with deferred_counters(session):
            await prepare_batch(session, [p for _, p in events])
            for event_id, payload in events:
                await assess_event(session, payload=payload, subject_event_id=event_id)


async def score_directly(world: World, database_url: str, *, batch: int = 50) -> dict[str, Any]:
    """Assess every action of `world` against a fresh fraud database at `database_url` and
    score the result as fraud-eval does."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(database_url)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    started = time.monotonic()
    try:
        actions = list(enumerate(world.actions))
        for start in range(0, len(actions), batch):
            await score_batch(
                sessionmaker,
                [canonical_event(world, i, a) for i, a in actions[start : start + batch]],
            )
        assessments, alerts = await read_results(sessionmaker)
    finally:
        await engine.dispose()
    table = score_world(world, assessments, alerts)
    table["_run"] = {
        "seed": world.seed,
        "actions": len(world.actions),
        "assessments": len(assessments),
        "seconds": round(time.monotonic() - started, 1),
    }
    return table


async def evaluate_directly(
    seeds: list[int],
    market: Marketplace | Callable[[int], Marketplace],
    *,
    out_dir: Path,
    state_dir: Path,
    progress: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """`fraud-eval --direct`: the same worlds and the same table as `evaluate`, each world
    scored straight through fraud's scoring against a fresh fraud database. `market` may be a
    function of the seed (`--ranges`: each seed draws its own marketplace)."""
    import asyncio
    import json
    import os

    from disputedesk.simulate.evaluation import prepare_stack, report_of
    from disputedesk.simulate.generator import generate
    from disputedesk.simulate.ranges import describe

    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    _, _, prepare = await asyncio.to_thread(prepare_stack, state_dir)
    started = time.monotonic()
    per_seed = []
    for seed in seeds:
        await asyncio.to_thread(prepare)
        drawn = market(seed) if callable(market) else market
        world = generate(drawn, seed)
        table = await score_directly(world, os.environ["FRAUD_DATABASE_URL"])
        table["_world"] = describe(drawn)
        per_seed.append(table)
        if progress is not None:
            progress(seed, table)
    report = report_of(seeds, per_seed, seconds=time.monotonic() - started, mode="direct")
    await asyncio.to_thread(
        (out_dir / "fraud-eval-direct.json").write_text, json.dumps(report, indent=1, default=str)
    )
    return report
