"""Score range-set worlds as `fraud-eval --direct` does and keep, for every hub whose QC test
reaches the alert, what the attribution saw each time (`agents_carrying_hub`): the hub's
counts, its named agents' counts at the hub, the hubs' honest rate, and the answer; and the QC
alerts raised.

    EVAL_DB=eval_fraud_fqcsplit python carriers_trace.py dev OUT 101
Run from the root of the code under test; writes OUT/<name>-<seed>.json.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())

import disputedesk.simulate.direct as direct  # noqa: E402
import services.fraud.scoring.qc_contradiction as sqc  # noqa: E402
from disputedesk.simulate.generator import World, generate  # noqa: E402
from disputedesk.simulate.ranges import RANGE_SETS, draw_market  # noqa: E402
from disputedesk.stack import Stack  # noqa: E402
from services.fraud.detectors import qc_contradiction as dqc  # noqa: E402
from services.fraud.detectors.stats import sequential_test  # noqa: E402

name, out = sys.argv[1], Path(sys.argv[2])
seeds = [int(s) for s in sys.argv[3:]]
DB = os.environ.get("EVAL_DB", "eval_fraud_fqcsplit")
CTX: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("qc")
CALLS: list[dict[str, Any]] = []
orig_qc = sqc.QcInputs.qc
orig_carrying = dqc.agents_carrying_hub


async def qc(self: Any, facts: Any) -> None:
    token = CTX.set({"hub": facts.qc_hub_id, "agent": facts.qc_agent_id, "at": self.at})
    try:
        return await orig_qc(self, facts)
    finally:
        CTX.reset(token)


def carrying(k: int, n: int, parts: Any, spread: Any, s: Any) -> Any:
    got = orig_carrying(k, n, parts, spread, s)
    whole = sequential_test(k, n, spread, s)
    if whole.log_bf >= math.log(1 / s.alpha):
        c = CTX.get()
        CALLS.append(
            {
                "hub": c["hub"],
                "claim_agent": c["agent"],
                "at": c["at"].isoformat(),
                "hub_k_n": [k, n],
                "hub_log_bf": round(whole.log_bf, 2),
                "hubs_rate": round(spread.rate, 4),
                "concentration": round(spread.concentration),
                "parts": {
                    a: [ka, na, round(sequential_test(ka, na, spread, s).log_bf, 2)]
                    for a, (ka, na) in parts.items()
                },
                "carriers": sorted(got.agents) if got else None,
                "rest_log_bf": round(got.rest.log_bf, 2) if got else None,
            }
        )
    return got


sqc.QcInputs.qc = qc  # type: ignore[method-assign]
dqc.agents_carrying_hub = carrying


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
        world = generate(draw_market(seed, ranges=ranges), seed)
        CALLS.clear()
        kept: dict[str, Any] = {}

        def score(w: World, assessments: list[Any], alerts: list[Any]) -> dict[str, Any]:
            fe = w.truth.fraud_entities()
            kept["alerts"] = [
                {
                    "pattern": a.pattern,
                    "entity": f"{a.entity_type}:{a.entity_id}",
                    "planted": (a.entity_type, a.entity_id) in fe,
                    "event_time": a.event_time.isoformat() if a.event_time else None,
                    "code": (a.evidence or {}).get("code"),
                    "status": a.status,
                }
                for a in alerts
                if a.pattern.startswith("QC_CONTRADICTION")
            ]
            return original_score(w, assessments, alerts)

        direct.score_world = score
        table = await direct.score_directly(world, url)
        (out / f"{name}-{seed}-table.json").write_text(json.dumps(table, indent=1, default=str))
        first: dict[str, list[dict[str, Any]]] = {}
        for c in CALLS:
            first.setdefault(c["hub"], [])
            if len(first[c["hub"]]) < 6:
                first[c["hub"]].append(c)
        (out / f"{name}-{seed}.json").write_text(
            json.dumps({"alerts": kept["alerts"], "alert_level_calls": first}, indent=1)
        )
        print(name, seed, "done", flush=True)


asyncio.run(main())
