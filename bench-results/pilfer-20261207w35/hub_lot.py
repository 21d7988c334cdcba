"""The world's side of each planted pilfering hub: its harmed parcels by kind, and where
fraud's custody rule (`features.custody`, run on the world's own scans) places each incident,
the planted hub or the hub that sent the parcel.
    python hub_lot.py SEED END_ISO"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime

from disputedesk.fraudworld.world import build_world
from services.fraud.features.custody import DECLARED, END, PICKUP, SCAN, WEIGHT_DROP, Seen, custody

seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
w = build_world(seed, end=end)
KIND = {"PICKED_UP": PICKUP, "QC_PASSED": PICKUP, "QC_FAILED": PICKUP}
TERMINAL = {"DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT"}
for hub in sorted(w.truth["pilferage"]["hub"]):
    by: Counter[tuple[str, str]] = Counter()
    for r in w.returns:
        if r.dest_hub != hub or not any(s.kind in TERMINAL for s in r.scans):
            continue
        seen = [
            Seen(s.at, s.hub, s.weight_g, END if s.kind in TERMINAL else KIND.get(s.kind, SCAN))
            for s in r.scans
        ]
        pick = next((s.weight_g for s in r.scans if s.kind in KIND and s.weight_g), None)
        kinds = {s.kind for s in r.scans}
        if kinds & {"LOST", "DAMAGED_IN_TRANSIT"}:
            incident = DECLARED
        else:
            d = next(s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER")
            incident = WEIGHT_DROP if d < pick - max(50, pick // 10) else None
        if incident is None:
            continue
        c = custody(r.return_id, seen, pickup_weight_g=pick, incident=incident)
        by[(incident, "to it" if c.incident_hub == hub else "to the sender")] += 1
    print(seed, hub, dict(by))
