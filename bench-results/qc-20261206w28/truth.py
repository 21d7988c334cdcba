"""Per QC agent of a fraud world: passes, contradictions, contradicting buyers (world's truth)."""

import sys
from collections import defaultdict
from statistics import median

from disputedesk.fraudworld.world import build_world

for seed in map(int, sys.argv[1:]):
    w = build_world(seed)
    planted = w.truth["qc_contradiction"]["agent"]
    passes = defaultdict(int)
    contra = defaultdict(int)
    buyers = defaultdict(set)
    partner = {}
    hubs = defaultdict(set)
    planted_claims = defaultdict(int)
    for r in w.returns:
        qp = [s for s in r.scans if s.kind == "QC_PASSED"]
        if not qp or r.agent is None:
            continue
        a = r.agent
        partner[a] = r.partner
        hubs[a].add(qp[0].hub)
        passes[a] += 1
        if r.claim and r.claim.claim_type in ("WRONG_ITEM", "USED_ITEM"):
            contra[a] += 1
            buyers[a].add(r.buyer)
            if "qc_contradiction" in r.claim.patterns:
                planted_claims[a] += 1
    honest = [a for a in passes if a not in planted]
    hk = sum(len(buyers[a]) for a in honest)
    hn = sum(passes[a] for a in honest)
    rate = hk / hn
    print(
        f"seed {seed}: honest agents {len(honest)}, pooled contradicting-buyer rate {hk}/{hn} = {rate:.4f}, "
        f"median passes {median(passes[a] for a in honest)}"
    )
    for a in sorted(passes, key=lambda a: -len(buyers[a]) / passes[a]):
        tag = "PLANTED" if a in planted else ""
        print(
            f"  {a:18s} {partner[a]:10s} hubs={len(hubs[a])} passes={passes[a]:4d} contra={contra[a]:3d} "
            f"buyers={len(buyers[a]):3d} rate={len(buyers[a]) / passes[a]:.3f} x{len(buyers[a]) / passes[a] / rate:.2f} planted_claims={planted_claims[a]} {tag}"
        )
