"""Honest hubs alerted for pilferage, traced against the world's truth.

    DISPUTEDESK_STATE_DIR=... DISPUTEDESK_PG_PORT=... python hubdiag.py LABEL RANGES SEED [SEED ...]

Each world (drawn from RANGES: wide, dev) is scored straight through fraud's scoring
(`score_directly`), its escalations left out (pilferage reads scans only), into a database of
its own, kept (`pilf_LABEL_SEED`). Then, for every pilferage alert, the entity's record in the
56-day window up to the alert, as fraud's custody counts it, incident by incident, by what the
generator says caused it:

- own: an honest incident that happened at this hub (its own factor's doing);
- bad_day: an incident at the bad-day hub on its bad day;
- agent:<id>: planted pilferage by a pilfering agent picking up for this hub;
- hub:<id>: planted pilferage of a pilfering hub (another hub's drawn by lot onto this one, or
  this hub's own when it is planted);
- lot:<hub>: an honest incident that happened at another hub and was counted here by lot.

Writes one JSON line per alert to stdout; a readable table to stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import timedelta
from typing import Any

from disputedesk.simulate import generator as g
from disputedesk.simulate.direct import canonical_event, score_directly
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
from disputedesk.stack.local_stack import Stack
from services.fraud.features.service import Increments, counted_hubs, record_scan
from services.fraud.models import ReturnFacts
from shared.events import ReturnShipmentEvent
from shared.migrations import upgrade

WINDOW = timedelta(days=56)


def build(seed: int, ranges: str) -> tuple[Any, g.World, dict[str, dict[str, Any]]]:
    """The world with its generator (for the hub factors, planted roles, the bad day) and each
    journey's truth."""
    journeys: dict[str, dict[str, Any]] = {}
    orig = g._Generator.emit

    def emit(self: g._Generator, j: Any, *, force_drop: bool = False) -> None:
        orig(self, j, force_drop=force_drop)
        end = self.terminal_at[j.return_id]
        journeys[j.return_id] = {
            "hub": j.hub,
            "agent": j.agent,
            "named": j.agent_named,
            "route": list(j.route),
            "incident": j.incident,
            "incident_hub": j.incident_hub,
            "pilfered": j.pilfered,
            "terminal": j.terminal,
            "partner": j.partner.format,
            "day": (end - self.m.start).days,
            "end": end,
        }

    g._Generator.emit = emit  # type: ignore[method-assign]
    try:
        market = draw_market(seed, RANGE_SETS[ranges][1])
        gen = g._Generator(market, seed, f"s{seed}")
        world = gen.run()
        world.seed = seed
    finally:
        g._Generator.emit = orig  # type: ignore[method-assign]
    return gen, world, journeys


def cause(gen: Any, j: dict[str, Any], counted_for: str) -> str:
    """What the generator says made this journey's incident, seen from the hub it is counted
    for."""
    if j["pilfered"]:
        ih = j["incident_hub"]
        if ih in gen.pilfering_hubs:
            return f"hub:{ih}"
        if j["agent"] in gen.pilfering_agents:
            return f"agent:{j['agent']}"
        return "pilfered?"
    if j["incident_hub"] != counted_for:
        return f"lot:{j['incident_hub']}"
    if j["hub"] == gen.bad_day_hub and j["day"] == gen.bad_day and counted_for == j["hub"]:
        return "bad_day"
    return "own"


def custody_counts(world: g.World) -> dict[str, dict[str, Any]]:
    """Per return: the hubs fraud counts as having handled it, the one its incident is counted
    for, its named agent."""
    facts: dict[str, ReturnFacts] = {}
    inc = Increments()
    for i, a in enumerate(world.actions):
        if a.kind != "scan":
            continue
        _, ev = canonical_event(world, i, a)
        assert isinstance(ev, ReturnShipmentEvent)
        f = facts.setdefault(
            ev.return_id,
            ReturnFacts(
                return_id=ev.return_id, hubs=[], custody=[], incident=False, pair_counted=False
            ),
        )
        record_scan(f, ev, inc, dear_from=None)
    out = {}
    for rid, f in facts.items():
        if f.terminal is None:
            continue
        hubs, incident_hub = counted_hubs(f)
        out[rid] = {
            "handled": hubs,
            "incident_hub": incident_hub if f.incident else None,
            "agent": f.pickup_agent_id,
            "at": f.terminal_at,
        }
    return out


async def read_alerts(url: str) -> list[dict[str, Any]]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import create_async_engine

    from services.fraud.models import Alert

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(
                    Alert.entity_type,
                    Alert.entity_id,
                    Alert.event_time,
                    Alert.status,
                    Alert.closed_at,
                    Alert.evidence,
                    Alert.pattern,
                )
                .where(Alert.pattern.like("PILFERAGE%"))
                .order_by(Alert.event_time)
            )
            return [
                {
                    "etype": r[0],
                    "eid": r[1],
                    "at": r[2],
                    "status": r[3],
                    "closed_at": r[4],
                    "evidence": r[5],
                    "pattern": r[6],
                }
                for r in rows
            ]
    finally:
        await engine.dispose()


