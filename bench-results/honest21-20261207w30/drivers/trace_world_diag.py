"""Score range-set worlds as `fraud-eval --direct` does (`direct.score_directly`, event order),
one seed at a time on a fraud database of its own, and keep what tracing the honest HIGH
escalations needs.

Writes OUT/<name>-<seed>/table.json (fraud-eval's table for the world), trace.json (each honest
escalation HIGH in its latest revision: its parties and which of them are planted, its
look-alike roles, its reasons with their entity, contribution and alert, its revisions) and
alerts.json (every alert: pattern, entity, status, event time, code).

    EVAL_DB=eval_fraud_fhigh_a python trace_world.py dev OUT 101 102
Run from the root of the code under test (its modules first on sys.path).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())

import disputedesk.simulate.direct as direct  # noqa: E402
from disputedesk.simulate.evaluation import event_keys, event_parties  # noqa: E402
from disputedesk.simulate.generator import World, generate  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from disputedesk.stack import Stack  # noqa: E402
from shared.migrations import upgrade  # noqa: E402

name, out = sys.argv[1], Path(sys.argv[2])
seeds = [int(s) for s in sys.argv[3:]]
DB = os.environ.get("EVAL_DB", "eval_fraud_fhigh")


def trace(world: World, assessments: list[Any], alerts: list[Any]) -> dict[str, Any]:
    truth = world.truth
    fraud_events = truth.fraud_events()
    fraud_entities = truth.fraud_entities()
    roles: dict[tuple[str, str], list[str]] = defaultdict(list)
    for look, members in truth.lookalikes.items():
        for m in members:
            roles[m].append(look)
    for p, members in truth.entities.items():
        for m in members:
            roles[m].append(f"planted:{p}")
    latest = event_keys(world, assessments)
    parties = event_parties(world)
    history: dict[str, list[Any]] = defaultdict(list)
    for r in assessments:
        if r.escalation_id and r.subject_type.endswith("seller_escalation_filed.v1"):
            history[r.return_id].append(r)
    honest = []
    for key, row in latest.items():
        if key[0] != "escalation" or key in fraud_events or row.band != "HIGH":
            continue
        ps = parties[key].parties if key in parties else ()
        revs = sorted(history[key[1]], key=lambda r: r.revision)
        honest.append(
            {
                "return_id": key[1],
                "at": parties[key].at.isoformat() if key in parties else None,
                "parties": [
                    {"entity": f"{t}:{i}", "planted": (t, i) in fraud_entities, "roles": roles.get((t, i), [])}
                    for t, i in ps
                ],
                "all_parties_honest": not set(ps) & fraud_entities,
                "revisions": [
                    {
                        "revision": r.revision,
                        "band": r.band,
                        "first_reason": (r.reasons or [{}])[0].get("code"),
                        "first_detail": str((r.reasons or [{}])[0].get("detail", ""))[:200],
                    }
                    for r in revs
                ],
                "reasons": [
                    {
                        "code": x.get("code"),
                        "contribution": x.get("contribution"),
                        "pattern": (x.get("numbers") or {}).get("pattern"),
                        "entity": (x.get("numbers") or {}).get("entity"),
                        "entity_planted": tuple(
                            str((x.get("numbers") or {}).get("entity", ":")).split(":", 1)
                        )
                        in fraud_entities,
                        "entity_roles": roles.get(
                            tuple(str((x.get("numbers") or {}).get("entity", ":")).split(":", 1)),  # type: ignore[arg-type]
                            [],
                        ),
                        "alert_id": (x.get("numbers") or {}).get("alert_id"),
                        "detail": str(x.get("detail", ""))[:300],
                        "numbers": {
                            k: v
                            for k, v in (x.get("numbers") or {}).items()
                            if k not in ("detail",)
                        },
                    }
                    for x in sorted(row.reasons, key=lambda x: -x.get("contribution", 0))
                ],
            }
        )
    # Planted events by pattern and the band of their latest revision: recall by decision
    # (HIGH: to an analyst as probable fraud; MEDIUM: reviewed, money held).
    by_decision: dict[str, dict[str, int]] = {}
    for pattern, events in truth.events.items():
        counts = {"HIGH": 0, "MEDIUM": 0, "LOW": 0, "unscored": 0}
        for key in events:
            row = latest.get(key)
            counts[row.band if row is not None else "unscored"] += 1
        by_decision[pattern] = counts
    # Honest escalations by band, and whether they were revised.
    honest_bands = {"HIGH": 0, "MEDIUM": 0, "LOW": 0}
    for key, row in latest.items():
        if key[0] == "escalation" and key not in fraud_events:
            honest_bands[row.band] += 1
    return {
        "planted_by_decision": by_decision,
        "honest_escalations_by_band": honest_bands,
        "honest_high": honest,
        "alerts": [
            {
                "pattern": a.pattern,
                "entity": f"{a.entity_type}:{a.entity_id}",
                "planted": (a.entity_type, a.entity_id) in fraud_entities,
                "roles": roles.get((a.entity_type, a.entity_id), []),
                "status": a.status,
                "event_time": a.event_time.isoformat() if a.event_time else None,
                "code": (a.evidence or {}).get("code"),
                "buyer": ((a.evidence or {}).get("numbers") or {}).get("buyer_id"), "numbers": (a.evidence or {}).get("numbers"),
            }
            for a in alerts
        ],
    }


async def main() -> None:
    _, ranges = RANGE_SETS[name]
    stack = Stack.from_env(dict(os.environ))
    url = stack.postgres.database_url(DB)
    original_score = direct.score_world
    for seed in seeds:
        d = out / f"{name}-{seed}"
        if (d / "table.json").exists():
            continue
        d.mkdir(parents=True, exist_ok=True)
        stack.postgres.drop_database(DB)
        stack.postgres.create_database(DB)
        await asyncio.to_thread(upgrade, "fraud", url)
        world = generate(draw_market(seed, ranges=ranges), seed)
        kept: dict[str, Any] = {}

        def score(w: World, assessments: list[Any], alerts: list[Any]) -> dict[str, Any]:
            kept["trace"] = trace(w, assessments, alerts)
            return original_score(w, assessments, alerts)

        direct.score_world = score
        table = await direct.score_directly(world, url)
        (d / "table.json").write_text(json.dumps(table, indent=1, default=str))
        (d / "trace.json").write_text(json.dumps(kept["trace"], indent=1, default=str))
        h = table["_honest"]
        print(
            name,
            seed,
            table["_run"],
            "honest HIGH",
            h["escalations_high"],
            "/",
            h["escalations"],
            "all-honest",
            h["escalations_honest_parties_high"],
            "/",
            h["escalations_honest_parties"],
            flush=True,
        )


asyncio.run(main())
