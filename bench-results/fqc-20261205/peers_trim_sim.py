"""Honest and planted agents (12 a world, Beta(3 %, a+b)) against the robust baseline, peers trimmed at a Bayes factor of 20 or 5: share ever at the alert (end of record). PYTHONPATH=. .venv/bin/python bench-results/fqc-20261205/peers_trim_sim.py SEED WORLDS."""
import functools, math, sys, numpy as np
from services.fraud.detectors import stats
from services.fraud.detectors.stats import robust_baseline, sequential_log_bf
from services.fraud.scoring.base import default_config
ORIG = stats.Sequential
cfg = default_config(); t, s = cfg.thresholds, cfg.sequential
rng = np.random.default_rng(int(sys.argv[1]))
worlds = int(sys.argv[2])
res = {}
for planted_n in (0, 3):
  for c in (300.0, 1000.0):
    cnt = {v: [0, 0, 0, 0] for v in (0.05, 0.2)}
    for w in range(worlds):
        M = 12; p0 = 0.03
        rates = rng.beta(p0 * c, (1 - p0) * c, M)
        rates[:planted_n] *= 3.0
        n = rng.integers(60, 250, M); k = rng.binomial(n, rates)
        for v in cnt:
            stats.Sequential = functools.partial(ORIG, alpha_medium=v)
            for i in range(M):
                peers = [(int(k[j]), int(n[j])) for j in range(M) if j != i]
                sp = robust_baseline(peers, t, prior_rate=0.03, leave_out=True).spread
                stats.Sequential = ORIG
                lb = sequential_log_bf(int(k[i]), int(n[i]), sp, s) if k[i] >= 5 else -9
                stats.Sequential = functools.partial(ORIG, alpha_medium=v)
                if i < planted_n: cnt[v][2] += lb >= math.log(200); cnt[v][3] += 1
                else: cnt[v][0] += lb >= math.log(200); cnt[v][1] += 1
        stats.Sequential = ORIG
    for v, (a, b, pa, pb) in cnt.items():
        print(f"planted={planted_n} c={c:g} trim_bf={1/v:g} honest {a}/{b}={a/b:.4f} planted {pa}/{max(pb,1)}", flush=True)
