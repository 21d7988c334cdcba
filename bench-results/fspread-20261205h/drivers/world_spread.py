"""A range-set world's sellers at its end (claims, deliveries per category, as the counters count
them over the 120-day window), and the honest sellers' spread each estimate reads from them.

    python world_spread.py dev 101 [dev-alone 102 ...]     (run from the root of the code under test)
"""

from __future__ import annotations

import os
import sys
from collections import Counter

sys.path.insert(0, os.getcwd())

from disputedesk.simulate.generator import generate  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from services.fraud.detectors import claim_abuse  # noqa: E402
from services.fraud.detectors.stats import Sequential, Thresholds  # noqa: E402

T, S = Thresholds(), Sequential()


def sellers(name: str, seed: int) -> tuple[dict[str, dict[str, tuple[int, int]]], set[str], object]:
    market = draw_market(seed, ranges=RANGE_SETS[name][1])
    world = generate(market, seed)
    returns = {a.return_id: a.body for a in world.actions if a.kind == "return"}
    delivered: Counter[str] = Counter()
    claims: Counter[str] = Counter()
    category: dict[str, str] = {}
    for a in world.actions:
        r = returns.get(a.return_id, {})
        s = r.get("seller_id")
        if s:
            category[s] = r.get("category")
        if a.kind == "escalation":
            claims[s] += 1
        elif a.kind == "scan" and a.body.get("type") == "DELIVERED_TO_SELLER":
            delivered[s] += 1
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for s, c in category.items():
        out.setdefault(c, {})[s] = (claims[s], delivered[s])
    planted = {i for members in world.truth.entities.values() for t, i in members if t == "seller"}
    return out, planted, market


def main() -> None:
    args = sys.argv[1:]
    for name, seed in zip(args[::2], args[1::2], strict=True):
        by_cat, planted, market = sellers(name, int(seed))
        a, b = market.honest.claim_rate_beta
        factors = dict(market.honest.category_claim_factors)
        for label, keep in (("all", lambda s: True), ("honest", lambda s: s not in planted)):
            cats = {c: [v for s, v in ss.items() if keep(s)] for c, ss in by_cat.items()}
            cats = {c: v for c, v in cats.items() if v}
            bases, conc = claim_abuse.pooled_concentration(cats, T, prior_rate=0.05)
            pops = {}
            for c in cats:
                if hasattr(claim_abuse, "category_population"):
                    pop = claim_abuse.category_population(cats, c, T, S, prior_rate=0.05)
                else:
                    pop = claim_abuse.honest_population(bases[c], cats[c], conc, T, S, prior_rate=0.05)
                pops[c] = pop
            print(name, seed, label, "market", conc if isinstance(conc, float) else conc)
            for c, pop in pops.items():
                m = a / (a + b) * factors.get(c, 1.0)
                cv2 = (b / (a + b)) / ((a / (a + b)) * (a + b + 1))
                true_c = (1 - m) / (m * cv2) - 1
                print(f"   {c:12s} sellers {len(cats[c]):3d} rate {pop.rate:.4f} conc {pop.concentration:7.1f}   drawn mean {m:.4f} effective a+b {true_c:6.1f}")


main()
