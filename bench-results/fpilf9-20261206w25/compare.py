"""Before -> after of two `fraud-eval --direct` results: every pattern's pooled figures, the
honest counts, the goal row of each pattern, and every planted pilferer's days to its alert.

    python compare.py BEFORE/fraud-eval-direct.json AFTER/fraud-eval-direct.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

PATTERNS = (
    "claim_abuse",
    "evidence_reuse",
    "wrong_used_returns",
    "pilferage",
    "qc_contradiction",
    "collusion",
)
FIGURES = (
    "event_precision",
    "event_recall",
    "event_precision_by_decision",
    "event_recall_by_decision",
    "event_precision_at_arrival",
    "event_recall_at_arrival",
    "entities_planted",
    "entities_alerted",
    "entity_precision",
    "entity_recall",
    "median_days_to_alert",
)


def load(path: str) -> dict[str, Any]:
    with open(path) as f:
        return json.load(f)  # type: ignore[no-any-return]


def main() -> None:
    before, after = load(sys.argv[1]), load(sys.argv[2])
    print(f"seeds {before['seeds']} -> {after['seeds']}")
    for p in PATTERNS:
        b, a = before["pooled"][p], after["pooled"][p]
        moved = [f for f in FIGURES if b.get(f) != a.get(f)]
        row = ", ".join(f"{f} {b.get(f)} -> {a.get(f)}" for f in FIGURES if f in moved)
        print(f"{p}: {'unchanged' if not moved else row}")
        if p == "pilferage":
            print("  " + ", ".join(f"{f} {a.get(f)}" for f in FIGURES))
    hb, ha = before["pooled"]["honest"], after["pooled"]["honest"]
    moved = {k: (hb.get(k), ha.get(k)) for k in sorted(set(hb) | set(ha)) if hb.get(k) != ha.get(k)}
    print(f"honest: {'unchanged' if not moved else moved}")
    print(
        "honest hubs ever/at end "
        f"{hb['hubs_ever_flagged']}/{hb['hubs_flagged_at_end']} of {hb['hubs']} -> "
        f"{ha['hubs_ever_flagged']}/{ha['hubs_flagged_at_end']}; agents "
        f"{hb['agents_ever_flagged']}/{hb['agents_flagged_at_end']} of {hb['agents']} -> "
        f"{ha['agents_ever_flagged']}/{ha['agents_flagged_at_end']}"
    )
    eb = {(e["seed"], e["entity"]): e for e in before["entities"] if e["pattern"] == "pilferage"}
    ea = {(e["seed"], e["entity"]): e for e in after["entities"] if e["pattern"] == "pilferage"}
    print("planted pilferers: seed entity intensity events days before -> after")
    for key in sorted(set(eb) | set(ea)):
        b_, a_ = eb.get(key, {}), ea.get(key, {})
        e = b_ or a_
        goal = e["intensity"] >= 2.5 and e["events"] >= 15
        print(
            f"  {key[0]} {key[1]} {e['intensity']} {e['events']}{' goal' if goal else ''}: "
            f"{b_.get('days_to_alert') if b_.get('detected') else 'missed'} -> "
            f"{a_.get('days_to_alert') if a_.get('detected') else 'missed'}"
        )
    for p in PATTERNS:
        if p == "pilferage":
            continue
        sb = sorted(
            (e["seed"], e["entity"], e["detected"], e["days_to_alert"])
            for e in before["entities"]
            if e["pattern"] == p
        )
        sa = sorted(
            (e["seed"], e["entity"], e["detected"], e["days_to_alert"])
            for e in after["entities"]
            if e["pattern"] == p
        )
        if sb != sa:
            print(f"{p}: planted entities moved")


if __name__ == "__main__":
    main()
