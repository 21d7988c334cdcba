"""World 707's planted hub (GGN-UDY-03) weighed against its peers as read, less the bad-day hub's
storm (its 8 forced damages, one day), less the planted incidents the lot and the planted agents
put on honest hubs, and less both: which of them widens the spread it is judged by."""

from __future__ import annotations

import fworld_spread as fs

from services.fraud.detectors import stats

w = fs.build_world(707)
c = fs.counts_of(w)
planted = w.truth["pilferage"]["hub"]
bad_day = next(h for h, why in w.lookalikes["hub"].items() if "bad day" in why)
own = c["hub"]["W707-GGN-UDY-03"]
peers = {h: v for h, v in c["hub"].items() if h not in planted}
print("planted incidents on honest hubs, the planted hub's lot / planted agents':",
      sum(c["rows"][h]["planted_by_hub"] for h in peers), "/", sum(c["rows"][h]["planted_by_agent"] for h in peers))
for name, storm, lot in (("as read", 0, False), ("less the storm", 8, False), ("less the lot", 0, True), ("less both", 8, True)):
    ps = []
    for h, (k, n) in peers.items():
        k -= c["rows"][h]["planted"] if lot else 0
        k -= storm if h == bad_day else 0
        ps.append((k, n))
    b = stats.robust_baseline(ps, fs.T, prior_rate=0.03, leave_out=True, by_information=True)
    print(f"{name:15s} mean {b.spread.rate:.4f} c {b.spread.concentration:5.0f} log BF {stats.sequential_log_bf(*own, b.spread, fs.SEQ):5.2f}")
