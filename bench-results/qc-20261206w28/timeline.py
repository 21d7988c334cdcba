"""A planted QC agent's contradictions in world time, from the world's truth: at each, its
passes so far, contradicting buyers so far, fraud's sequential test at a given honest rate and
a + b, and an oracle (a point alternative at the agent's realised ratio against a binomial at
the honest agents' own per-buyer rate)."""

import math
import sys

from disputedesk.fraudworld.world import build_world
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

seed, agent, rate, ab = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
w = build_world(seed)
s = Sequential(alpha=1 / 200, alpha_medium=1 / 20)
passes, contra = [], []
honest_k = honest_n = 0
planted = w.truth["qc_contradiction"]["agent"]
for r in w.returns:
    qp = [x for x in r.scans if x.kind == "QC_PASSED"]
    if not qp or r.agent is None:
        continue
    c = r.claim if r.claim and r.claim.claim_type in ("WRONG_ITEM", "USED_ITEM") else None
    if r.agent == agent:
        passes.append(qp[0].at)
        if c:
            contra.append((c.filed_at, r.buyer, r.return_id, "qc_contradiction" in c.patterns))
first = w.first_planted.get(("agent", agent))
k_all, n_all = len({b for _, b, _, _ in contra}), len(passes)
print(
    f"{agent}: {n_all} passes, {k_all} contradicting buyers; world {w.start:%m-%d} to {w.end:%m-%d}; first planted {first}"
)
ratio_real = None
seen = set()
for at, buyer, rid, pl in sorted(contra):
    seen.add(buyer)
    n = sum(1 for p in passes if p <= at)
    k = len(seen)
    t = sequential_test(k, n, PeerSpread(rate, ab), s)
    p1 = k_all / n_all
    oracle = k * math.log(p1 / rate) + (n - k) * math.log((1 - p1) / (1 - rate))
    day = (at - first).total_seconds() / 86400 if first else float("nan")
    print(
        f"  {at:%m-%d %H:%M} +{day:5.1f}d {rid} planted={int(pl)} {k:2d}/{n:3d} fraud-test logBF {t.log_bf:5.2f}  oracle {oracle:5.2f}  (alert 5.30)"
    )
