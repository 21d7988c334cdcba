"""Each spec-only world's (`disputedesk.fraudworld`) hubs as fraud's custody counts them: parcels
handled, incidents, and how many of the parcels were the hub's as the journey's destination.
No database: the world's scans read with `features.custody` as fraud receives them (swiftship
milestones only, rapidroute and desipost every scan).   python fworld_hubs.py SEED..."""
import sys
from collections import Counter, defaultdict

from disputedesk.fraudworld.world import build_world
from services.fraud.features.custody import DECLARED, END, PICKUP, SCAN, WEIGHT_DROP, Seen, custody, weight_drop

import math

from services.fraud.detectors import pilferage, stats

T, SEQ = stats.Thresholds(), stats.Sequential(alpha=0.005)


def alerted_bf(rows, hub, weigh):
    """The hub's whole-world log Bayes factor against the other hubs (robust peers, leave-out,
    by information), raw or weighed (`pilferage.exposure_scales`); the alert is at log 200 = 5.3.
    Whole-world counts without the onset, history and explaining agents the product adds."""
    scales = pilferage.exposure_scales(rows, T) if weigh else {}
    kept = [(r["incidents"], pilferage.weighed(r["handled"], r["incidents"], scales.get(h, 1.0)), 1)
            for h, r in rows.items() if h != hub]
    spread = stats.sequential_peers(kept, T, prior_rate=0.03, leave_out=True, by_information=True)
    r = rows[hub]
    n = pilferage.weighed(r["handled"], r["incidents"], scales.get(hub, 1.0))
    return stats.sequential_log_bf(r["incidents"], n, spread, SEQ)


PICKUPS = {"PICKED_UP", "QC_PASSED", "QC_FAILED"}
ENDS = {"DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT"}
MILESTONES = {"PICKED_UP", "QC_PASSED", "QC_FAILED", "AT_HUB", "DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT"}

for seed in map(int, sys.argv[1:]):
    w = build_world(seed)
    planted = w.truth["pilferage"]
    hub_partner = {}
    rows = defaultdict(Counter)
    agents = defaultdict(Counter)
    for r in w.returns:
        scans = [s for s in r.scans if r.partner != "swiftship" or s.kind in MILESTONES]
        seen = [Seen(s.at, s.hub, s.weight_g, END if s.kind in ENDS else PICKUP if s.kind in PICKUPS else SCAN) for s in scans]
        ends = [s for s in scans if s.kind in ENDS]
        if not ends:
            continue
        end = min(ends, key=lambda s: s.at)
        pw = next((s.weight_g for s in sorted(scans, key=lambda s: s.at) if s.kind in PICKUPS and s.weight_g), None)
        inc = DECLARED if end.kind != "DELIVERED_TO_SELLER" else WEIGHT_DROP if weight_drop(pw, end.weight_g) else None
        c = custody(r.return_id, seen, pickup_weight_g=pw, incident=inc)
        for h in c.handled:
            hub_partner[h] = r.partner
            row = rows[h]
            row["n"] += 1
            row["as_dest"] += h == r.dest_hub
            part = "only" if len(c.handled) == 1 else "last" if h == c.handled[-1] else None
            if part:
                row[f"n_{part}"] += 1
                row[f"k_{part}"] += bool(inc and h == c.incident_hub)
            if inc and h == c.incident_hub:
                row["k"] += 1
                row["k_dest"] += h == r.dest_hub
        if r.agent:
            agents[r.agent]["n"] += 1
            agents[r.agent]["k"] += inc is not None
    print(f"world {seed}: planted {sorted(planted['hub'])} {sorted(planted['agent'])}")
    counters = {h: {"handled": r["n"], "incidents": r["k"], "handled_only": r["n_only"],
                    "incidents_only": r["k_only"], "handled_last": r["n_last"],
                    "incidents_last": r["k_last"]} for h, r in rows.items()}
    for h in sorted(rows, key=lambda h: (hub_partner[h], h)):
        r = rows[h]
        tag = "PLANTED" if h in planted["hub"] else ""
        bf = {w: alerted_bf(counters, h, w) for w in (False, True)}
        print(f"  {hub_partner[h]:10s} {h:28s} n={r['n']:4d} dest={r['as_dest']:4d} k={r['k']:3d} (as dest {r['k_dest']:3d}) rate={r['k']/r['n']:.3f} "
              f"log BF raw {bf[False]:6.2f} weighed {bf[True]:6.2f} {tag}")
    for a in sorted(planted["agent"]):
        print(f"  agent {a}: {agents[a]['k']}/{agents[a]['n']}")