def record(
    gen: Any,
    journeys: dict[str, dict[str, Any]],
    counted: dict[str, dict[str, Any]],
    etype: str,
    eid: str,
    at: Any,
) -> dict[str, Any]:
    """The entity's window up to `at` as fraud counts it, incidents by cause, and its parcels
    by agent (hubs)."""
    since = at - WINDOW
    handled = 0
    by_cause: Counter[str] = Counter()
    by_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for rid, c in counted.items():
        if not (since.date() <= c["at"].date() <= at.date()) or c["at"] > at:
            continue
        j = journeys.get(rid)
        if j is None:
            continue
        if etype == "hub":
            if eid not in c["handled"]:
                continue
            handled += 1
            agent = c["agent"] or "(unnamed)"
            by_agent[agent][1] += 1
            if c["incident_hub"] == eid:
                by_cause[cause(gen, j, eid)] += 1
                by_agent[agent][0] += 1
        else:
            if c["agent"] != eid:
                continue
            handled += 1
            if c["incident_hub"] is not None:
                by_cause[cause(gen, j, c["incident_hub"])] += 1
    return {
        "handled": handled,
        "incidents": sum(by_cause.values()),
        "by_cause": dict(by_cause),
        "by_agent": {a: v for a, v in sorted(by_agent.items())},
    }


def main() -> None:
    label, ranges, *seeds = sys.argv[1:]
    stack = Stack.from_env(dict(os.environ))
    stack.up()
    for seed in map(int, seeds):
        gen, world, journeys = build(seed, ranges)
        counted = custody_counts(world)
        name = f"pilf_{label}_{seed}"
        url = stack.postgres.database_url(name)
        if not os.environ.get("REUSE"):
            stack.postgres.drop_database(name)
            stack.postgres.create_database(name)
            upgrade("fraud", url)
            scored = replace(world, actions=[a for a in world.actions if a.kind != "escalation"])
            asyncio.run(score_directly(scored, url))
        alerts = asyncio.run(read_alerts(url))
        planted = world.truth.entities.get("pilferage", set())
        hub_partner = {h: p.format for h, p in gen.partner_of_hub.items()}
        agents_of = defaultdict(list)
        for h, a in gen.agents:
            agents_of[h].append(a)
        honest_hubs = sorted(set(gen.hubs) - {e for t, e in planted if t == "hub"})
        honest_agents = sorted(
            {a for _, a in gen.agents} - {e for t, e in planted if t == "agent"}
        )
        summary = {
            "label": label,
            "seed": seed,
            "ranges": ranges,
            "kind": "world",
            "hubs": {
                h: {
                    "partner": hub_partner[h],
                    "factor": round(gen.hub_factor[h], 3),
                    "planted": ("hub", h) in planted,
                    "bad_day": h == gen.bad_day_hub,
                    "planted_agents": sorted(
                        a for a in agents_of[h] if ("agent", a) in planted
                    ),
                }
                for h in gen.hubs
            },
            "bad_day": gen.bad_day,
            "honest_hubs": len(honest_hubs),
            "honest_agents": len(honest_agents),
            "planted": sorted(map(list, planted)),
            "intensity": {
                k: v for k, v in world.truth.intensity.items() if k[0] == "pilferage"
            }.__repr__(),
            "relevant": {
                "|".join(k[1:]): v
                for k, v in world.truth.relevant.items()
                if k[0] == "pilferage" and (k[1], k[2]) in planted
            },
            "planted_events": len(world.truth.events.get("pilferage", set())),
        }
        print(json.dumps(summary, default=str), flush=True)
        for a in alerts:
            honest = (a["etype"], a["eid"]) not in planted
            rec = record(gen, journeys, counted, a["etype"], a["eid"], a["at"])
            numbers = (a["evidence"] or {}).get("numbers") or {}
            row = {
                "label": label,
                "seed": seed,
                "kind": "alert",
                "etype": a["etype"],
                "eid": a["eid"],
                "honest": honest,
                "at": a["at"],
                "day": (a["at"] - world.actions[0].at).days if world.actions else None,
                "status": a["status"],
                "closed_at": a["closed_at"],
                "code": (a["evidence"] or {}).get("code"),
                "detail": (a["evidence"] or {}).get("detail"),
                "numbers": numbers,
                "record": rec,
            }
            if a["etype"] == "hub":
                row |= summary["hubs"][a["eid"]]
            print(json.dumps(row, default=str), flush=True)
            print(
                f"{seed} {a['etype']} {a['eid']} honest={honest} {a['at']:%m-%d} "
                f"{row.get('code')} {rec['incidents']}/{rec['handled']} {rec['by_cause']}",
                file=sys.stderr,
            )


if __name__ == "__main__":
    main()
