"""Score range-set worlds as `fraud-eval --direct` does and list every claim whose latest
revision holds `QC_UNNAMED_PASS_AT_CARRIED_HUB`: its band, the finding's share and strength,
the pass's true agent (the world knows it), whether that agent is planted and whether the
claim is a planted QC contradiction.

    EVAL_DB=eval_fraud_fqcunnamed python unnamed_trace.py dev OUT 101
Run from the root of the code under test; writes OUT/<name>-<seed>-unnamed.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())

import disputedesk.simulate.direct as direct  # noqa: E402
import disputedesk.simulate.generator as gen  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from disputedesk.stack import Stack  # noqa: E402

name, out = sys.argv[1], Path(sys.argv[2])
seeds = [int(s) for s in sys.argv[3:]]
DB = os.environ.get("EVAL_DB", "eval_fraud_fqcunnamed")
PASSES: dict[str, tuple[str, bool, str]] = {}
orig_scan = gen._Generator._scan


def scan(self: Any, j: Any, event: str, at: Any, weight_g: Any, *, hub: Any = None) -> None:
    if event == "QC_PASSED":
        PASSES[j.return_id] = (j.agent, j.agent_named, hub or j.hub)
    orig_scan(self, j, event, at, weight_g, hub=hub)


gen._Generator._scan = scan  # type: ignore[method-assign]
CODE = "QC_UNNAMED_PASS_AT_CARRIED_HUB"


async def main() -> None:
    _, ranges = RANGE_SETS[name]
    stack = Stack.from_env(dict(os.environ))
    url = stack.postgres.database_url(DB)
    original_score = direct.score_world
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        from shared.migrations import upgrade

        stack.postgres.drop_database(DB)
        stack.postgres.create_database(DB)
        await asyncio.to_thread(upgrade, "fraud", url)
        PASSES.clear()
        world = gen.generate(draw_market(seed, ranges=ranges), seed)
        rows: list[dict[str, Any]] = []

        def score(w: Any, assessments: list[Any], alerts: list[Any]) -> dict[str, Any]:
            fe = w.truth.fraud_entities()
            planted = w.truth.events.get("qc_contradiction", set())
            latest: dict[str, Any] = {}
            for a in assessments:
                if a.escalation_id and (
                    a.escalation_id not in latest or a.revision > latest[a.escalation_id].revision
                ):
                    latest[a.escalation_id] = a
            for esc, a in sorted(latest.items()):
                found = [r for r in a.reasons if r.get("code") == CODE]
                if not found:
                    continue
                agent, named, hub = PASSES.get(a.return_id, ("?", True, "?"))
                rows.append(
                    {
                        "escalation": esc,
                        "band": a.band,
                        "revision": a.revision,
                        "hub": hub,
                        "true_agent": agent,
                        "agent_planted": ("agent", agent) in fe,
                        "claim_planted": ("escalation", a.return_id) in planted
                        or any(a.return_id in e for e in planted),
                        "contribution": found[0].get("contribution"),
                        "share": found[0].get("numbers", {}).get(
                            "carriers_share_of_hub_contradictions"
                        ),
                        "carried_with": found[0].get("numbers", {}).get("carried_with"),
                    }
                )
            return original_score(w, assessments, alerts)

        direct.score_world = score
        await direct.score_directly(world, url)
        (out / f"{name}-{seed}-unnamed.json").write_text(json.dumps(rows, indent=1))
        print(name, seed, "done", flush=True)


asyncio.run(main())
