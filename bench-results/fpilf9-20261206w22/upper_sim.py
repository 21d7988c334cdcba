"""Honest hub networks (after ../fpilf8-20261205w21/honest_sim.py, same generator): how many
honest hubs ever reach the sequential test's alert with the spread read from the whole scatter
(main) and from the scatter above the mean only, doubled (`upper`: a peer running below the
mean does not widen the population a high one is judged by). Same draws, both ways.
Run: .venv/bin/python upper_sim.py NETWORKS SEED [pilferers]"""

from __future__ import annotations

import math
import random
import sys

from services.fraud.detectors import stats
from services.fraud.scoring.base import default_config

S = default_config().sequential
T = stats.Thresholds()
ALERT = math.log(1 / S.alpha)
MAIN = stats._scatter


def upper(peers, rho):  # type: ignore[no-untyped-def]
    weights = peers.weighed(rho)
    mean = stats._weighted_mean(weights, 0.0)
    return 2 * sum(w * (y - mean) ** 2 for w, y in weights if y > mean) / (mean * (1 - mean))


WAYS = {"main": MAIN, "upper": upper}


def network(rng):  # type: ignore[no-untyped-def]
    hubs = rng.choice([6, 10, 20, 40])
    m = rng.choice([0.005, 0.01, 0.02, 0.04])
    c = rng.choice([100.0, 300.0, 1000.0])
    rates = [rng.betavariate(m * c, (1 - m) * c) for _ in range(hubs)]
    per_day = [rng.lognormvariate(math.log(15), 1.0) for _ in range(hubs)]
    tiny = rng.choice([0, hubs // 4, hubs])
    for i in range(tiny):
        per_day[i] = 0.05
    return rates, per_day, (tiny, hubs, int(c), int(m * 1000))


def run(networks: int, seed: int, pilferers: int) -> None:
    rng = random.Random(seed)
    alerted = dict.fromkeys(WAYS, 0)
    found = dict.fromkeys(WAYS, 0)
    by_conc: dict[tuple[str, int], int] = {}
    hubs_total = planted_total = 0
    for _ in range(networks):
        rates, per_day, shape = network(rng)
        h = len(rates)
        bad = set(rng.sample(range(shape[0], h), min(pilferers, h - shape[0])))
        for i in bad:
            rates[i] *= rng.uniform(2.5, 3.5)
        crowd = rng.choice([0, 0, 200, 3000])
        k, n = [0] * h, [0] * h
        ever = {w: [False] * h for w in WAYS}
        for day in range(1, 31):
            for i in range(h):
                parcels = int(per_day[i]) + (1 if rng.random() < per_day[i] % 1 else 0)
                n[i] += parcels
                k[i] += sum(1 for _ in range(parcels) if rng.random() < rates[i])
            if day % 3:
                continue
            for way, fn in WAYS.items():
                stats._scatter = fn  # type: ignore[assignment]
                for i in range(h):
                    if ever[way][i] or k[i] < S.min_events:
                        continue
                    peers = [(k[j], n[j]) for j in range(h) if j != i] + [(0, 1)] * crowd
                    b = stats.robust_baseline(peers, T, prior_rate=0.03, leave_out=True, by_information=True)
                    if stats.sequential_test(k[i], n[i], b.spread, S).log_bf >= ALERT:
                        ever[way][i] = True
            stats._scatter = MAIN
        honest = [i for i in range(h) if i not in bad]
        hubs_total += len(honest)
        planted_total += sum(1 for i in bad if k[i] >= 15)
        for way in WAYS:
            a = sum(ever[way][i] for i in honest)
            alerted[way] += a
            by_conc[(way, shape[2])] = by_conc.get((way, shape[2]), 0) + a
            found[way] += sum(ever[way][i] for i in bad if k[i] >= 15)
    print(f"seed {seed}, {networks} networks, {pilferers} pilferer(s) a network at 2.5-3.5x: honest hubs {hubs_total}")
    for way in WAYS:
        print(f"  {way:6s} honest ever alerted {alerted[way]} ({alerted[way] / hubs_total:.2%}) "
              f"[conc 100: {by_conc.get((way, 100), 0)}, 300: {by_conc.get((way, 300), 0)}, 1000: {by_conc.get((way, 1000), 0)}]; "
              f"pilferers with >= 15 incidents found {found[way]}/{planted_total}")


if __name__ == "__main__":
    run(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
