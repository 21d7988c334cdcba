"""Score one simulated world with several consumer batch sizes and diff what fraud decided.

Detection must not depend on how a consumer happens to batch its events: the same events in the
same order, scored in batches of 1, 50 or 400, must give the same assessments and alerts. This
driver scores one world (`fraud-eval --direct`'s events, in event order) once per batch size,
each against a fresh fraud database, and prints the first assessment whose band, score or
reasons differ between two batchings, with the alerts each raised.

    DISPUTEDESK_STATE_DIR=... DISPUTEDESK_PG_PORT=... .venv/bin/python -m bench.fraud_batching \
        --seed 101 --days 21 --batches 1,400 --out bench-results/x.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any


def arrival(world: Any, overtake_h: float) -> list[tuple[int, Any]]:
    """The world's actions (with their index, which names their event) in the order a consumer
    that expedites escalations handles them: each escalation ahead of the other events of up
    to `overtake_h` hours before it (`FRAUD_CONSUMER_EXPEDITE_OVERTAKE_S`); 0: event order."""
    ahead = timedelta(hours=overtake_h)
    indexed = list(enumerate(world.actions))
    return sorted(
        indexed, key=lambda ia: ia[1].at - ahead if ia[1].kind == "escalation" else ia[1].at
    )


def with_decisions(world: Any, events: list[tuple[Any, Any]], lag: int) -> list[tuple[Any, Any]]:
    """`events` with a case decision for each escalation, `lag` events after it, stamped an
    hour after the world's last action: what reconciliation's clock stamps in a replay (a
    world's history sent in minutes), reaching fraud where its consumer's lag puts it."""
    from uuid import NAMESPACE_URL, uuid5

    from shared.events import CaseDecided, CaseOrigin, CaseState, SellerEscalationFiled

    stamp = max(a.at for a in world.actions) + timedelta(hours=1)
    inserts: dict[int, list[tuple[Any, Any]]] = {}
    for n, (event_id, payload) in enumerate(events):
        if isinstance(payload, SellerEscalationFiled):
            decided = CaseDecided(
                case_id=f"CASE-{payload.return_id}",
                case_version=2,
                return_id=payload.return_id,
                seller_id=payload.seller_id,
                claim_type=payload.claim_type,
                origin=CaseOrigin.SELLER,
                state=CaseState.DECIDED,
                previous_state=CaseState.OPEN,
                actor="system",
                reason="decided",
                occurred_at=stamp,
            )
            target = min(n + lag, len(events) - 1)
            inserts.setdefault(target, []).append(
                (uuid5(NAMESPACE_URL, f"sim/{world.seed}/decided/{event_id}"), decided)
            )
    out: list[tuple[Any, Any]] = []
    for n, event in enumerate(events):
        out.append(event)
        out += inserts.get(n, [])
    return out


async def _score(
    world: Any, database_url: str, batch: int, overtake_h: float = 0.0, lag: int | None = None
) -> dict[str, Any]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from disputedesk.simulate.direct import canonical_event, score_batch
    from services.fraud.models import Alert, Assessment

    engine = create_async_engine(database_url)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    started = time.monotonic()
    order: dict[str, int] = {}
    try:
        every = [canonical_event(world, i, a) for i, a in arrival(world, overtake_h)]
        if lag is not None:
            every = with_decisions(world, every, lag)
        for start in range(0, len(every), batch):
            events = every[start : start + batch]
            for n, (event_id, _) in enumerate(events):
                order[str(event_id)] = start + n
            await score_batch(sessionmaker, events)
        async with sessionmaker() as session:
            rows = (
                await session.execute(
                    select(
                        Assessment.subject_event_id,
                        Assessment.revision,
                        Assessment.subject_type,
                        Assessment.return_id,
                        Assessment.band,
                        Assessment.score,
                        Assessment.reasons,
                        Assessment.escalation_id,
                        Assessment.assessed_at,
                    )
                )
            ).all()
            alerts = (
                await session.execute(
                    select(
                        Alert.pattern,
                        Alert.entity_type,
                        Alert.entity_id,
                        Alert.status,
                        Alert.event_time,
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assessments = {
        f"{r.subject_event_id}/{r.revision}": {
            "at": order.get(str(r.subject_event_id), -1),
            "type": r.subject_type,
            "return_id": r.return_id,
            "band": r.band,
            "score": round(r.score, 6),
            "reasons": sorted(json.dumps(_stable(x), sort_keys=True) for x in r.reasons),
        }
        for r in rows
    }
    return {
        "batch": f"{batch}/{overtake_h:g}h" + (f"+d{lag}" if lag is not None else ""),
        "seconds": round(time.monotonic() - started, 1),
        "assessments": assessments,
        "gate": gate_bands(rows),
        "alerts": sorted(f"{a.pattern}/{a.entity_type}/{a.entity_id}/{a.status}" for a in alerts),
        "first_alerted": first_alerted(alerts),
    }


def first_alerted(alerts: Any) -> dict[str, str]:
    """Per alerted subject (pattern/entity type/entity id), the event time of its first alert:
    when fraud found it, in the world's time."""
    first: dict[str, Any] = {}
    for a in alerts:
        key = f"{a.pattern}/{a.entity_type}/{a.entity_id}"
        if a.event_time is not None and (key not in first or a.event_time < first[key]):
            first[key] = a.event_time
    return {k: v.isoformat() for k, v in sorted(first.items())}


def alerted_later(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Per pattern, the subjects both runs alerted whose first alert came at another event time
    in `b` than in `a`: how many came later, how many earlier, and the hours of each."""
    from datetime import datetime

    xa, xb = a.get("first_alerted", {}), b.get("first_alerted", {})
    out: dict[str, Any] = {}
    for key in sorted(set(xa) & set(xb)):
        hours = (
            datetime.fromisoformat(xb[key]) - datetime.fromisoformat(xa[key])
        ).total_seconds() / 3600
        if abs(hours) < 1e-6:
            continue
        row = out.setdefault(key.split("/")[0], {"later": 0, "earlier": 0, "hours": {}})
        row["later" if hours > 0 else "earlier"] += 1
        row["hours"][key.split("/", 1)[1]] = round(hours, 1)
    return out


_SEVERITY = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}


def gate_bands(rows: Any) -> dict[str, str]:
    """Per escalation, the band reconciliation's fraud gate reads once every assessment is in:
    the latest by `assessed_at` of those naming the escalation (its own, its revisions, and the
    events about its claim), the more severe at equal times (`policy.facts.band_of`)."""
    latest: dict[str, tuple[Any, int, str]] = {}
    for r in rows:
        if r.escalation_id is None:
            continue
        key = (r.assessed_at, _SEVERITY[r.band], r.band)
        if r.escalation_id not in latest or key > latest[r.escalation_id]:
            latest[r.escalation_id] = key
    return {e: band for e, (_, _, band) in latest.items()}


def _stable(reason: dict[str, Any]) -> dict[str, Any]:
    """A reason without what differs by construction between two runs (an alert's random id)."""
    numbers = {k: v for k, v in (reason.get("numbers") or {}).items() if k != "alert_id"}
    return {**reason, "numbers": numbers}


def _decided(assessed: dict[str, Any] | None) -> dict[str, Any] | None:
    """What fraud decided of an event, without where in the arrival it was scored."""
    return None if assessed is None else {k: v for k, v in assessed.items() if k != "at"}


def _by_type(differing: list[dict[str, Any]], a: str, b: str) -> dict[str, list[int]]:
    """Per event type (revisions apart): [assessments differing, of them bands differing]."""
    out: dict[str, list[int]] = {}
    for d in differing:
        x, y = d[a] or {}, d[b] or {}
        kind = (x or y)["type"].rsplit(".", 2)[-2] + ("" if d["key"].endswith("/0") else "/rev")
        counts = out.setdefault(kind, [0, 0])
        counts[0] += 1
        counts[1] += x.get("band") != y.get("band")
    return out


def diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What differs between two batchings: assessments (by event and revision, in the order
    they were scored) and alerts."""
    xa, xb = a["assessments"], b["assessments"]
    differing = []
    for key in sorted(set(xa) | set(xb), key=lambda k: (xa.get(k) or xb[k])["at"]):
        if _decided(xa.get(key)) != _decided(xb.get(key)):
            differing.append({"key": key, a["batch"]: xa.get(key), b["batch"]: xb.get(key)})
    return {
        "batches": [a["batch"], b["batch"]],
        "assessments": [len(xa), len(xb)],
        "differing": len(differing),
        "band_differs": sum(
            1
            for d in differing
            if (d[a["batch"]] or {}).get("band") != (d[b["batch"]] or {}).get("band")
        ),
        "by_type": _by_type(differing, a["batch"], b["batch"]),
        # What a lag leaves of it where it matters: the bands the fraud gate reads in the end.
        "gate_bands_differing": sum(
            1 for e in set(a["gate"]) | set(b["gate"]) if a["gate"].get(e) != b["gate"].get(e)
        ),
        "first": differing[:5],
        "alerts_by_pattern": {
            r["batch"]: dict(sorted(Counter(x.split("/")[0] for x in r["alerts"]).items()))
            for r in (a, b)
        },
        "alerts_only_in": {
            a["batch"]: sorted(set(a["alerts"]) - set(b["alerts"])),
            b["batch"]: sorted(set(b["alerts"]) - set(a["alerts"])),
        },
        # When each subject was first alerted, in event time: an arrival order that delays an
        # alert shows here though the final alerts are the same.
        "first_alert_moved": alerted_later(a, b),
    }


async def main() -> None:
    from disputedesk.simulate.evaluation import prepare_stack
    from disputedesk.simulate.generator import generate
    from disputedesk.simulate.ranges import RANGE_SETS, draw_market

    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=101)
    p.add_argument("--ranges", default="dev")
    p.add_argument("--days", type=int, default=21)
    p.add_argument(
        "--batches",
        default="1,400",
        help="batch sizes, each optionally /H (escalations H h ahead) and +dL (a case "
        "decision stamped after the world, L events after each escalation)",
    )
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    state = await asyncio.to_thread(
        lambda: Path(os.environ.get("DISPUTEDESK_STATE_DIR", ".state/eval")).resolve()
    )
    _, _, prepare = await asyncio.to_thread(prepare_stack, state)
    market = draw_market(args.seed, RANGE_SETS[args.ranges][1])
    market = replace(market, days=min(args.days, market.days))
    world = generate(market, args.seed)
    runs = []
    for shape in args.batches.split(","):
        shape, _, decisions = shape.partition("+d")
        size, _, hours = shape.partition("/")
        await asyncio.to_thread(prepare)
        run = await _score(
            world,
            os.environ["FRAUD_DATABASE_URL"],
            int(size),
            float(hours.rstrip("h") or 0),
            int(decisions) if decisions else None,
        )
        print(f"batch {run['batch']}: {len(run['assessments'])} assessments, {run['seconds']} s")
        runs.append(run)
    diffs = [diff(runs[0], r) for r in runs[1:]]
    for d in diffs:
        print(json.dumps({k: v for k, v in d.items() if k != "first"}, indent=1))
        for f in d["first"][:3]:
            print(json.dumps(f, indent=1))
    text = json.dumps({"seed": args.seed, "actions": len(world.actions), "diffs": diffs}, indent=1)
    await asyncio.to_thread(args.out.parent.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(args.out.write_text, text)


if __name__ == "__main__":
    asyncio.run(main())
