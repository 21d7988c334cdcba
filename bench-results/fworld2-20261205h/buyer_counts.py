"""Per buyer: named claims (WRONG/USED/MISSING on a parcel unharmed in transit), QC failures
at pickup, delivered returns; planted wrong/used buyers and the honest buyers at the top."""
import sys
from collections import Counter, defaultdict
from disputedesk.fraudworld.world import build_world

for seed in map(int, sys.argv[1:]):
    w = build_world(seed)
    wu = w.truth["wrong_used"]["buyer"]
    planted_any = set().union(*[ids for by in w.truth.values() for ids in by.values()])
    named = Counter(); qcf = Counter(); deliv = Counter(); sellers = defaultdict(set); sellers_n = defaultdict(set)
    for r in w.returns:
        kinds = [s.kind for s in r.scans]
        if "QC_FAILED" in kinds:
            qcf[r.buyer] += 1; sellers[r.buyer].add(r.seller)
        if "DELIVERED_TO_SELLER" in kinds:
            deliv[r.buyer] += 1
            drop = r.scans[-1].weight_g is not None and any(s.kind == "PICKED_UP" for s in r.scans) and r.scans[-1].weight_g < 0.9 * next(s.weight_g for s in r.scans if s.kind == "PICKED_UP")
            if r.claim and r.claim.claim_type in ("WRONG_ITEM", "USED_ITEM", "MISSING_ITEM") and not drop and "DAMAGED_IN_TRANSIT" not in kinds:
                named[r.buyer] += 1; sellers[r.buyer].add(r.seller); sellers_n[r.buyer].add(r.seller)
    print(f"== seed {seed}: QC failures {sum(qcf.values())}, of planted WU buyers {sum(qcf[b] for b in wu)}; honest buyers with a QC failure {sum(1 for b in qcf if b not in wu)}")
    for b in sorted(wu):
        print(f"  WU {b}: named {named[b]} ({len(sellers_n[b])} sellers), +qc_failed {qcf[b]} -> {named[b]+qcf[b]} of {deliv[b]+qcf[b]} ({len(sellers[b])} sellers)")
    honest = [b for b in set(named) | set(qcf) if b not in planted_any]
    top = sorted(honest, key=lambda b: -(named[b] + qcf[b]))[:6]
    print("  honest top:", [(b, named[b], qcf[b], deliv[b]) for b in top])
    hist = Counter(named[b] + qcf[b] for b in honest)
    hist_before = Counter(named[b] for b in honest)
    print("  honest buyers by events, before:", sorted(hist_before.items()), " with QC failures:", sorted(hist.items()))
