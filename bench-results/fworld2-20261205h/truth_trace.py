"""Per planted QC agent and wrong/used buyer, what the world holds (offline, from build_world)."""
import sys
from collections import Counter, defaultdict
from disputedesk.fraudworld.world import build_world

for seed in map(int, sys.argv[1:]):
    w = build_world(seed)
    qc_agents = sorted(w.truth["qc_contradiction"]["agent"])
    wu = sorted(w.truth["wrong_used"]["buyer"])
    print(f"== seed {seed}")
    # agent stats: QC passes named, contradictions (QC_PASSED then WRONG/USED/MISSING claim)
    passes = Counter(); contra = defaultdict(set); contra_n = Counter(); qcf = Counter()
    partner_of = {}
    for r in w.returns:
        if r.agent is None:
            continue
        partner_of[r.agent] = r.partner
        kinds = [s.kind for s in r.scans]
        if "QC_PASSED" in kinds:
            passes[r.agent] += 1
            if r.claim and r.claim.claim_type in ("WRONG_ITEM", "USED_ITEM", "MISSING_ITEM"):
                contra[r.agent].add(r.buyer); contra_n[r.agent] += 1
        if "QC_FAILED" in kinds:
            qcf[r.agent] += 1
    honest = [a for a in passes if a not in qc_agents]
    hp = sum(passes[a] for a in honest); hc = sum(contra_n[a] for a in honest)
    print(f"honest agents {len(honest)}: passes {hp}, contradictions {hc} ({hc/hp:.4f}), buyers {sum(len(contra[a]) for a in honest)}")
    for a in honest:
        if len(contra[a]) >= 2:
            print(f"   honest {a} ({partner_of[a]}) passes {passes[a]} contra buyers {len(contra[a])}")
    for a in qc_agents:
        planted = [r for r in w.returns if r.agent == a and "qc_contradiction" in r.patterns and r.claim]
        print(f"QC agent {a} ({partner_of.get(a)}): passes {passes[a]}, contradictions {contra_n[a]} by {len(contra[a])} buyers, planted claims {len(planted)}, QC_FAILED {qcf[a]}")
    for b in wu:
        rs = [r for r in w.returns if r.buyer == b]
        c = Counter()
        for r in rs:
            kinds = [s.kind for s in r.scans]
            c["returns"] += 1
            c["sellers"] += 0
            if "QC_FAILED" in kinds: c["qc_failed"] += 1
            if "QC_PASSED" in kinds: c["qc_passed"] += 1
            if r.claim:
                c["claims"] += 1
                c["claim_" + r.claim.claim_type] += 1
                if "wrong_used" in r.claim.patterns or "wrong_used" in r.patterns: c["planted_claims"] += 1
        partners = Counter(r.partner for r in rs)
        print(f"WU buyer {b}: {dict(c)} sellers {len({r.seller for r in rs})} partners {dict(partners)}")
