"""Each spec-only world's (`disputedesk.fraudworld`) hubs as fraud's custody counts them: parcels
handled, incidents, and how many of the parcels were the hub's as the journey's destination.
No database: the world's scans read with `features.custody` as fraud receives them (swiftship
milestones only, rapidroute and desipost every scan).   python fworld_hubs.py SEED..."""
import sys
from collections import Counter, defaultdict

from disputedesk.fraudworld.world import build_world
from services.fraud.features.custody import DECLARED, END, PICKUP, SCAN, WEIGHT_DROP, Seen, custody, weight_drop

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
            if inc and h == c.incident_hub:
                row["k"] += 1
                row["k_dest"] += h == r.dest_hub
        if r.agent:
            agents[r.agent]["n"] += 1
            agents[r.agent]["k"] += inc is not None
    print(f"world {seed}: planted {sorted(planted['hub'])} {sorted(planted['agent'])}")
    for h in sorted(rows, key=lambda h: (hub_partner[h], h)):
        r = rows[h]
        tag = "PLANTED" if h in planted["hub"] else ""
        print(f"  {hub_partner[h]:10s} {h:28s} n={r['n']:4d} dest={r['as_dest']:4d} k={r['k']:3d} (as dest {r['k_dest']:3d}) rate={r['k']/r['n']:.3f} {tag}")
    for a in sorted(planted["agent"]):
        print(f"  agent {a}: {agents[a]['k']}/{agents[a]['n']}")
