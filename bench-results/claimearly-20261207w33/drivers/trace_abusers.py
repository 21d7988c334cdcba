"""Trace every seller's claim-abuse test as fraud's scoring runs it on a drawn world.

Scores each world straight through fraud's scoring (as `fraud-eval --direct` does) with three
read-only wrappers: around `ClaimInputs.seller_tests` (the event, its time), the sequential
finding of `SELLER_CLAIM_RATE_SEQUENTIAL` (k, n, the honest population, the guard in
deliveries, the signs' log factor) and `claim_abuse.after_spell` (the recent weeks). Writes,
per world, every scoring of every seller and the world's truth (planted abusers, first planted
claim, deliveries and claims of every seller in world time) to OUT/trace-SEED.json.

usage: python trace_abusers.py RANGESET SEEDS OUT   (SEEDS: 4 -> the set's first four)
The stack is the DISPUTEDESK_* environment's, databases trace_fraud / trace_intake.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from disputedesk.simulate import direct as direct_mod
from disputedesk.simulate.evaluation import prepare_stack
from disputedesk.simulate.generator import generate
from disputedesk.simulate.ranges import RANGE_SETS, draw_market
from services.fraud.detectors import claim_abuse
from services.fraud.scoring import base as scoring_base
from services.fraud.scoring import claim_abuse as scoring_claims

RECORDS: list[dict[str, Any]] = []
CURRENT: list[dict[str, Any]] = []

_orig_seq = scoring_base.sequential_findings


def _seq(**kw: Any) -> Any:
    test, found = _orig_seq(**kw)
    if kw.get("code") == "SELLER_CLAIM_RATE_SEQUENTIAL" and CURRENT:
        s = kw["s"]
        CURRENT[-1]["seq"] = {
            "k": kw["k"],
            "n": kw["n"],
            "rate": kw["spread"].rate,
            "conc": kw["spread"].concentration,
            "min_trials": kw.get("min_trials", 0.0),
            "signs": kw.get("extra_log_bf", 0.0),
            "log_bf": test.log_bf,
            "alert_at": math.log(1 / s.alpha),
            "min_events": s.min_events,
            "alert": any(f.alert for f in found),
        }
    return test, found


_orig_spell = claim_abuse.after_spell


def _spell(findings: Any, recent: Any, s: Any) -> Any:
    out, over = _orig_spell(findings, recent, s)
    if CURRENT:
        CURRENT[-1]["recent"] = {
            "k": recent.k,
            "n": recent.n,
            "log_bf": recent.log_bf,
            "demoted": recent.log_bf <= 0,
        }
    return out, over


_orig_tests = scoring_claims.ClaimInputs.seller_tests


async def _tests(self: Any, facts: Any, totals: Any) -> Any:
    rec: dict[str, Any] = {
        "seller": facts.seller_id,
        "category": facts.category,
        "at": self.at.isoformat(),
        "return_id": facts.return_id,
    }
    CURRENT.append(rec)
    try:
        found, peers = await _orig_tests(self, facts, totals)
    finally:
        CURRENT.pop()
    rec["alert_codes"] = sorted({f.code for f in found if f.alert})
    rec["codes"] = {f.code: round(f.contribution, 3) for f in found}
    RECORDS.append(rec)
    return found, peers


scoring_base.sequential_findings = _seq  # type: ignore[assignment]
claim_abuse.after_spell = _spell  # type: ignore[assignment]
scoring_claims.ClaimInputs.seller_tests = _tests  # type: ignore[method-assign]


def world_facts(world: Any) -> dict[str, Any]:
    returns: dict[str, dict[str, Any]] = {}
    for a in world.actions:
        if a.kind == "return":
            returns[a.return_id] = {
                "seller": a.body.get("seller_id"),
                "category": a.body.get("category"),
            }
        elif a.kind == "scan" and a.body.get("type") == "DELIVERED_TO_SELLER":
            returns.setdefault(a.return_id, {})["delivered"] = a.at.isoformat()
        elif a.kind == "escalation":
            r = returns.setdefault(a.return_id, {})
            r["claimed"] = a.at.isoformat()
            r["claim_type"] = a.body.get("claim_type")
            r["incident"] = bool(a.facts.get("incident"))
    t = world.truth
    return {
        "returns": returns,
        "abusers": sorted(e for _, e in t.entities.get("claim_abuse", set())),
        "first_event": {
            k.split("|")[2]: v for k, v in t.to_json()["first_event"].items() if k.startswith("claim_abuse|")
        },
        "realized": {
            k.split("|")[2]: v for k, v in t.to_json()["realized"].items() if k.startswith("claim_abuse|")
        },
        "relevant": {
            k.split("|")[2]: v for k, v in t.to_json()["relevant"].items() if k.startswith("claim_abuse|")
        },
        "lookalikes": {k: sorted(e for _, e in v) for k, v in t.lookalikes.items()},
        "planted_sellers": sorted(
            {e for p, ents in t.entities.items() for et, e in ents if et == "seller"}
        ),
    }


async def main() -> None:
    set_name, count, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    seeds, ranges = RANGE_SETS[set_name]
    env, _, prepare = await asyncio.to_thread(prepare_stack, Path(os.environ["DISPUTEDESK_STATE_DIR"]))
    for seed in seeds[:count]:
        await asyncio.to_thread(prepare)
        world = generate(draw_market(seed, ranges), seed)
        RECORDS.clear()
        table = await direct_mod.score_directly(world, os.environ["FRAUD_DATABASE_URL"])
        (out / f"trace-{seed}.json").write_text(
            json.dumps(
                {
                    "seed": seed,
                    "records": RECORDS,
                    "world": world_facts(world),
                    "entities": [
                        e for e in table.get("_entities", []) if e["pattern"] == "claim_abuse"
                    ],
                    "sellers": {
                        k: v
                        for k, v in table.get("_honest", {}).items()
                        if k.startswith(("seller", "lookalike"))
                    },
                },
                default=str,
            )
        )
        print("seed", seed, "records", len(RECORDS), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
