"""Offline: the seller test's log Bayes factor (fraud's own `stats.sequential_test`, alternative
2.5x mixed with 4x and 6x, concentration 1000 as the runs read) for each planted abuser's
whole record at the world's end, with the parcels delivered light counted (as fraud counts them)
and without (claims and deliveries both out, the peers' rate likewise). Alert at log 100 = 4.61.
    python drop_bf.py SEED END_ISO"""

from __future__ import annotations

import math
import sys
from datetime import datetime

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
from disputedesk.fraudworld.world import build_world  # noqa: E402

w = build_world(seed, end=end)
fe = w.fraud_entities()


def counts(rs):
    d = c = dd = dc = 0
    for r in rs:
        kinds = {s.kind for s in r.scans}
        if "DELIVERED_TO_SELLER" not in kinds or kinds & {"LOST", "DAMAGED_IN_TRANSIT"}:
            continue
        p = [s.weight_g for s in r.scans if s.kind == "PICKED_UP" and s.weight_g]
        g = [s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER" and s.weight_g]
        drop = bool(p and g and g[0] < 0.85 * p[0])
        d += 1
        c += r.claim is not None
        dd += drop
        dc += drop and r.claim is not None
    return d, c, dd, dc


honest = [r for r in w.returns if r.seller not in fe["seller"] and r.seller not in w.lookalikes["seller"]]
d, c, dd, dc = counts(honest)
with_rate, without_rate = c / d, (c - dc) / (d - dd)
s = Sequential()
for sid in sorted(w.truth["claim_abuse"]["seller"]):
    d, c, dd, dc = counts([r for r in w.returns if r.seller == sid])
    a = sequential_test(c, d, PeerSpread(with_rate, 1000.0), s)
    b = sequential_test(c - dc, d - dd, PeerSpread(without_rate, 1000.0), s)
    print(f"{seed} {sid}: with drops {c}/{d} log BF {math.log(a.bayes_factor):.2f}; without {c - dc}/{d - dd} log BF {math.log(b.bayes_factor):.2f} (alert 4.61)")
