"""An agent's journeys in a specification-only world (the generator's truth), between two
times of their end: each with its origin and destination hub, its outcome and whether the
world planted it. python trace_agent.py SEED END_ISO AGENT SINCE_ISO UNTIL_ISO"""
import sys
from collections import Counter
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end, agent = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
since, until = datetime.fromisoformat(sys.argv[4]), datetime.fromisoformat(sys.argv[5])
w = build_world(seed, scale=1.0, end=end)
ENDS = ("DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT")
tally = Counter()
for r in w.returns:
    if r.agent != agent:
        continue
    ends = [s for s in r.scans if s.kind in ENDS]
    if not ends:
        continue
    e = min(ends, key=lambda s: s.at)
    if not (since <= e.at <= until):
        continue
    pw = next((s.weight_g for s in r.scans if s.kind == "PICKED_UP"), None)
    light = e.kind == "DELIVERED_TO_SELLER" and pw and e.weight_g < pw - max(50, pw // 10)
    outcome = "LOST" if e.kind == "LOST" else "DAMAGED" if any(
        s.kind == "DAMAGED_IN_TRANSIT" for s in r.scans) else "LIGHT" if light else "ok"
    planted = "pilferage" in r.patterns
    tally[(r.dest_hub, outcome != "ok", planted)] += 1
    if outcome != "ok":
        print(f"{e.at:%m-%d %H:%M} {r.return_id} {r.origin_hub} -> {r.dest_hub} {outcome}"
              f"{' (planted)' if planted else ''}")
print("by destination (incident, planted): count")
for k, v in sorted(tally.items()):
    print(" ", k, v)
