"""Offline, the world alone: each named return's parties, scans, claim and labels, and its
buyer's other claims (what fraud's wrong/used test could count).
    python inspect_returns.py SEED END_ISO RETURN_ID ..."""

from __future__ import annotations

import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2])
w = build_world(seed, end=end)
by_id = {r.return_id: r for r in w.returns}
for rid in sys.argv[3:]:
    r = by_id[rid]
    c = r.claim
    print(f"{rid} seller {r.seller} buyer {r.buyer} agent {r.agent} hubs {r.origin_hub}->{r.dest_hub} "
          f"qc {r.qc_required} patterns {sorted(r.patterns)} claim {c and c.claim_type} {c and sorted(c.patterns)} filed {c and c.filed_at:%m-%d %H:%M}")
    print("   scans", [(s.kind, s.agent, s.weight_g) for s in r.scans])
    for o in w.returns:
        if o.buyer == r.buyer and o.return_id != rid:
            print(f"   buyer's other: {o.return_id} {o.seller} agent {o.agent} qc {o.qc_required} "
                  f"{[s.kind for s in o.scans][-1] if o.scans else None} claim {o.claim and o.claim.claim_type} {o.claim and sorted(o.claim.patterns)}")
