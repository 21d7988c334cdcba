"""Offline, the world alone: every buyer's named events as fraud's wrong/used test counts them at
the world's end (WRONG_ITEM, USED_ITEM and MISSING_ITEM claims on parcels delivered unharmed,
and refusals at pickup, per delivered or refused return), read by the buyer's sequential test
at the spread seen through the stack (rate 0.032, concentration 1000); planted buyers listed,
honest buyers counted by their evidence.
    python buyers_offline.py SEED END_ISO"""

from __future__ import annotations

import math
import sys
from collections import Counter
from datetime import datetime

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors.returns_abuse import buyer_sequential
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_log_bf

HARMED = {"LOST", "DAMAGED_IN_TRANSIT"}
s = buyer_sequential(Sequential(), 1e-3)
spread = PeerSpread(0.032, 1000.0)
end = datetime.fromisoformat(sys.argv[-1])
for seed in map(int, sys.argv[1:-1]):
    w = build_world(seed, end=end)
    rec: dict[str, list[int]] = {}
    sellers: dict[str, set[str]] = {}
    for r in w.returns:
        kinds = [x.kind for x in r.scans]
        refused = "QC_FAILED" in kinds
        delivered = "DELIVERED_TO_SELLER" in kinds
        if not (refused or delivered):
            continue
        picked = [x.weight_g for x in r.scans if x.kind == "PICKED_UP" and x.weight_g]
        got = [x.weight_g for x in r.scans if x.kind == "DELIVERED_TO_SELLER" and x.weight_g]
        harmed = bool(set(kinds) & HARMED) or bool(picked and got and got[0] < 0.85 * picked[0])
        named = refused or (
            r.claim is not None
            and not harmed
            and r.claim.claim_type in ("WRONG_ITEM", "USED_ITEM", "MISSING_ITEM")
        )
        k_n = rec.setdefault(r.buyer, [0, 0])
        k_n[1] += 1
        if named:
            k_n[0] += 1
            sellers.setdefault(r.buyer, set()).add(r.seller)
    planted = w.truth["wrong_used"]["buyer"]
    fraud = w.fraud_entities()["buyer"]
    dist: Counter[str] = Counter()
    for b, (k, n) in rec.items():
        lbf = sequential_log_bf(k, n, spread, s)
        ds = len(sellers.get(b, ()))
        if b in planted:
            print(seed, b, f"{k}/{n} sellers {ds} logBF {lbf:.2f} (alert {math.log(1000):.2f})")
        elif b not in fraud and k >= 2:
            dist[f"k={k} alert-level={'yes' if lbf >= math.log(1000) and ds >= 2 else 'no'}"] += 1
    print(seed, "honest buyers with 2+ named events:", dict(sorted(dist.items())), "of", len(rec))
