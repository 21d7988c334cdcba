"""Pilferage alone on drawn worlds: each world's escalations left out, scored straight through
fraud's scoring (`score_directly`) into a fraud database of its own per (variant, seed).

    DISPUTEDESK_STATE_DIR=... DISPUTEDESK_PG_PORT=... python pilf_replay.py LABEL SEED [SEED ...]

PILF_KEEP=1 keeps each world's database (`diag.py` reads its findings). Run with PYTHONPATH at
another checkout's code to score that code on the same worlds (the
simulator is whichever `disputedesk` is imported). Prints one JSON line per seed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import replace

from disputedesk.simulate.direct import score_directly
from disputedesk.simulate.generator import generate
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
from disputedesk.stack import Stack
from shared.migrations import upgrade


async def pilferage_alerts(url: str) -> list[tuple[str, str, str, str]]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.fraud.models import Alert

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(Alert.entity_type, Alert.entity_id, Alert.event_time, Alert.status).where(
                    Alert.pattern.like("PILFERAGE%")
                )
            )
            return [(r[0], r[1], str(r[2]), str(r[3])) for r in rows]
    finally:
        await engine.dispose()


def main() -> None:
    label, seeds = sys.argv[1], [int(s) for s in sys.argv[2:]]
    ranges = RANGE_SETS[os.environ["PILF_RANGES"]][1] if os.environ.get("PILF_RANGES") else None
    stack = Stack.from_env(dict(os.environ))
    stack.up()
    for seed in seeds:
        name = f"pilf_{label}_{seed}"
        stack.postgres.drop_database(name)
        stack.postgres.create_database(name)
        url = stack.postgres.database_url(name)
        upgrade("fraud", url)
        world = generate(draw_market(seed, ranges), seed)
        if not os.environ.get("PILF_WITH_ESCALATIONS"):
            world = replace(world, actions=[a for a in world.actions if a.kind != "escalation"])
        table = asyncio.run(score_directly(world, url))
        alerts = asyncio.run(pilferage_alerts(url))
        truth = world.truth
        planted = truth.entities["pilferage"]
        rows = [e for e in table.get("_entities", []) if e["pattern"] == "pilferage"]
        p = table["pilferage"]
        alerted = {(t, e) for t, e, _, _ in alerts}
        still_open = {(t, e) for t, e, _, status in alerts if status != "closed"}
        print(
            json.dumps(
                {
                    "label": label,
                    "seed": seed,
                    "seconds": table["_run"]["seconds"],
                    "entity_precision": p.get("entity_precision"),
                    "entities_alerted": p.get("entities_alerted"),
                    "entity_recall": p.get("entity_recall"),
                    "open_at_end": sorted(map(list, still_open)),
                    "honest": table.get("_honest"),
                    "entities": rows,
                    "planted": sorted(map(list, planted)),
                    "alerted": sorted(map(list, alerted)),
                    "honest_hubs": len(truth.hubs - {e for t, e in planted if t == "hub"}),
                    "honest_agents": len(truth.agents - {e for t, e in planted if t == "agent"}),
                },
                default=str,
            ),
            flush=True,
        )
        if not os.environ.get("PILF_KEEP"):  # kept: its findings read by diag.py
            stack.postgres.drop_database(name)


if __name__ == "__main__":
    main()
