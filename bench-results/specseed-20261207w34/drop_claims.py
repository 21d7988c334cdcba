"""Offline, the world alone: the seller's claim rate as fraud counts it (claims on returns
delivered to the seller, weight drops included; lost and damaged-in-transit parcels out) and
the same without the parcels delivered light, for the planted claim abusers against the honest
sellers' pooled rate.
    python drop_claims.py SEED END_ISO"""

from __future__ import annotations

import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
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
        claimed = r.claim is not None
        d += 1
        c += claimed
        dd += drop
        dc += drop and claimed
    return d, c, dd, dc


honest = [r for r in w.returns if r.seller not in fe["seller"] and r.seller not in w.lookalikes["seller"]]
d, c, dd, dc = counts(honest)
base_all, base_whole = c / d, (c - dc) / (d - dd)
print(f"{seed} honest sellers: {c}/{d} = {base_all:.4f} with drops; {c - dc}/{d - dd} = {base_whole:.4f} without ({dc} drop claims)")
for s in sorted(w.truth["claim_abuse"]["seller"]):
    d, c, dd, dc = counts([r for r in w.returns if r.seller == s])
    print(f"{seed} {s}: {c}/{d} = {c / d / base_all:.2f}x with drops; {c - dc}/{d - dd} = {(c - dc) / (d - dd) / base_whole:.2f}x without ({dc} drop claims)")
