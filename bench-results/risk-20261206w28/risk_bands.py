"""`fraud-eval --direct --ranges dev` plus what the fraud-eval table does not count: honest
entities whose stored entity risk (GET /risk/{type}/{id}) reads HIGH, at the end and ever
(entity_risk_history), and how many of those carry no alert of their own.

Run from the source tree to measure (cwd first on sys.path):
  DISPUTEDESK_STATE_DIR=... python risk_bands.py OUT_DIR SEED [SEED ...]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console


async def risk_rows(url: str) -> tuple[list[Any], list[Any], list[Any]]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as c:
            end = (
                await c.execute(text("select entity_type, entity_id, score, band, reasons from entity_risk"))
            ).all()
            ever = (
                await c.execute(
                    text(
                        "select distinct entity_type, entity_id from entity_risk_history"
                        " where band = 'HIGH'"
                    )
                )
            ).all()
            alerts = (
                await c.execute(text("select entity_type, entity_id, evidence from alerts"))
            ).all()
    finally:
        await engine.dispose()
    return end, ever, alerts


async def main(out: Path, seeds: list[int]) -> None:
    from disputedesk.simulate.direct import score_directly
    from disputedesk.simulate.evaluation import prepare_stack, report_of
    from disputedesk.simulate.generator import generate
    from disputedesk.simulate.ranges import RANGE_SETS, describe, draw_market
    from disputedesk.simulate.report import print_report

    out.mkdir(parents=True, exist_ok=True)
    _, drawn_from = RANGE_SETS["dev"]
    _, _, prepare = await asyncio.to_thread(prepare_stack, Path(os.environ["DISPUTEDESK_STATE_DIR"]))
    started = time.monotonic()
    per_seed = []
    bands: dict[str, Any] = {}
    for seed in seeds:
        await asyncio.to_thread(prepare)
        market = draw_market(seed, drawn_from)
        world = generate(market, seed)
        table = await score_directly(world, os.environ["FRAUD_DATABASE_URL"])
        table["_world"] = describe(market)
        per_seed.append(table)
        end, ever, alerts = await risk_rows(os.environ["FRAUD_DATABASE_URL"])
        truth = world.truth
        planted = set().union(*truth.entities.values()) if truth.entities else set()
        alerted = {(a[0], a[1]) for a in alerts}
        for a in alerts:
            buyer = ((a[2] or {}).get("numbers") or {}).get("buyer_id")
            if buyer:
                alerted.add(("buyer", str(buyer)))
        high_end = {(r[0], r[1]) for r in end if r[3] == "HIGH"}
        high_ever = {(r[0], r[1]) for r in ever}
        reasons = {(r[0], r[1]): (round(r[2], 3), r[4]) for r in end}
        seed_bands: dict[str, Any] = {}
        for etype, everyone in (
            ("seller", truth.sellers),
            ("buyer", truth.buyers),
            ("hub", truth.hubs),
            ("agent", truth.agents),
        ):
            honest = {(etype, e) for e in everyone} - planted
            fraud = {(etype, e) for e in everyone} & planted
            seed_bands[etype] = {
                "honest": len(honest),
                "honest_high_at_end": len(honest & high_end),
                "honest_high_ever": len(honest & high_ever),
                "honest_high_at_end_no_alert": len(honest & high_end - alerted),
                "honest_high_ever_no_alert": len(honest & high_ever - alerted),
                "planted": len(fraud),
                "planted_high_at_end": len(fraud & high_end),
                "planted_high_ever": len(fraud & high_ever),
                "honest_high_at_end_ids": sorted(
                    f"{e[1]} {reasons[e][0]} "
                    + ", ".join(
                        f"{x['code']} {x['contribution']:.2f}"
                        + (" few" if (x.get("numbers") or {}).get("too_few_events") else "")
                        for x in reasons[e][1]
                    )
                    for e in honest & high_end
                ),
                "honest_high_ever_no_alert_ids": sorted(e[1] for e in honest & high_ever - alerted),
            }
        bands[str(seed)] = seed_bands
        print(f"seed {seed} done: {table['_run']}", flush=True)
        print(json.dumps({k: {kk: vv for kk, vv in v.items() if not kk.endswith('_ids')} for k, v in seed_bands.items()}), flush=True)
    report = report_of(seeds, per_seed, seconds=time.monotonic() - started, mode="direct")
    (out / "fraud-eval-direct.json").write_text(json.dumps(report, indent=1, default=str))
    (out / "risk-bands.json").write_text(json.dumps(bands, indent=1))
    print_report(report, Console(width=200))
    print(json.dumps(bands, indent=1))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), [int(s) for s in sys.argv[2:]]))
