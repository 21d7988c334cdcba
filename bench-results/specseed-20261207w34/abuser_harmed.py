"""The claims the world labels claim abuse on parcels harmed in transit (lost, damaged, or
delivered under 85 % of the picked-up weight), and the band a run gave each.
    python abuser_harmed.py SEED END_ISO RUN_JSON"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end, path = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
w = build_world(seed, end=end)
raw = json.load(open(path))["result"]["raw"]["claims"]


def harmed(r) -> bool:
    kinds = {s.kind for s in r.scans}
    if kinds & {"LOST", "DAMAGED_IN_TRANSIT"}:
        return True
    p = [s.weight_g for s in r.scans if s.kind == "PICKED_UP" and s.weight_g]
    d = [s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER" and s.weight_g]
    return bool(p and d and d[0] < 0.85 * p[0])


planted = [(r, c) for r, c in w.claims if "claim_abuse" in c.patterns]
on_harmed = [(r, c) for r, c in planted if harmed(r)]
print(f"{seed}: claim-abuse claims {len(planted)}, on harmed parcels {len(on_harmed)}")
for r, c in on_harmed:
    a = raw.get(r.return_id, {})
    print(f"  {r.return_id} {r.seller} {c.claim_type} {sorted(c.patterns)} band {a.get('band')} {a.get('codes')}")
