"""Adapter parse cost with weights: run from a checkout's root (main or wave31/grams)."""

import json
import timeit

from services.intake.partners.desipost import DesipostAdapter
from services.intake.partners.rapidroute import RapidRouteAdapter
from services.intake.partners.swiftship import SwiftshipAdapter
from tests.support.factories import desipost_snapshot, rapidroute_batch, rapidroute_event

swift = json.dumps(
    {"event": "return.picked_up", "awb": "SS1", "return_ref": "RET-1",
     "at": "2026-11-26T09:23:00+05:30", "weight_kg": 0.452}
).encode()
swift_half = swift.replace(b"0.452", b"0.4495")
batch = rapidroute_batch([rapidroute_event("RET-1", "RPU", event_id=f"evt_{i}") for i in range(500)])
# Every weight on a half gram: the body is read again for the weights' text (the worst case).
batch_half = rapidroute_batch(
    [rapidroute_event("RET-1", "RPU", event_id=f"evt_{i}", weight_g=449.5) for i in range(500)]
)
desi = desipost_snapshot("RET-1", "DP1", [("PICKED UP", f"24-11-2026 15:{m:02d}:00") for m in range(60)])
cases = {
    "swiftship 1 event": (lambda: SwiftshipAdapter().parse(headers={"webhook-id": "m"}, body=swift), 5000),
    "swiftship 1 event, 0.4495 kg": (lambda: SwiftshipAdapter().parse(headers={"webhook-id": "m"}, body=swift_half), 5000),
    "rapidroute 500 events": (lambda: RapidRouteAdapter().parse(headers={}, body=batch), 50),
    "rapidroute 500 events, 449.5 g each": (lambda: RapidRouteAdapter().parse(headers={}, body=batch_half), 50),
    "desipost 60 scans": (lambda: DesipostAdapter().parse(headers={}, body=desi), 500),
}
for name, (fn, n) in cases.items():
    try:
        best = min(timeit.repeat(fn, number=n, repeat=5)) / n
    except Exception as exc:  # main refuses 449.5 g
        print(f"{name:40s} refused: {type(exc).__name__}")
        continue
    print(f"{name:40s} {best * 1e6:9.1f} µs")
