"""Seed by seed, before -> after of two `fraud-eval --direct` results over the seeds both hold:
every pattern's entity and event figures and the honest counts that changed.

    python compare_seeds.py BEFORE/fraud-eval-direct.json AFTER/fraud-eval-direct.json
"""

from __future__ import annotations

import json
import sys

PATTERNS = (
    "claim_abuse",
    "evidence_reuse",
    "wrong_used_returns",
    "pilferage",
    "qc_contradiction",
    "collusion",
)
FIGURES = (
    "entities_alerted",
    "entity_precision",
    "entity_recall",
    "event_precision",
    "event_recall",
    "event_precision_by_decision",
    "event_recall_by_decision",
)


def main(before_path: str, after_path: str) -> None:
    before, after = (json.load(open(p)) for p in (before_path, after_path))
    old = {s["run"]["seed"]: s for s in before["per_seed"]}
    for new in after["per_seed"]:
        seed = new["run"]["seed"]
        if seed not in old:
            print(f"seed {seed}: not in before")
            continue
        was = old[seed]
        print(f"seed {seed}")
        for p in PATTERNS:
            changed = [
                f"{f} {was[p].get(f)} -> {new[p].get(f)}"
                for f in FIGURES
                if was[p].get(f) != new[p].get(f)
            ]
            print(f"  {p}: " + (", ".join(changed) if changed else "unchanged"))
        honest = [
            f"{k} {was['honest'].get(k)} -> {v}"
            for k, v in new["honest"].items()
            if was["honest"].get(k) != v
        ]
        print("  honest: " + (", ".join(honest) if honest else "unchanged"))
        keys = ("sellers_ever_flagged", "buyers_ever_flagged", "escalations_honest_parties_high")
        print("  honest now: " + ", ".join(f"{k} {new['honest'].get(k)}" for k in keys))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
