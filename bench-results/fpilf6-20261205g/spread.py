"""How alike the honest hubs of a drawn world are, against how alike fraud's test reads them.

The world's honest hubs' own incident rates are the generator's (`incident_rate` times each
hub's drawn factor): their Beta concentration a + b by moments is the truth. The test reads
the spread from every other hub's counted record (`stats.information_spread`, each hub left
out in turn), so planted hubs, honest hubs carrying a planted agent and desipost's lot are in
what it reads. For each planted hub: its record over the world, its log Bayes factor against
the spread read and against the true one, and the incidents it would need at its own rate.

    python spread.py SEED [SEED ...]
"""

from __future__ import annotations

import os
import statistics
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
import evidence  # noqa: E402

from disputedesk.simulate import generator as gen  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from services.fraud.detectors.stats import PeerSpread, Sequential, Thresholds, information_spread, sequential_log_bf, sequential_peers, robust_baseline  # noqa: E402

S = Sequential(alpha=5e-3)


def needed(rate: float, spread: PeerSpread) -> tuple[int, int] | None:
    """The least (incidents, parcels) at which a record running at `rate` reaches 1/alpha."""
    for n in range(20, 4000, 5):
        k = round(rate * n)
        if k >= 5 and sequential_log_bf(k, n, spread, S) >= -__import__("math").log(S.alpha):
            return k, n
    return None


def main() -> None:
    ranges = RANGE_SETS[os.environ["PILF_RANGES"]][1] if os.environ.get("PILF_RANGES") else None
    for seed in map(int, sys.argv[1:]):
        evidence.PLANTED.clear()
        g = gen._Generator(draw_market(seed, ranges), seed, f"s{seed}")
        world = g.run()
        journeys = evidence.read(world)
        handled, incidents = Counter(), Counter()
        for fmt, c, agent, inc, _, _ in journeys.values():
            for h in c.handled:
                handled[h] += 1
            if c.incident_hub:
                incidents[c.incident_hub] += 1
        agent_k, agent_n = Counter(), Counter()
        planted_agents = {e for t, e in world.truth.entities["pilferage"] if t == "agent"}
        for fmt, c, agent, inc, _, _ in journeys.values():
            if agent in planted_agents:
                for hh in c.handled:
                    agent_n[hh] += 1
                if c.incident_hub:
                    agent_k[c.incident_hub] += 1
        planted = {e for t, e in world.truth.entities["pilferage"] if t == "hub"}
        agents_hubs = {g._hub_of(("agent", e)) for t, e in world.truth.entities["pilferage"] if t == "agent"}
        base = g.m.honest.incident_rate
        honest = [base * g.hub_factor[h] for h in g.hubs if h not in planted]
        m = statistics.fmean(honest)
        v = statistics.pvariance(honest)
        true_ab = m * (1 - m) / v - 1 if v > 0 else float("inf")
        print(f"== world {seed}: honest hubs' own rates mean {m:.2%}, a+b {true_ab:.0f} "
              f"({len(honest)} honest hubs; factors {min(g.hub_factor.values()):.2f}-{max(g.hub_factor.values()):.2f})")
        for h in sorted(g.hubs):
            tag = "PLANTED" if h in planted else "agent planted" if h in agents_hubs else ""
            print(f"   {h} {g.partner_of_hub[h].format:10s} factor {g.hub_factor[h]:.2f} "
                  f"counted {incidents[h]}/{handled[h]} = {incidents[h] / max(handled[h], 1):.2%} {tag}")
        for h in sorted(planted):
            peers = [(incidents[o], handled[o], 1) for o in g.hubs if o != h]
            read = robust_baseline([(k_, n_) for k_, n_, _ in peers], Thresholds(), prior_rate=0.03, leave_out=True, by_information=True).spread
            # The planted agents' own parcels out of their hubs (as if they explained them).
            clean = [(incidents[o] - agent_k[o], handled[o] - agent_n[o], 1) for o in g.hubs if o != h]
            honest_only = [(incidents[o] - agent_k[o], handled[o] - agent_n[o], 1) for o in g.hubs if o not in planted]
            hon = sequential_peers(honest_only, Thresholds(), prior_rate=0.03, leave_out=True, by_information=True)
            oracle = sequential_peers(clean, Thresholds(), prior_rate=0.03, leave_out=True, by_information=True)
            true = PeerSpread(m, min(true_ab, 1000.0))
            k, n = incidents[h], handled[h]
            print(f"  {h}: {k}/{n}; honest hubs alone as counted {hon.rate:.2%} a+b {hon.concentration:.0f}: log BF {sequential_log_bf(k, n, hon, S):.2f}, needs {needed(k / n, hon)}; without planted agents' parcels {oracle.rate:.2%} a+b {oracle.concentration:.0f}: log BF {sequential_log_bf(k, n, oracle, S):.2f}; read rate {read.rate:.2%} a+b {read.concentration:.0f}: "
                  f"log BF {sequential_log_bf(k, n, read, S):.2f}, needs {needed(k / n, read)}; "
                  f"true {m:.2%} a+b {true_ab:.0f}: log BF {sequential_log_bf(k, n, true, S):.2f}, "
                  f"needs {needed(k / n, true)}")


if __name__ == "__main__":
    main()
