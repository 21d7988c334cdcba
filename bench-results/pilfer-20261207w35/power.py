"""How many parcels a pilferer at a given multiple of the honest rate needs before fraud's
sequential test (its Bayes factor against the honest population, the mixture of 2.5x/4x/6x)
reaches the alert (1/seq_alpha = 200), by simulation: each trial draws the entity's parcels one
by one at ratio x the honest rate and asks whether the factor ever reaches the alert by parcel n
(the window test alone; the onset test and the rate test are not simulated).
    python power.py RATE CONCENTRATION [RATIO ...]"""

from __future__ import annotations

import math
import random
import sys

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_log_bf

rate, conc = float(sys.argv[1]), float(sys.argv[2])
ratios = [float(x) for x in sys.argv[3:]] or [1.5, 2.0, 2.5, 3.0]
s = Sequential(alpha=5e-3)
spread = PeerSpread(rate, conc)
marks = (50, 75, 100, 150, 200, 250, 300, 400)
for ratio in ratios:
    rng = random.Random(7)
    hit_by = {m: 0 for m in marks}
    trials = 1000
    for _ in range(trials):
        k, first = 0, None
        for n in range(1, marks[-1] + 1):
            k += rng.random() < ratio * rate
            if first is None and k >= 5 and sequential_log_bf(k, n, spread, s) >= math.log(200):
                first = n
        for m in marks:
            hit_by[m] += first is not None and first <= m
    print(
        f"rate {rate} conc {conc:g} ratio {ratio}: P(alerted by n parcels) "
        + ", ".join(f"{m}: {hit_by[m] / trials:.2f}" for m in marks)
    )
