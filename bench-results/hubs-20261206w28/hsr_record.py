"""BLR-HSR-01's custody record by UTC day as the world's journeys end (world order), up to a
moment: what fraud would hold counting in world order (replay_hubs.py's counting).
    python hsr_record.py SEED AT_ISO HUB"""
import sys
from datetime import datetime
sys.argv = [sys.argv[0], sys.argv[1], "2026-12-07T00:00:00+00:00", sys.argv[2], sys.argv[3]]
at, hub = datetime.fromisoformat(sys.argv[3]), sys.argv[4]
import importlib.util
src = open("replay_hubs.py").read().split("planted = set(")[0]
exec(compile(src, "replay_hubs_head", "exec"))
rets = [r for r in w.returns if r.return_id in ends and ends[r.return_id] <= at]
rec = all_hub_days(rets).get(hub, {})
for d, c in rec.items():
    if d >= datetime(2026, 11, 8).date():
        print(d, c.handled, c.incidents)
