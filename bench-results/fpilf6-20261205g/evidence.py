"""What pilferage counts against what the world planted, per planted entity (no database).

Each return's scans are read as `score_directly` hands them to fraud (the canonical event of
every partner: desipost names no agent, times at the partner's precision) and counted by
fraud's own custody (`features.custody`): the hubs that handled the parcel, the one its
incident is counted for, the pickup agent. For each planted hub or agent: its planted
incidents counted for it, counted for another hub (the lot, a loss declared elsewhere), or not
counted at all (no incident read, or no agent named); its whole record against its peers'.

    python evidence.py SEED [SEED ...]    (PILF_RANGES=wide for the wide worlds)
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict

from disputedesk.simulate import generator as gen
from disputedesk.simulate.partners import partner_time
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
from services.fraud.features.custody import DECLARED, END, PICKUP, SCAN, WEIGHT_DROP, Seen, custody, weight_drop

PLANTED: dict[tuple[str, str], list[str]] = defaultdict(list)
_plant = gen.GroundTruth.plant


def _recording(self, pattern, entity, event, at):  # type: ignore[no-untyped-def]
    if pattern == "pilferage" and event is not None:
        PLANTED[entity].append(event[1])
    return _plant(self, pattern, entity, event, at)


gen.GroundTruth.plant = _recording  # type: ignore[method-assign]
PICKUPS = {"PICKED_UP", "QC_PASSED", "QC_FAILED"}
ENDS = {"DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT"}


def read(world):  # type: ignore[no-untyped-def]
    scans = defaultdict(list)
    partner = {}
    for a in world.actions:
        if a.kind == "scan":
            scans[a.return_id].append(a)
            partner[a.return_id] = a.partner_format
    out = {}
    for rid, acts in scans.items():
        fmt = partner[rid]
        seen, pickup_w, agent, end = [], None, None, None
        for a in acts:  # arrival = event-time order in a direct replay
            b = a.body
            t = b["type"]
            at = partner_time(fmt, b["at"])
            kind = END if t in ENDS else PICKUP if t in PICKUPS else SCAN
            if end is not None and t in ENDS:
                continue
            seen.append(Seen(at, b.get("hub"), b.get("weight_g"), kind))
            if t in PICKUPS:
                ag = None if fmt == "desipost" else b.get("agent")
                agent = agent or ag
                if pickup_w is None and b.get("weight_g") is not None:
                    pickup_w = b["weight_g"]
            if t in ENDS and end is None:
                end = (t, b.get("weight_g"))
        if end is None:
            continue
        incident = None
        if end[0] != "DELIVERED_TO_SELLER":
            incident = DECLARED
        elif weight_drop(pickup_w, end[1]):
            incident = WEIGHT_DROP
        c = custody(rid, seen, pickup_weight_g=pickup_w, incident=incident)
        out[rid] = (fmt, c, agent, incident, pickup_w is None, end[1] is None and end[0] == "DELIVERED_TO_SELLER")
    return out


def main() -> None:
    ranges = RANGE_SETS[os.environ["PILF_RANGES"]][1] if os.environ.get("PILF_RANGES") else None
    for seed in map(int, sys.argv[1:]):
        PLANTED.clear()
        world = gen.generate(draw_market(seed, ranges), seed)
        journeys = read(world)
        handled, incidents = Counter(), Counter()
        for rid, (fmt, c, agent, inc, _, _) in journeys.items():
            for h in c.handled:
                handled[("hub", h)] += 1
            if c.incident_hub:
                incidents[("hub", c.incident_hub)] += 1
            if agent:
                handled[("agent", agent)] += 1
                if inc:
                    incidents[("agent", agent)] += 1
        no_pickup_w = sum(1 for v in journeys.values() if v[4])
        print(f"== world {seed}: {len(journeys)} ended journeys, {no_pickup_w} without a pickup weight")
        hubs = [(k, n) for (t, e), n in handled.items() if t == "hub" for k in [incidents[(t, e)]]]
        tot_k, tot_n = sum(k for k, _ in hubs), sum(n for _, n in hubs)
        print(f"   hubs' incidents {tot_k}/{tot_n} = {tot_k / tot_n:.3%}")
        truth = world.truth
        for entity in sorted(truth.entities["pilferage"]):
            et, eid = entity
            rids = PLANTED.get(entity, [])
            why = Counter()
            for rid in rids:
                fmt, c, agent, inc, nopw, nodw = journeys[rid]
                if inc is None:
                    why["no incident read" + (" (no pickup weight)" if nopw else "") + (" (no delivered weight)" if nodw else "")] += 1
                elif et == "hub":
                    why["counted" if c.incident_hub == eid else f"counted for another hub ({inc}, {len(c.candidates)} candidates)"] += 1
                else:
                    why["counted" if agent == eid else "agent not named"] += 1
            key = ("pilferage", et, eid)
            fmts = Counter(journeys[r][0] for r in rids)
            k, n = incidents[entity], handled[entity]
            print(
                f"  {et} {eid} {dict(fmts)} drawn {truth.intensity.get(key, 0):.2f}x realized "
                f"{truth.realized.get(key, 0):.2f}x relevant {truth.relevant.get(key, 0)}; "
                f"planted {len(rids)}: {dict(why)}; record {k}/{n} = {k / max(n, 1):.2%}"
            )


if __name__ == "__main__":
    main()
