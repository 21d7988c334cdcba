"""A range-set world's sellers replayed day by day: at each cut, every seller's (claims,
deliveries) by category as the counters hold them, the honest population each spread variant
forms for each category (`claim_abuse.category_population`, the seller's own counts left out) and
the claim-rate sequential test's log Bayes factor of the planted sellers and the honest sellers
that reach 3 (alert at 4.61), per variant.

    python world_sellers_over_time.py dev 101 [VARIANT ...]   (VARIANT: median or a level; from the worktree root)
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.getcwd())

from disputedesk.simulate.generator import generate  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from services.fraud.detectors import claim_abuse  # noqa: E402
from services.fraud.detectors.stats import Sequential, Thresholds, sequential_test  # noqa: E402

T, S = Thresholds(), Sequential(alpha=1e-2)

name, seed = sys.argv[1], int(sys.argv[2])
variants = sys.argv[3:] or ["median", "0.75"]
market = draw_market(seed, ranges=RANGE_SETS[name][1])
world = generate(market, seed)
returns = {a.return_id: a.body for a in world.actions if a.kind == "return"}
planted = {i: p for p, members in world.truth.entities.items() for t, i in members if t == "seller"}
events = []
for a in world.actions:
    r = returns.get(a.return_id, {})
    s = r.get("seller_id")
    if a.kind == "escalation":
        events.append((a.at, s, r.get("category"), "k"))
    elif a.kind == "scan" and a.body.get("type") == "DELIVERED_TO_SELLER":
        events.append((a.at, s, r.get("category"), "n"))
events.sort(key=lambda e: e[0])
start = events[0][0]
cuts = [10, 20, 30, 40, 50, 60]
counts: dict[str, Counter[str]] = defaultdict(Counter)
category: dict[str, str] = {}
i = 0
for cut in cuts:
    while i < len(events) and (events[i][0] - start).days < cut:
        _, s, c, kind = events[i]
        counts[s][kind] += 1
        category[s] = c
        i += 1
    print(f"day {cut}")
    for v in variants:
        mode, _, level = ("kept" if v == "asis" else v).partition(":")
        claim_abuse.SPREAD_MODE = mode  # type: ignore[attr-defined]
        claim_abuse.SPREAD_LEVEL = None if level in ("", "median") else float(level)  # type: ignore[attr-defined]
        shown = []
        for s, cnt in counts.items():
            k, n = cnt["k"], cnt["n"]
            if k < 5:
                continue
            cats: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for o, oc in counts.items():
                if o != s:
                    cats[category[o]].append((oc["k"], oc["n"]))
            if category[s] not in cats:
                continue
            if v == "asis":
                bases, market = claim_abuse.pooled_concentration(cats, T, prior_rate=0.05)
                pop = claim_abuse.honest_population(
                    bases[category[s]], cats[category[s]], market.concentration, T, S, prior_rate=0.05
                )
            else:
                pop = claim_abuse.category_population(cats, category[s], T, S, prior_rate=0.05)
            bf = sequential_test(k, n, pop, S).log_bf
            if s in planted or bf >= 3:
                shown.append(f"{s}[{planted.get(s, 'honest')[:6]}] {k}/{n} vs {pop.rate:.3f}@{pop.concentration:.0f} bf {bf:.2f}")
        print(f"  {v}:", "; ".join(sorted(shown)))
