"""Offline, the world alone: the claims the world labels evidence reuse, wrong/used or QC
contradiction that fraud.md's signals cannot show (a photo seen on no other return; a claim on a
parcel harmed in transit, which names no buyer nor contradicts a QC pass), and the planted
entities left with none of their pattern's events.
    python labels_check.py SEED END_ISO ..."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime

from disputedesk.fraudworld.world import build_world

HARMED = {"LOST", "DAMAGED_IN_TRANSIT"}


def harmed(r) -> bool:
    kinds = {s.kind for s in r.scans}
    if kinds & HARMED:
        return True
    picked = [s.weight_g for s in r.scans if s.kind == "PICKED_UP" and s.weight_g]
    got = [s.weight_g for s in r.scans if s.kind == "DELIVERED_TO_SELLER" and s.weight_g]
    return bool(picked and got and got[0] < 0.85 * picked[0])


def near(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and bin(int(a, 16) ^ int(b, 16)).count("1") <= 4


end = datetime.fromisoformat(sys.argv[-1])
for seed in map(int, sys.argv[1:-1]):
    w = build_world(seed, end=end)
    photos = [(r.return_id, e) for r, c in w.claims for e in c.evidence if e.kind == "PHOTO"]
    out: Counter[str] = Counter()
    reuse_ok: dict[str, int] = Counter()
    for r, c in w.claims:
        if "evidence_reuse" in c.patterns:
            mine = [e for e in c.evidence if e.kind == "PHOTO"]
            shared = any(
                rid != r.return_id and (e.sha256 == o.sha256 or near(e.perceptual_hash, o.perceptual_hash))
                for e in mine
                for rid, o in photos
            )
            out["evidence_reuse labelled"] += 1
            out["evidence_reuse photo seen on no other return"] += not shared
            reuse_ok[r.seller] += shared
        for p in ("wrong_used", "qc_contradiction"):
            if p in c.patterns:
                out[f"{p} labelled"] += 1
                if harmed(r):
                    out[f"{p} on a parcel harmed in transit ({c.claim_type})"] += 1
    lone = sorted(s for s in w.truth["evidence_reuse"]["seller"] if not reuse_ok.get(s))
    print(seed, dict(sorted(out.items())), "reusers with no reuse:", lone)

# The world's own convention (`route`, `ordinary_claim`): a claim on a parcel harmed where a
# planted hub (as destination) or agent held it is a pilferage event, whoever the seller. The
# look-alikes' returns (the newcomer's forced outcomes, the storm, the small town) never pass
# through `route`.
for seed in map(int, sys.argv[1:-1]):
    w = build_world(seed, end=end)
    hubs, agents = w.truth["pilferage"]["hub"], w.truth["pilferage"]["agent"]
    missing = [
        (r.return_id, r.seller, c.claim_type)
        for r, c in w.claims
        if (harmed(r)) and (r.dest_hub in hubs or r.agent in agents) and "pilferage" not in c.patterns
    ]
    print(seed, "harmed at a planted pilferer, not labelled pilferage:", missing)
