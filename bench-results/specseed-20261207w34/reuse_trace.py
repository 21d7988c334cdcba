"""A reuser's claims: each photo, the other returns carrying the same picture (sha256 or
perceptual hash within 4 bits), and each claim's band and evidence codes in a run.
    python reuse_trace.py SEED END_ISO RUN_JSON SELLER"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from disputedesk.fraudworld.world import build_world

seed, end, path, seller = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3], sys.argv[4]
w = build_world(seed, end=end)
raw = json.load(open(path))["result"]["raw"]["claims"]
photos = [(r, e) for r, c in w.claims for e in c.evidence if e.kind == "PHOTO"]


def near(a, b) -> bool:
    if a.sha256 == b.sha256:
        return True
    return bool(a.perceptual_hash and b.perceptual_hash) and bin(
        int(a.perceptual_hash, 16) ^ int(b.perceptual_hash, 16)).count("1") <= 6


for r, c in w.claims:
    if r.seller != seller:
        continue
    a = raw.get(r.return_id, {})
    print(f"{r.return_id} {c.claim_type} filed {c.filed_at:%m-%d %H:%M} {sorted(c.patterns)} band {a.get('band')} {a.get('codes')}")
    for e in c.evidence:
        if e.kind != "PHOTO":
            continue
        others = [(o.return_id, o.seller, o.claim.filed_at, oe.sha256 == e.sha256) for o, oe in photos if o.return_id != r.return_id and near(e, oe)]
        print(f"   photo {e.sha256[:8]} ph {e.perceptual_hash} captured {e.captured_at:%m-%d %H:%M} same picture on {[(x, s, f'{t:%m-%d %H:%M}', 'exact' if ex else 'near') for x, s, t, ex in others]}")
