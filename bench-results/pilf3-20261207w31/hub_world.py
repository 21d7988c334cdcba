"""The world's side of a planted hub (seed, hub): its parcels and incidents by role (origin /
destination), by week, by pickup agent, against the other hubs of its partner and the network.
    python hub_world.py SEED HUB_SUFFIX [END_ISO]"""
import sys
from collections import Counter, defaultdict
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, suffix = int(sys.argv[1]), sys.argv[2]
end = datetime.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else None
w = build_world(seed, end=end) if end else build_world(seed)
hub = next(h for h in w.entities["hub"] if h.endswith(suffix))
print("planted:", {p: {t: sorted(i) for t, i in by.items() if i} for p, by in w.truth.items() if p == "pilferage"})
print("first planted:", {k: v.isoformat() for k, v in w.first_planted.items() if k[1] == hub})


def incident(r):
    kinds = {s.kind for s in r.scans}
    if "LOST" in kinds:
        return "lost"
    if "DAMAGED_IN_TRANSIT" in kinds:
        return "damaged"
    d = [s for s in r.scans if s.kind == "DELIVERED_TO_SELLER"]
    p = next((s.weight_g for s in r.scans if s.weight_g and s.kind != "DELIVERED_TO_SELLER"), None)
    if d and p and d[0].weight_g is not None and d[0].weight_g < p - max(50, p * 0.10):
        return "drop"
    return None


stats = defaultdict(Counter)
for r in w.returns:
    if not r.scans:
        continue
    inc = incident(r)
    for role, h in (("origin", r.origin_hub), ("dest", r.dest_hub)):
        stats[h][f"{role}_n"] += 1
        if inc:
            stats[h][f"{role}_k"] += 1
    stats[r.dest_hub]["partner:" + r.partner] += 1
print(f"{'hub':22} {'partner':10} dest k/n      origin k/n    ")
for h in sorted(stats, key=lambda h: (next(p for p in ('swiftship','rapidroute','desipost') if stats[h]['partner:'+p]), h)):
    s = stats[h]
    part = next(p for p in ("swiftship", "rapidroute", "desipost") if s["partner:" + p])
    mark = " <- planted" if h in w.truth["pilferage"]["hub"] else " (bad day)" if h in w.lookalikes["hub"] else ""
    print(f"{h:22} {part:10} {s['dest_k']:3}/{s['dest_n']:4} {s['dest_k']/max(1,s['dest_n']):.3f}  {s['origin_k']:3}/{s['origin_n']:4} {s['origin_k']/max(1,s['origin_n']):.3f}{mark}")

mine = [r for r in w.returns if r.dest_hub == hub and r.scans]
print(f"\n{hub}: {len(mine)} parcels delivered there, partner {mine[0].partner}")
byweek = defaultdict(Counter)
byagent = defaultdict(Counter)
kinds = Counter()
for r in mine:
    inc = incident(r)
    wk = (max(s.at for s in r.scans) - w.start).days // 7
    byweek[wk]["n"] += 1
    byagent[(r.origin_hub, r.agent)]["n"] += 1
    if inc:
        kinds[(inc, "planted" if "pilferage" in r.patterns else "not")] += 1
        byweek[wk]["k"] += 1
        byweek[wk]["planted"] += "pilferage" in r.patterns
        byagent[(r.origin_hub, r.agent)]["k"] += 1
        byagent[(r.origin_hub, r.agent)]["claimed"] += r.claim is not None
print("incidents by kind:", dict(kinds))
print("by week (end of journey):", {k: dict(v) for k, v in sorted(byweek.items())})
print("by pickup agent (origin hub, agent): n / incidents")
for (o, a), c in sorted(byagent.items(), key=lambda kv: -kv[1]["k"]):
    print(f"  {o:22} {a}: {c['n']:3} / {c['k']}")
