"""Honest sellers (and a few planted abusers) simulated claim by claim against the honest
population the scoring forms (`claim_abuse.category_population`, or on older code
`pooled_concentration` + `honest_population`): how many honest sellers ever reach the claim-rate
alert, and how many abusers are found, over a grid of spreads, category sizes and volumes.

    python sim_spread.py OUT.json [LEVEL|median|asis] [REPS]     (from the root of the code under test)

Each world: four categories, honest rates drawn from a Beta of concentration A around the market's
mean r, either scaled by each category's factor (0.5-2x, log-uniform: the simulator's model) or
drawn with the same A around each category's own mean; sellers' sizes Pareto(1.2); 60 days of
deliveries (Poisson a day) and claims (binomial); 5 % of sellers abusers at 2.5-4x their
category's mean. The population is read every 3 days from every seller's counts (the seller's
own left out for any seller near the alert); each seller is tested at each day it has a new claim
(the guards: 5 claims, deliveries making one claim ordinary; alert at a Bayes factor of 100, the
seller_seq_alpha).
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
import zlib

sys.path.insert(0, os.getcwd())

from services.fraud.detectors import claim_abuse  # noqa: E402
from services.fraud.detectors.stats import PeerSpread, Sequential, Thresholds, sequential_test  # noqa: E402

T = Thresholds()
S = Sequential(alpha=1e-2)
ALERT = math.log(100.0)
DAYS, EVERY = 60, 3


def population(cats: dict[str, list[tuple[int, int]]], c: str) -> PeerSpread:
    if hasattr(claim_abuse, "category_population"):
        return claim_abuse.category_population(cats, c, T, S, prior_rate=0.05)
    bases, conc = claim_abuse.pooled_concentration(cats, T, prior_rate=0.05)
    return claim_abuse.honest_population(bases[c], cats[c], conc, T, S, prior_rate=0.05)


def world(rng: random.Random, A: float, sellers: int, volume: float, r: float, model: str) -> dict:
    names = ["c0", "c1", "c2", "c3"]
    factors = {c: math.exp(rng.uniform(math.log(0.5), math.log(2.0))) for c in names}
    people = []
    for i in range(sellers):
        c = rng.choice(names)
        if model == "scaled":
            rate = factors[c] * rng.betavariate(r * A, (1 - r) * A)
        else:
            m = min(r * factors[c], 0.5)
            rate = rng.betavariate(m * A, (1 - m) * A)
        abuser = rng.random() < 0.05
        if abuser:
            rate = min(rng.uniform(2.5, 4.0) * r * factors[c], 0.9)
        size = min(rng.paretovariate(1.2), 60.0)
        people.append({"c": c, "rate": min(rate, 0.95), "abuser": abuser, "size": size, "k": 0, "n": 0})
    mean_size = sum(p["size"] for p in people) / len(people)
    for p in people:
        p["lam"] = volume / DAYS * p["size"] / mean_size
    alerted: dict[int, int] = {}
    pops: dict[str, PeerSpread] = {}
    for day in range(DAYS):
        claimed = []
        for i, p in enumerate(people):
            d = _poisson(rng, p["lam"])
            if d:
                k = sum(rng.random() < p["rate"] for _ in range(d))
                p["n"] += d
                p["k"] += k
                if k:
                    claimed.append(i)
        if day % EVERY == 0 or not pops:
            cats: dict[str, list[tuple[int, int]]] = {}
            for p in people:
                cats.setdefault(p["c"], []).append((p["k"], p["n"]))
            pops = {c: population(cats, c) for c in cats if len(cats[c]) > 1}
        for i in claimed:
            p = people[i]
            if i in alerted or p["c"] not in pops or p["k"] < S.min_events:
                continue
            pop = pops[p["c"]]
            if p["n"] < 1.0 / max(pop.rate, 1e-6):
                continue
            if sequential_test(p["k"], p["n"], pop, S).log_bf < ALERT - 1.5:
                continue
            cats = {}
            for j, q in enumerate(people):
                if j != i:
                    cats.setdefault(q["c"], []).append((q["k"], q["n"]))
            if p["c"] not in cats:
                continue
            own = population(cats, p["c"])
            if p["n"] >= 1.0 / max(own.rate, 1e-6) and sequential_test(p["k"], p["n"], own, S).log_bf >= ALERT:
                alerted[i] = day
    honest = [i for i, p in enumerate(people) if not p["abuser"] and p["n"] > 0]
    abusers = [i for i, p in enumerate(people) if p["abuser"] and p["k"] >= 15]
    some = [i for i, p in enumerate(people) if p["abuser"] and p["k"] >= 8]
    return {
        "honest": len(honest),
        "honest_alerted": sum(i in alerted for i in honest),
        "abusers15": len(abusers),
        "abusers15_found": sum(i in alerted for i in abusers),
        "abuser_days": [alerted[i] for i in abusers if i in alerted],
        "abusers8": len(some),
        "abusers8_found": sum(i in alerted for i in some),
    }


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    x, p, s = 0, math.exp(-lam), math.exp(-lam)
    u = rng.random()
    while u > s:
        x += 1
        p *= lam / x
        s += p
    return x


def main() -> None:
    out = sys.argv[1]
    variant = sys.argv[2] if len(sys.argv) > 2 else "asis"
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    if variant != "asis":
        mode, _, level = variant.partition(":")
        claim_abuse.SPREAD_MODE = mode  # type: ignore[attr-defined]
        claim_abuse.SPREAD_LEVEL = None if level in ("", "median") else float(level)  # type: ignore[attr-defined]
    rows = []
    t0 = time.time()
    for model in ("scaled", "beta"):
        for A in (50.0, 150.0, 400.0, 1000.0):
            for sellers in (40, 150):
                for volume in (25.0, 100.0):
                    cell = {"model": model, "A": A, "sellers": sellers, "volume": volume, "worlds": []}
                    for rep in range(reps):
                        rng = random.Random(zlib.crc32(f"{model}{A}{sellers}{volume}{rep}".encode()))
                        r = rng.choice([0.04, 0.1])
                        cell["worlds"].append(world(rng, A, sellers, volume, r, model))
                    h = sum(w["honest"] for w in cell["worlds"])
                    ha = sum(w["honest_alerted"] for w in cell["worlds"])
                    a = sum(w["abusers15"] for w in cell["worlds"])
                    af = sum(w["abusers15_found"] for w in cell["worlds"])
                    a8 = sum(w["abusers8"] for w in cell["worlds"])
                    af8 = sum(w["abusers8_found"] for w in cell["worlds"])
                    print(model, A, sellers, volume, f"honest {ha}/{h}", f"abusers>=15 {af}/{a}", f">=8 {af8}/{a8}", f"{time.time() - t0:.0f}s", flush=True)
                    rows.append(cell)
    json.dump(rows, open(out, "w"), indent=1)


main()
