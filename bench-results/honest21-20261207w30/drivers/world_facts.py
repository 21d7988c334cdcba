"""Print, for the given returns of one range-set world, its seller, buyer, scans (type, hub,
agent, weight) and claim; and for a seller, its deliveries and claims and its category's.

    python world_facts.py dev 101 RET-s101-000573 ... [seller:S-s101-048]
"""

import os
import sys
from collections import Counter

sys.path.insert(0, os.getcwd())

from disputedesk.simulate.generator import generate  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402

name, seed = sys.argv[1], int(sys.argv[2])
world = generate(draw_market(seed, ranges=RANGE_SETS[name][1]), seed)
wanted = [a for a in sys.argv[3:] if not a.startswith("seller:")]
sellers = [a.split(":", 1)[1] for a in sys.argv[3:] if a.startswith("seller:")]
returns = {}
for a in world.actions:
    if a.kind == "return":
        returns[a.return_id] = a.body
for a in world.actions:
    if a.return_id in wanted:
        b = a.body
        if a.kind == "return":
            print(a.return_id, "return", b.get("seller_id"), b.get("buyer_id"), b.get("category"), b.get("order_id"))
        elif a.kind == "scan":
            print(a.return_id, "  scan", a.at.isoformat()[:16], a.partner_format, b.get("type"), b.get("hub"), b.get("agent"), b.get("weight_g"))
        else:
            print(a.return_id, "  claim", a.at.isoformat()[:16], b.get("claim_type"), a.facts)
for s in sellers:
    cat = None
    delivered = Counter()
    claims = Counter()
    for a in world.actions:
        r = returns.get(a.return_id, {})
        if a.kind == "escalation":
            claims[r.get("seller_id")] += 1
        elif a.kind == "scan" and a.body.get("type") == "DELIVERED_TO_SELLER":
            delivered[r.get("seller_id")] += 1
        if r.get("seller_id") == s:
            cat = r.get("category")
    peers = {r["seller_id"] for r in returns.values() if r.get("category") == cat}
    pd = sum(delivered[p] for p in peers if p != s)
    pc = sum(claims[p] for p in peers if p != s)
    print(s, "category", cat, "delivered", delivered[s], "claims", claims[s], "| category others", pc, "/", pd, f"{pc / max(pd, 1):.3f}", "sellers", len(peers))
    print("  roles", [k for k, v in world.truth.lookalikes.items() if ("seller", s) in v], [k for k, v in world.truth.entities.items() if ("seller", s) in v])
