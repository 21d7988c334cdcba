"""Per planted claim abuser of the world written from the specification: its deliveries a day,
deliveries and claims before its first planted claim, its claims per delivery over its
category's honest sellers' (shown), and the days a test of its counts needs from its first
planted claim to reach a factor of 100 at that ratio against a binomial honest rate (the
expected log factor per delivery; no spread, no guards, no signs): what the claims hold.
    python specworld_need.py SEED END_ISO"""

import math
import statistics
import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
w = build_world(seed, end=end)
abusers = sorted(w.truth["claim_abuse"].get("seller", set()))


def delivered(r):
    for s in r.scans:
        if s.kind == "DELIVERED_TO_SELLER" if hasattr(s, "kind") else getattr(s, "type", "") == "DELIVERED_TO_SELLER":
            return s.at
    return None


rows = []
cat_hon: dict[str, list[int]] = {}
for r in w.returns:
    if r.seller in abusers:
        continue
    d = delivered(r)
    if d is None:
        continue
    c = cat_hon.setdefault(r.category, [0, 0])
    c[1] += 1
    c[0] += r.claim is not None
for s in abusers:
    first = w.first_planted.get(("seller", s))
    rs = [r for r in w.returns if r.seller == s and delivered(r) is not None]
    dels = sorted(delivered(r) for r in rs)
    span = max((dels[-1] - dels[0]).total_seconds() / 86400, 1)
    k = sum(r.claim is not None for r in rs)
    pre_n = sum(delivered(r) < first for r in rs)
    pre_k = sum(r.claim is not None and r.claim.filed_at < first for r in rs)
    # the honest rate of its categories, weighed by its own deliveries
    p = sum(cat_hon[r.category][0] / cat_hon[r.category][1] for r in rs) / len(rs)
    x = (k / len(rs)) / p
    per = x * p * math.log(x) + (1 - x * p) * math.log((1 - x * p) / (1 - p)) if x > 1 and x * p < 1 else None
    need = math.log(100) / per if per else None
    fifth = sorted(r.claim.filed_at for r in rs if r.claim is not None and r.claim.filed_at >= first)
    rows.append((s, len(rs), k, round(x, 2), round(p, 3), round(len(rs) / span, 2), f"{pre_n} ({pre_k})",
                 None if need is None else round(need, 1), None if need is None else round(need / (len(rs) / span), 1),
                 round((fifth[4] - first).total_seconds() / 86400, 1) if len(fifth) >= 5 else None))
print("| seller | deliveries | claims | shown | category rate | deliveries/day | before first planted (claims) | deliveries to 100 | days to 100 | 5th planted-era claim |")
print("|---|---|---|---|---|---|---|---|---|---|")
for row in rows:
    print("| " + " | ".join("–" if v is None else str(v) for v in row) + " |")
ds = [r[8] for r in rows if r[8] is not None]
print("median days to 100:", statistics.median(ds) if ds else None)
