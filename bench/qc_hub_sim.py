"""How often a QC hub's test alerts, on honest and planted hubs drawn from a known honest
population, with and without named agents.

A hub whose partner names its agents is alerted only when its sequential test reaches the
alert (1/seq_alpha) and, without its worst agent, still reaches MEDIUM (1/seq_alpha_medium,
`sequential.held_by_one_part`). A hub whose agents are not named (desipost) cannot be held to
the second condition; this measures what alert level for it holds honest hubs to at most the
named hubs' rate, and what it costs on planted hubs.

Each hub: its honest rate drawn from the peers' Beta (rate `p0`, concentration a + b `c`), two
agents sharing its passes at random, each at the hub's rate (`alike`) or at a rate drawn around
it from the same Beta (`differ`: agents of one hub unlike each other, a harder case for the
hub's test than the one Ville's bound is stated for). Planted: every agent at `ratio` times
(a hub's own practice), or one agent at `ratio` times (an agent's practice, which a named hub
leaves to that agent's own test). The test is fraud's (`stats.sequential_log_bf`) against the
true honest population, looked at on every contradiction from `min_events` on.

    python -m bench.qc_hub_sim [hubs per case] [seed]
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

import numpy as np

from services.fraud.detectors.stats import PeerSpread, sequential_log_bf
from services.fraud.scoring.base import default_config

AGENTS = 2
# The unnamed hub's alert levels compared (Bayes factors): the shared 1/seq_alpha and stricter.
LEVELS = (200.0, 500.0, 1000.0, 2000.0)


def hub_run(
    rng: np.random.Generator,
    passes: int,
    spread: PeerSpread,
    agents_differ: bool,
    ratios: Sequence[float],
) -> tuple[bool, float]:
    """One hub over `passes` passes: whether the named hub's alert is ever reached (the test at
    1/alpha and, without its worst agent, at 1/alpha_medium), and the best log Bayes factor of
    the hub's own test (what an unnamed hub is judged on)."""
    s = default_config().sequential
    c = spread.concentration
    hub_rate = rng.beta(spread.rate * c, (1 - spread.rate) * c)
    rates = [
        min(
            ratio * (rng.beta(hub_rate * c, (1 - hub_rate) * c) if agents_differ else hub_rate),
            0.95,
        )
        for ratio in ratios
    ]
    who = rng.integers(0, AGENTS, passes)
    hit = rng.random(passes) < np.asarray(rates)[who]
    alert, medium = math.log(1 / s.alpha), math.log(1 / s.alpha_medium)
    per_agent = [[0, 0] for _ in range(AGENTS)]
    k = named = 0
    best = -math.inf
    for i in range(passes):
        a = int(who[i])
        per_agent[a][1] += 1
        if not hit[i]:
            continue
        per_agent[a][0] += 1
        k += 1
        if k < s.min_events:
            continue
        log_bf = sequential_log_bf(k, i + 1, spread, s)
        best = max(best, log_bf)
        if not named and log_bf >= alert:
            without_worst = min(
                sequential_log_bf(k - ka, i + 1 - na, spread, s) for ka, na in per_agent
            )
            named = without_worst >= medium
    return bool(named), best


def main(argv: Sequence[str]) -> None:
    hubs = int(argv[0]) if argv else 5000
    rng = np.random.default_rng(int(argv[1]) if len(argv) > 1 else 20261205)
    cases = [
        ("honest", (1.0, 1.0)),
        ("hub 2.5x", (2.5, 2.5)),
        ("hub 4x", (4.0, 4.0)),
        ("one agent 4x", (4.0, 1.0)),
    ]
    print(
        "case p0 a+b passes agents hubs named(200&20)",
        *(f"unnamed({level:g})" for level in LEVELS),
    )
    for p0, c in ((0.02, 300.0), (0.02, 1000.0), (0.03, 300.0)):
        spread = PeerSpread(p0, c)
        for passes in (120, 250):
            for differ in (False, True):
                for name, ratios in cases:
                    named, best = 0, []
                    for _ in range(hubs):
                        n_alert, b = hub_run(rng, passes, spread, differ, ratios)
                        named += n_alert
                        best.append(b)
                    print(
                        name,
                        p0,
                        int(c),
                        passes,
                        "differ" if differ else "alike",
                        hubs,
                        f"{named / hubs:.4f}",
                        *(f"{sum(x >= math.log(lv) for x in best) / hubs:.4f}" for lv in LEVELS),
                        flush=True,
                    )


if __name__ == "__main__":
    main(sys.argv[1:])
