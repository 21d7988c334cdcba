"""The claims a run scored HIGH that the world (labels as the code now draws them) calls
honest: their codes, the planted parties on them, and whether the parcel was harmed in transit.
    python honest_high.py SEED END_ISO RUN_JSON"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end, path = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
w = build_world(seed, end=end)
raw = json.load(open(path))["result"]["raw"]["claims"]
fe = w.fraud_entities()
for r, c in w.claims:
    a = raw.get(r.return_id)
    if not a or a["band"] != "HIGH" or c.patterns:
        continue
    kinds = [s.kind for s in r.scans]
    picked = [s.weight_g for s in r.scans if s.kind == "PICKED_UP" and s.weight_g]
    got = [s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER" and s.weight_g]
    harmed = "LOST" in kinds or "DAMAGED_IN_TRANSIT" in kinds or bool(
        picked and got and got[0] < 0.85 * picked[0]
    )
    parties = [
        f"{t} {e}"
        for t, e in (
            ("seller", r.seller),
            ("buyer", r.buyer),
            ("hub", r.origin_hub),
            ("hub", r.dest_hub),
            ("agent", r.agent),
        )
        if e and e in fe[t]
    ]
    print(seed, r.return_id, c.claim_type, "harmed" if harmed else "whole", a["codes"], parties)
