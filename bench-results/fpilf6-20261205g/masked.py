"""Prototype: a leaning peer judged without the peers leaning more than it (masking), patched
into `stats._telling_peer` for hub peers; honest-only false-alarm simulation and world ends."""
from __future__ import annotations

import math
import random
import sys

from services.fraud.detectors import stats

_orig_sequential_peers = stats.sequential_peers


def masked_sequential_peers(kept, t, *, prior_rate, rounds=3, leave_out=False, by_information=False, alike_level=None):
    s = stats.Sequential(max_concentration=t.max_concentration)
    peers = list(kept)
    most = t.max_concentration

    def estimate(ps):
        spread = stats.information_spread(ps, prior_rate=prior_rate, max_concentration=most)
        return stats.PeerSpread(stats.information_rate(ps, spread.concentration, t, prior_rate), spread.concentration)

    current = estimate(peers)
    medium = math.log(1 / s.alpha_medium)
    for _ in range(rounds):
        against = stats._HonestPopulation.of(current, s)
        bfs = [against.log_bf(k, n) for k, n, m in peers]
        trimmed = []
        for i, (k, n, m) in enumerate(peers):
            bf = bfs[i]
            telling = bf >= medium
            if not telling and bf > 0 and k > 0:
                others = [p for j, p in enumerate(peers) if j != i and bfs[j] < bf]
                telling = stats.sequential_log_bf(k, n, estimate(others), s) >= medium
            if k == 0 or not telling:
                trimmed.append((k, n, m))
        if len(trimmed) == len(peers):
            break
        peers = trimmed
        current = estimate(peers)
    return current


def places(rng, count, concentration, mean=0.02, lo=150, hi=600):
    out = []
    for _ in range(count):
        n, p = rng.randint(lo, hi), rng.betavariate(mean * concentration, (1 - mean) * concentration)
        out.append((sum(rng.random() < p for _ in range(n)), n, 1))
    return out


def simulate(fn, conc, pilferers, draws, seed=23):
    S = stats.Sequential(alpha=0.005)
    T = stats.Thresholds()
    rng = random.Random(seed)
    alarms = tested = found = bad_n = 0
    for _ in range(draws):
        hubs = places(rng, rng.randint(5, 10), conc)
        bad = []
        for _ in range(pilferers if pilferers >= 0 else rng.choice([0, 1, 2])):
            n, p = rng.randint(200, 500), 0.02 * rng.uniform(2.5, 4.0)
            bad.append((sum(rng.random() < p for _ in range(n)), n, 1))
        for i, hub in enumerate(hubs):
            spread = fn([*hubs[:i], *hubs[i + 1:], *bad], T, prior_rate=0.03, leave_out=True, by_information=True)
            tested += 1
            alarms += hub[0] >= 5 and stats.sequential_log_bf(hub[0], hub[1], spread, S) >= math.log(200)
        for i, b in enumerate(bad):
            spread = fn([*hubs, *bad[:i], *bad[i + 1:]], T, prior_rate=0.03, leave_out=True, by_information=True)
            bad_n += 1
            found += stats.sequential_log_bf(b[0], b[1], spread, S) >= math.log(200)
    return alarms, tested, found, bad_n


if __name__ == "__main__":
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for conc in (100.0, 400.0):
        for pil in (0, 1, 2, 3):
            a = simulate(_orig_sequential_peers, conc, pil, draws)
            b = simulate(masked_sequential_peers, conc, pil, draws)
            print(f"a+b {conc:.0f}, {pil} pilferers: main honest {a[0]}/{a[1]} found {a[2]}/{a[3]}; masked honest {b[0]}/{b[1]} found {b[2]}/{b[3]}", flush=True)
