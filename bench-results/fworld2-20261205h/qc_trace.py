"""Per planted QC agent: QC passes naming it, WRONG_ITEM/USED_ITEM claims on them (fraud's
contradictions) and the buyers behind them, against the honest agents' rate; offline from the world."""
import sys
from collections import Counter, defaultdict
from disputedesk.fraudworld.world import build_world

for seed in map(int, sys.argv[1:]):
    w = build_world(seed)
    qc_agents = sorted(w.truth["qc_contradiction"]["agent"])
    wu = w.truth["wrong_used"]["buyer"]
    passes = Counter(); buyers = defaultdict(set); planted = Counter(); wu_contra = Counter()
    for r in w.returns:
        if r.agent is None or not any(s.kind == "QC_PASSED" for s in r.scans):
            continue
        passes[r.agent] += 1
        if r.claim and r.claim.claim_type in ("WRONG_ITEM", "USED_ITEM"):
            buyers[r.agent].add(r.buyer)
            if r.buyer in wu: wu_contra[r.agent] += 1
            if "qc_contradiction" in r.claim.patterns: planted[r.agent] += 1
    honest = [a for a in passes if a not in qc_agents]
    hp = sum(passes[a] for a in honest); hb = sum(len(buyers[a]) for a in honest)
    rate = hb / hp
    best = max(honest, key=lambda a: len(buyers[a]) / passes[a])
    print(f"seed {seed}: honest agents {len(honest)}, {hb} contradicting buyers in {hp} passes ({rate:.4f}); "
          f"top honest {best} {len(buyers[best])}/{passes[best]}")
    for a in qc_agents:
        k, n = len(buyers[a]), passes[a]
        print(f"  QC {a}: {k} contradicting buyers in {n} passes ({k/n:.4f}, {k/n/rate:.1f}x honest), "
              f"planted claims {planted[a]}, of wrong/used buyers {wu_contra[a]}")
