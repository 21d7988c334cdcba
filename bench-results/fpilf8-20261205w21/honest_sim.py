"""Honest hub networks: how many honest hubs ever reach the sequential test's alert, with the
honest mean read before (every peer weighed at least once) and after (peers of five parcels or
more, shrunk to the pooled rate). Each network: H hubs with rates from a Beta (mean m,
concentration c), parcels a day from a heavy-tailed size, a share of hubs tiny (one or two
parcels in the window); the test is looked at every 3 days over 30 days, each hub weighed
against the others (`robust_baseline(leave_out, by_information)`), as scoring does.

Run: .venv/bin/python bench-results/fpilf8-20261205w21/honest_sim.py NETWORKS SEED
"""

from __future__ import annotations

import math
import random
import sys

from services.fraud.detectors import stats
from services.fraud.scoring.base import default_config

NEW_INFORMATION_RATE = stats.information_rate


def information_rate_before(
    peers: list[tuple[int, int, int]],
    concentration: float,
    t: stats.Thresholds,
    prior_rate: float,
    **_: int,
) -> float:
    """The honest mean as read before: every peer weighed at least once, shrunk to the prior."""
    rho = 1.0 / (max(concentration, 0.0) + 1.0)
    num = den = 0.0
    for k, n, m in peers:
        if n <= 0:
            continue
        w = m * n / (1.0 + (n - 1) * rho)
        num, den = num + w * k / n, den + w
    return (num + t.prior_strength * prior_rate) / (den + t.prior_strength)


S = default_config().sequential
T = stats.Thresholds()
ALERT = math.log(1 / S.alpha)


def network(rng: random.Random) -> tuple[list[float], list[float], list[int]]:
    hubs = rng.choice([6, 10, 20, 40])
    m = rng.choice([0.005, 0.01, 0.02, 0.04])
    c = rng.choice([100.0, 300.0, 1000.0])
    rates = [rng.betavariate(m * c, (1 - m) * c) for _ in range(hubs)]
    per_day = [rng.lognormvariate(math.log(15), 1.0) for _ in range(hubs)]
    # A share of tiny hubs: a parcel now and then.
    tiny = rng.choice([0, hubs // 4, hubs])
    sizes = [0.05] * tiny
    for i, s in enumerate(sizes):
        per_day[i] = s
    return rates, per_day, [tiny, hubs, int(c), int(m * 1000)]


def run(networks: int, seed: int) -> None:
    rng = random.Random(seed)
    alerted = {"before": 0, "after": 0}
    hubs_total = 0
    for _ in range(networks):
        rates, per_day, shape = network(rng)
        h = len(rates)
        # Tiny-peer crowd: many one-parcel hubs without an incident, in some networks.
        crowd = rng.choice([0, 0, 200, 3000])
        k = [0] * h
        n = [0] * h
        ever = {"before": [False] * h, "after": [False] * h}
        for day in range(1, 31):
            for i in range(h):
                parcels = int(per_day[i]) + (1 if rng.random() < per_day[i] % 1 else 0)
                n[i] += parcels
                k[i] += sum(1 for _ in range(parcels) if rng.random() < rates[i])
            if day % 3:
                continue
            for name, rate in (
                ("before", information_rate_before),
                ("after", NEW_INFORMATION_RATE),
            ):
                stats.information_rate = rate  # type: ignore[assignment]
                for i in range(h):
                    if ever[name][i] or k[i] < S.min_events:
                        continue
                    peers = [(k[j], n[j]) for j in range(h) if j != i] + [(0, 1)] * crowd
                    b = stats.robust_baseline(
                        peers, T, prior_rate=0.03, leave_out=True, by_information=True
                    )
                    test = stats.sequential_test(k[i], n[i], b.spread, S)
                    if test.log_bf >= ALERT:
                        ever[name][i] = True
        hubs_total += h
        for name in alerted:
            alerted[name] += sum(ever[name])
        if any(ever["before"]) or any(ever["after"]):
            print(
                f"  network tiny={shape[0]} hubs={shape[1]} conc={shape[2]} mean={shape[3]}/1000 "
                f"crowd={crowd}: before {sum(ever['before'])}, after {sum(ever['after'])}"
            )
    print(
        f"seed {seed}: {networks} networks, {hubs_total} honest hubs; ever alerted "
        f"before {alerted['before']} ({alerted['before'] / hubs_total:.2%}), "
        f"after {alerted['after']} ({alerted['after'] / hubs_total:.2%}); stated {S.alpha:.2%} ever"
    )


if __name__ == "__main__":
    run(int(sys.argv[1]), int(sys.argv[2]))
