"""The spec world's one-hub (swiftship) hubs at the end of the world: each weighed as scoring
weighs it (its exposure scale read from the other three hubs' median rate in the `only` part),
and with the four sharing one scale (their mean), every other hub as scored.
    python scale_swift.py SEED END_ISO"""
import sys
from datetime import datetime
sys.path.insert(0, "../fpilf9-20261206w22")
import fworld_spread as fs
from disputedesk.fraudworld.world import build_world
w = build_world(int(sys.argv[1]), end=datetime.fromisoformat(sys.argv[2]))
c = fs.counts_of(w)
hubs, _ = fs.hubs_as_scored(c)
only = [h for h, r in c["rows"].items() if r["handled_only"] and r["handled_only"] == r["handled"]]
mean = sum(c["scales"][h] for h in only) / len(only)
shared = dict(hubs)
for h in only:
    k, n = hubs[h]
    shared[h] = (k, max(round(c["rows"][h]["handled"] * mean), k))
for h in sorted(hubs):
    _, _, bf = fs.read(hubs[h], [v for o, v in hubs.items() if o != h])
    _, _, bf2 = fs.read(shared[h], [v for o, v in shared.items() if o != h])
    tag = w.lookalikes["hub"].get(h, "") + (" PLANTED" if h in w.truth["pilferage"]["hub"] else "")
    print(f"{h:26s} scale {c['scales'][h]:.2f} {hubs[h]} logBF {bf:6.2f} | one scale {mean:.2f} {shared[h]} logBF {bf2:6.2f} {tag}")
