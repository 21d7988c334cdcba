"""Hubs weighed by the part of the journey they held (`pilferage.exposure_scales`), simulated
against hubs counted raw. Networks of 5-10 hubs: one partner whose journeys name one hub, one
whose journeys pass an origin and a destination hub (a loss or transit damage declared at the
destination, a weight drop given by lot to either), and with --skewed one destination hub
receiving three times its share. Each honest hub careful or careless by a factor drawn from a
Beta of mean 1 (a + b given), a pilferer (--pilferer) at 3x on the parcels it receives.
Each hub weighed on its whole record against the others as scoring does (robust peers,
leave-out, by information; the alert at a Bayes factor of 200, five incidents at least).

    python exposure.py DRAWS [--pilferer] [--skewed]
"""
from __future__ import annotations

import math
import random
import sys

from services.fraud.detectors import pilferage, stats

P_DECLARED, P_DROP = 0.017, 0.014
LO, HI = (300, 1200) if "--busy" in sys.argv else (150, 600)


def network(rng: random.Random, conc: float, pilferer: bool, skewed: bool):
    one, two = rng.randint(2, 5), rng.randint(3, 5)
    hubs = [f"one-{i}" for i in range(one)] + [f"two-{i}" for i in range(two)]
    care = {h: rng.betavariate(conc / 2, conc / 2) * 2 for h in hubs}
    bad = rng.choice(hubs[one:]) if pilferer else None
    heavy = rng.choice(hubs[one:]) if skewed else None
    rows = {h: {"handled": 0, "incidents": 0, "handled_only": 0, "incidents_only": 0,
                "handled_last": 0, "incidents_last": 0} for h in hubs}

    def count(journey: tuple[str, ...], at: str | None) -> None:
        for h in journey:
            part = "only" if len(journey) == 1 else "last" if h == journey[-1] else None
            rows[h]["handled"] += 1
            if part:
                rows[h][f"handled_{part}"] += 1
            if h == at:
                rows[h]["incidents"] += 1
                if part:
                    rows[h][f"incidents_{part}"] += 1

    for h in hubs[:one]:
        for _ in range(rng.randint(LO, HI)):
            u = rng.random()
            count((h,), h if u < (P_DECLARED + P_DROP) * care[h] else None)
    two_hubs = hubs[one:]
    weights = [3.0 if h == heavy else 1.0 for h in two_hubs]
    for _ in range(sum(rng.randint(LO, HI) for _ in two_hubs) // 2):
        o = rng.choice(two_hubs)
        d = rng.choices([h for h in two_hubs if h != o], [w for h, w in zip(two_hubs, weights) if h != o])[0]
        f = 3.0 if d == bad else 1.0
        u = rng.random()
        p_decl = P_DECLARED * care[d] * f
        p_drop = P_DROP / 2 * (care[o] + care[d] * f)
        if u < p_decl:
            at = d
        elif u < p_decl + p_drop:
            at = rng.choice((o, d))  # the lot between the hubs since the intact weighing
        else:
            at = None
        count((o, d), at)
    return rows, bad


def alerted(rows, hub, weigh: bool, t, s) -> bool:
    scales = pilferage.exposure_scales(rows, t) if weigh else {}
    kept = [(r["incidents"], pilferage.weighed(r["handled"], r["incidents"], scales.get(h, 1.0)), 1)
            for h, r in rows.items() if h != hub]
    spread = stats.sequential_peers(kept, t, prior_rate=0.03, leave_out=True, by_information=True)
    r = rows[hub]
    k, n = r["incidents"], pilferage.weighed(r["handled"], r["incidents"], scales.get(hub, 1.0))
    return k >= 5 and stats.sequential_log_bf(k, n, spread, s) >= math.log(200)


def main() -> None:
    draws = int(sys.argv[1])
    pil, skewed = "--pilferer" in sys.argv, "--skewed" in sys.argv
    t, s = stats.Thresholds(), stats.Sequential(alpha=0.005)
    for conc in (100.0, 400.0, 1000.0):
        rng = random.Random(7)
        honest = found = planted = 0
        alarms = {False: 0, True: 0}
        hits = {False: 0, True: 0}
        for _ in range(draws):
            rows, bad = network(rng, conc, pil, skewed)
            for hub in rows:
                for weigh in (False, True):
                    a = alerted(rows, hub, weigh, t, s)
                    if hub == bad:
                        hits[weigh] += a
                    else:
                        alarms[weigh] += a
                honest += hub != bad
                planted += hub == bad
        print(f"a+b {conc:.0f} pilferer={pil} skewed={skewed}: honest hubs alerted raw {alarms[False]}/{honest} "
              f"({100 * alarms[False] / honest:.1f} %), weighed {alarms[True]}/{honest} ({100 * alarms[True] / honest:.1f} %); "
              f"pilferers found raw {hits[False]}/{planted}, weighed {hits[True]}/{planted}", flush=True)


if __name__ == "__main__":
    main()
