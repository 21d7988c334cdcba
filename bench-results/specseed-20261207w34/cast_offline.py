"""Offline, the world alone: what each planted seller, QC agent, pilferer and ring shows by the
world's end — claims in delivered returns against the market's ordinary rate (sellers), passes
contradicted by a wrong/used claim (QC agents), harmed parcels in held ones (pilferers).
    python cast_offline.py SEED END_ISO"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
w = build_world(seed, end=end)


def delivered(r) -> bool:
    return any(s.kind == "DELIVERED_TO_SELLER" for s in r.scans)


def harmed(r) -> bool:
    kinds = {s.kind for s in r.scans}
    if kinds & {"LOST", "DAMAGED_IN_TRANSIT"}:
        return True
    p = [s.weight_g for s in r.scans if s.kind == "PICKED_UP" and s.weight_g]
    d = [s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER" and s.weight_g]
    return bool(p and d and d[0] < 0.85 * p[0])


fe = w.fraud_entities()
by_seller: dict[str, list] = defaultdict(list)
for r in w.returns:
    by_seller[r.seller].append(r)
honest = [s for s in by_seller if s not in fe["seller"] and s not in w.lookalikes["seller"]]
hd = sum(sum(delivered(r) for r in by_seller[s]) for s in honest)
hc = sum(sum(r.claim is not None and not harmed(r) for r in by_seller[s]) for s in honest)
print(f"{seed} market: honest sellers' claims on unharmed parcels {hc} in {hd} deliveries ({hc / hd:.4f})")
for p in ("claim_abuse", "evidence_reuse", "collusion"):
    for s in sorted(w.truth[p]["seller"] | w.unshown.get(p, {}).get("seller", set())):
        rs = by_seller[s]
        d = sum(delivered(r) for r in rs)
        c = sum(r.claim is not None for r in rs)
        cu = sum(r.claim is not None and not harmed(r) for r in rs)
        pl = sum(r.claim is not None and p in r.claim.patterns for r in rs)
        kinds = Counter(r.claim.claim_type for r in rs if r.claim is not None)
        print(f"{seed} {p} {s}: {c} claims ({cu} unharmed, {pl} planted) in {d} delivered of {len(rs)}; "
              f"ratio {cu / max(1, d) / (hc / hd):.2f}x; {dict(kinds)}; first {w.first_planted.get(('seller', s))}")
# QC agents: passes and the passes a wrong/used claim contradicts
passes: Counter = Counter()
contra: dict[str, set] = defaultdict(set)
for r in w.returns:
    for s in r.scans:
        if s.kind == "QC_PASSED" and s.agent:
            passes[s.agent] += 1
            if r.claim is not None and r.claim.claim_type in ("WRONG_ITEM", "USED_ITEM") and not harmed(r):
                contra[s.agent].add(r.buyer)
hon = [a for a in passes if a not in fe["agent"]]
rate = sum(len(contra[a]) for a in hon) / max(1, sum(passes[a] for a in hon))
print(f"{seed} QC honest agents: contradicting buyers per pass {rate:.4f}")
for a in sorted(w.truth["qc_contradiction"]["agent"]):
    print(f"{seed} qc agent {a}: {len(contra[a])} contradicting buyers in {passes[a]} passes "
          f"({len(contra[a]) / max(1, passes[a]) / rate:.2f}x); first {w.first_planted.get(('agent', a))}")
# pilferers: harmed parcels among those they held (hub: received; agent: picked up)
held: Counter = Counter()
hurt: Counter = Counter()
for r in w.returns:
    if not delivered(r) and not any(s.kind == "LOST" for s in r.scans):
        continue
    for key in (("hub", r.dest_hub), ("agent", r.agent)):
        if key[1]:
            held[key] += 1
            hurt[key] += harmed(r)
for t in ("hub", "agent"):
    hon = [k for k in held if k[0] == t and k[1] not in fe[t]]
    hr = sum(hurt[k] for k in hon) / max(1, sum(held[k] for k in hon))
    for e in sorted(w.truth["pilferage"][t]):
        k = (t, e)
        print(f"{seed} pilferage {t} {e}: {hurt[k]} harmed in {held[k]} held ({hurt[k] / max(1, held[k]) / hr:.2f}x honest {hr:.4f}); first {w.first_planted.get(k)}")
print(f"{seed} lookalikes: {w.lookalikes}")
