"""Every hub's counters by the part of the journey it held, and its exposure scale, at the end
of a spec world (as `../fpilf9-20261206w22/fworld_spread.py` counts them).
    python rows_4242.py SEED END_ISO"""
import sys
from datetime import datetime
sys.path.insert(0, "../fpilf9-20261206w22")
import fworld_spread as fs
from disputedesk.fraudworld.world import build_world
w = build_world(int(sys.argv[1]), end=datetime.fromisoformat(sys.argv[2]))
c = fs.counts_of(w)
for h, r in sorted(c["rows"].items()):
    print(f"{h:26s} {c['partner_of'][h]:10s} scale {c['scales'][h]:.2f} " + " ".join(f"{k}={r[k]}" for k in ("handled","incidents","handled_only","incidents_only","handled_last","incidents_last","handled_earlier","incidents_earlier","planted")))
