"""fraud-eval --direct --ranges dev, each world's assessments scored twice: with main's labels
(pilferage planted on the terminal scan only) and this branch's (the seller's claim on a
pilfered parcel too). The same run, so the pair differs in the labels alone.

usage: python dev_two_labels.py OUT_DIR [SEEDS]   (env: DISPUTEDESK_STATE_DIR and the ports)"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

import disputedesk.simulate.direct as direct
from disputedesk.simulate.evaluation import report_of, score_world
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
from disputedesk.simulate.report import print_report

out = Path(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2
seeds, drawn_from = RANGE_SETS["dev"]
seeds = list(seeds[:n])
pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []


def main_labels(world: Any) -> Any:
    truth = copy.deepcopy(world.truth)
    truth.events["pilferage"] = {e for e in truth.events["pilferage"] if e[0] == "terminal"}
    return replace(world, truth=truth)


def both(world: Any, assessments: Any, alerts: Any) -> dict[str, Any]:
    before = score_world(main_labels(world), assessments, alerts)
    after = score_world(world, assessments, alerts)
    pairs.append((before, after))
    return after


direct.score_world = both  # type: ignore[assignment]
state = Path(os.environ["DISPUTEDESK_STATE_DIR"]).resolve()
report = asyncio.run(
    direct.evaluate_directly(
        seeds, lambda s: draw_market(s, drawn_from), out_dir=out / "after", state_dir=state
    )
)
for before, after in pairs:
    before["_run"], before["_world"] = after["_run"], after["_world"]
before_report = report_of(seeds, [b for b, _ in pairs], seconds=0.0, mode="direct")
(out / "before").mkdir(parents=True, exist_ok=True)
(out / "before" / "fraud-eval-direct.json").write_text(
    json.dumps(before_report, indent=1, default=str)
)
console = Console(width=160)
console.print("== main's labels (terminal scan only) ==")
print_report(before_report, console)
console.print("== this branch's labels (the claim on a pilfered parcel too) ==")
print_report(report, console)
