"""A market of SHOPS shops over 8 categories (as fclaim8's honest_sim_product draws them: 7
categories claiming 2-4 %, one 10-15 %, each shop in 1-7 categories with its own factor), 2 %
of the shops abusing at 4x: `category_seller` window totals as `features.entity_totals` reads
them."""

import math
import random


def market(shops: int, seed: int = 1) -> dict[str, dict[str, int]]:
    rng = random.Random(seed)
    rates = [rng.uniform(0.02, 0.04) for _ in range(7)] + [rng.uniform(0.10, 0.15)]
    names = [f"c{i}" for i in range(8)]
    conc = 300.0
    everyone: dict[str, dict[str, int]] = {}
    for i in range(shops):
        cats = rng.sample(names, rng.randint(1, 7))
        n = int(math.exp(rng.uniform(math.log(20), math.log(300))))
        shape = conc * 0.04
        factor = 4.0 if rng.random() < 0.02 else rng.gammavariate(shape, 1 / shape)
        for _ in range(n):
            c = rng.choice(cats)
            cell = everyone.setdefault(f"{c}|s{i}", {"claims": 0, "delivered": 0})
            cell["delivered"] += 1
            cell["claims"] += rng.random() < min(0.9, rates[names.index(c)] * factor)
    return everyone
