"""The spec-only worlds' hubs and agents (as `fworld_spread.py` counts them), each weighed against
the others as scoring's robust baseline reads them, with the spread read from the whole scatter
(main) and from the scatter above the mean only (`upper_sim.upper`): every planted pilferer and
every honest entity at MEDIUM (log BF >= 3.0) either way.   python fworld_upper.py SEED..."""

from __future__ import annotations

import sys

import fworld_spread as fs
import upper_sim

from services.fraud.detectors import stats

for seed in map(int, sys.argv[1:]):
    w = fs.build_world(seed)
    planted = w.truth["pilferage"]
    counts = fs.counts_of(w)
    for kind in ("hub", "agent"):
        for e, own in sorted(counts[kind].items()):
            others = [c for o, c in counts[kind].items() if o != e]
            out = []
            for way, fn in upper_sim.WAYS.items():
                stats._scatter = fn
                b = stats.robust_baseline(others, fs.T, prior_rate=0.03, leave_out=True, by_information=True)
                out.append((b.spread.rate, b.spread.concentration, stats.sequential_log_bf(*own, b.spread, fs.SEQ)))
            stats._scatter = upper_sim.MAIN
            tag = "PLANTED" if e in planted[kind] else ""
            if tag or max(o[2] for o in out) >= 3.0:
                print(f"{seed} {kind:5s} {e:26s} {own[0]:3d}/{own[1]:5d} main {out[0][0]:.4f} c{out[0][1]:5.0f} BF {out[0][2]:6.2f} | "
                      f"upper {out[1][0]:.4f} c{out[1][1]:5.0f} BF {out[1][2]:6.2f} {tag}")
