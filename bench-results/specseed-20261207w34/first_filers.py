"""Offline, the world alone: each planted reuser's reuse events, and those that are the first
filing of their picture (no earlier claim carries it: fraud's reuse finding falls on the later
one), per seed.
    python first_filers.py END_ISO SEED ..."""

from __future__ import annotations

import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

end = datetime.fromisoformat(sys.argv[1])
for seed in map(int, sys.argv[2:]):
    w = build_world(seed, end=end)
    photos = [(r, c, e) for r, c in w.claims for e in c.evidence if e.kind == "PHOTO"]

    def same(a, b) -> bool:
        return a.sha256 == b.sha256 or bool(a.perceptual_hash and b.perceptual_hash) and bin(
            int(a.perceptual_hash, 16) ^ int(b.perceptual_hash, 16)).count("1") <= 6

    for s in sorted(w.truth["evidence_reuse"]["seller"]):
        events = [(r, c) for r, c in w.claims if r.seller == s and "evidence_reuse" in c.patterns]
        first = [
            r.return_id for r, c in events
            if not any(o.return_id != r.return_id and oc.filed_at < c.filed_at and same(e, oe)
                       for e in c.evidence if e.kind == "PHOTO" for o, oc, oe in photos)
        ]
        print(f"{seed} {s}: {len(events)} reuse events, {len(first)} of them first filings {first}")
