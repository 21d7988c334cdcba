"""Per world, before and after: the QC contradiction figures and every other pattern's, from
`fraud-eval --direct` results (`python bench-results/fqcsplit-20261206w24/summary.py DIR...`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PATTERNS = ("claim_abuse", "evidence_reuse", "wrong_used_returns", "pilferage", "collusion")


def fmt(x: object) -> str:
    return "—" if x is None else f"{x:.2f}" if isinstance(x, float) else str(x)


def load(d: Path) -> dict[str, Any]:
    """`fraud-eval --direct`'s results, or the trace driver's tables (`drivers/`) in its form."""
    if (d / "fraud-eval-direct.json").exists():
        data: dict[str, Any] = json.loads((d / "fraud-eval-direct.json").read_text())
        return data
    seeds, per_seed, entities = [], [], []
    for t in sorted(d.glob("*-table.json")):
        table = json.loads(t.read_text())
        seed = table["_run"]["seed"]
        seeds.append(seed)
        per_seed.append({**table, "honest": table["_honest"]})
        entities += [{**e, "seed": seed} for e in table["_entities"]]
    return {"seeds": seeds, "per_seed": per_seed, "entities": entities, "pooled": None}


def main(dirs: list[str]) -> None:
    for d in dirs:
        data = load(Path(d))
        print(f"== {d}")
        for seed, world in zip(data["seeds"], data["per_seed"], strict=True):
            qc = world["qc_contradiction"]
            h = world["honest"]
            planted = [
                e
                for e in data["entities"]
                if e["seed"] == seed and e["pattern"] == "qc_contradiction"
            ]
            found = [e["entity"] for e in planted if e["detected"]]
            alerted = qc["entities_alerted"]
            honest_qc = round(alerted * (1 - (qc["entity_precision"] or 0))) if alerted else 0
            print(
                f"{seed}: QC event P/R {fmt(qc['event_precision'])}/{fmt(qc['event_recall'])}"
                f" ({qc['events_planted']} planted), entity P/R {fmt(qc['entity_precision'])}/"
                f"{fmt(qc['entity_recall'])}; planted QC agents found {len(found)}/{len(planted)}"
                f" {found}; QC alerts on honest entities {honest_qc}; honest hubs ever"
                f" {h['hubs_ever_flagged']}/{h['hubs']}, agents {h['agents_ever_flagged']}/"
                f"{h['agents']}; honest escalations HIGH {h['escalations_high']}/"
                f"{h['escalations']}, every party honest {h['escalations_honest_parties_high']}/"
                f"{h['escalations_honest_parties']}"
            )
            print(
                "   hub/agent QC HIGH reasons: "
                + ", ".join(
                    f"{k.split(':', 1)[1]}={v}"
                    for k, v in h.items()
                    if k.startswith("honest_high_by_") and "QC" in k
                )
            )
            print(
                "   others: "
                + "; ".join(
                    f"{p} ev {fmt(world[p]['event_precision'])}/{fmt(world[p]['event_recall'])}"
                    f" ent {fmt(world[p]['entity_precision'])}/{fmt(world[p]['entity_recall'])}"
                    for p in PATTERNS
                )
                + f"; sellers ever {h['sellers_ever_flagged']}, buyers ever"
                f" {h['buyers_ever_flagged']}"
            )
        if not data["pooled"]:
            continue
        p = data["pooled"]["qc_contradiction"]
        print(
            f"pooled QC: event P/R {fmt(p['event_precision'])}/{fmt(p['event_recall'])}, entity"
            f" P/R {fmt(p['entity_precision'])}/{fmt(p['entity_recall'])}, median days"
            f" {fmt(p['median_days_to_alert'])}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
