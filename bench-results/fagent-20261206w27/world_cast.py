"""The pilferage cast of a specification-only world, from the generator (no database)."""
import sys
from collections import Counter, defaultdict
from disputedesk.fraudworld.world import build_world

for seed in map(int, sys.argv[1:]):
    w = build_world(seed, scale=1.0)
    truth = w.truth["pilferage"]
    print(f"== seed {seed}: planted hubs {sorted(truth['hub'])}, agents {sorted(truth['agent'])}")
    print("   lookalikes:", {k: v for k, v in w.lookalikes["agent"].items()}, w.lookalikes["hub"])
    per_agent = defaultdict(Counter)
    agent_hub = {}
    for r in w.returns:
        if r.partner == "desipost" or not r.scans:
            continue
        kinds = {s.kind for s in r.scans}
        outcome = ("lost" if "LOST" in kinds else "damaged" if "DAMAGED_IN_TRANSIT" in kinds else None)
        if outcome is None and "DELIVERED_TO_SELLER" in kinds:
            pw = [s.weight_g for s in r.scans if s.kind == "PICKED_UP"]
            dw = [s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER"]
            if pw and dw and dw[0] < 0.9 * pw[0]:
                outcome = "drop"
        if "PICKED_UP" not in kinds:
            continue
        c = per_agent[r.agent]
        agent_hub[r.agent] = (r.partner, r.origin_hub)
        c["parcels"] += 1
        to_ph = r.dest_hub in truth["hub"]
        c["to_pilf_hub"] += to_ph
        if outcome:
            c["inc"] += 1
            c["inc_to_pilf_hub"] += to_ph
            if "pilferage" in r.patterns:
                c["planted_inc"] += 1
    for a in sorted(per_agent, key=lambda a: agent_hub[a]):
        c = per_agent[a]
        tag = "PLANTED" if a in truth["agent"] else w.lookalikes["agent"].get(a, "")
        print(f"   {agent_hub[a][0]:10} {agent_hub[a][1]:16} {a:16} parcels {c['parcels']:4} "
              f"inc {c['inc']:3} ({c['inc']/c['parcels']:.3f}) to-pilf-hub {c['to_pilf_hub']:3} "
              f"inc-there {c['inc_to_pilf_hub']:3} planted-inc {c['planted_inc']:3} {tag}")
