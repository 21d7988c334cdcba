# pilf3-20261207w31/trace_hub.py, the return chosen with the hub last (the hub the record is kept for).
"""A hub's pilferage test as fraud reads it, day by day, on a settled fworld database: fraud's
own scoring (`PilferageInputs.pilferage`, `as_of` each day's end) on one of the hub's
delivered returns, its inputs and outcomes recorded. Read only (rolled back).
    python trace_hub.py DATABASE_URL HUB FROM_DAY TO_DAY [HOUR]"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from services.fraud.detectors import pilferage
from services.fraud.features.service import counted_hubs
from services.fraud.models import ReturnFacts
from services.fraud.scoring import pilferage as scoring_pilferage
from services.fraud.scoring.base import default_config
from services.fraud.scoring.service import Assessor
from shared.events import ReturnShipmentEvent, ShipmentEventType

url, hub = sys.argv[1], sys.argv[2]
first, last = date.fromisoformat(sys.argv[3]), date.fromisoformat(sys.argv[4])
hour = int(sys.argv[5]) if len(sys.argv) > 5 else 23
PATTERN = "PILFERAGE_HUB"

record: dict[str, Any] = {}
orig_counted = pilferage.counted


def counted(days: Any, excluded: Any, t: Any) -> Any:
    out = orig_counted(days, excluded, t)
    record.setdefault("counted", []).append((sum(d.handled for d in days.values()),
                                             sum(d.incidents for d in days.values()), excluded, out))
    return out


pilferage.counted = counted  # type: ignore[assignment]
orig_one = pilferage.one_agents_excess


def one_agents_excess(worst: Any, others: Any, rest_log_bf: float, spread: Any, s: Any, t: Any) -> bool:
    out = orig_one(worst, others, rest_log_bf, spread, s, t)
    record["one_agent"] = (worst, sum(k for k, _ in others), sum(n for _, n in others),
                           round(rest_log_bf, 2), out)
    return out


pilferage.one_agents_excess = one_agents_excess  # type: ignore[assignment]
orig_std = pilferage.standardised
orig_standing = pilferage.agents_standing_out


def standardised(*args: Any, **kw: Any) -> Any:
    out = orig_std(*args, **kw)
    record["std"] = out[0]
    return out


def agents_standing_out(agents: Any, t: Any) -> Any:
    out = orig_standing(agents, t)
    record.setdefault("standing", []).append((dict(agents), set(out)))
    return out


pilferage.standardised = standardised  # type: ignore[assignment]
pilferage.agents_standing_out = agents_standing_out  # type: ignore[assignment]


async def main() -> None:
    engine = create_async_engine(url)
    sm = async_sessionmaker(engine, expire_on_commit=False)
    cfg = default_config()
    async with sm() as session:
        rows = (await session.execute(select(ReturnFacts).where(ReturnFacts.hubs.isnot(None)))).scalars()
        facts = None
        for f in rows:
            hubs, _ = counted_hubs(f)
            if hubs and hubs[-1] == hub:
                facts = f
                break
        assert facts is not None, "no return counted at the hub"
        facts.pickup_agent_id = None  # the hub's test alone (rolled back)
        print(f"return {facts.return_id}: hubs {counted_hubs(facts)[0]}")
        print("day | raw k/n (excl.) | counted k/n | agents left out | whole: k/n peer conc logBF | onset: k/n logBF | held by one agent (worst k,n; mates k/n; rest logBF; agent's?) | findings")
        day = first
        while day <= last:
            at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            payload = ReturnShipmentEvent(
                event_id=uuid4(), partner_id="trace", partner_event_id="trace",
                return_id=facts.return_id, awb="trace", event_type=ShipmentEventType.DELIVERED_TO_SELLER,
                occurred_at=at, hub_id=hub, agent_id=None, weight_g=None,
                pod_otp_verified=None, raw_ref="trace",
            )
            a = Assessor(session, payload, cfg)
            record.clear()
            tests: dict[str, Any] = {}
            orig_seq, orig_onset = a.sequential_test, a.onset_test

            def seq(**kw: Any) -> Any:
                found = orig_seq(**kw)
                if kw["entity"] == ("hub", hub):
                    tests["whole"] = a.sequential.get((PATTERN, "hub", hub))
                return found

            def onset(**kw: Any) -> Any:
                before = a.sequential.get((PATTERN, "hub", hub))
                found = orig_onset(**kw)
                if kw["entity"] == ("hub", hub):
                    after = a.sequential.get((PATTERN, "hub", hub))
                    tests["onset"] = after if after is not before else None
                    tests["onset_found"] = [(f.code, round(f.numbers.get("log_bayes_factor", 0), 2), f.numbers.get("count"), f.numbers.get("trials")) for f in found]
                return found

            a.sequential_test, a.onset_test = seq, onset  # type: ignore[method-assign]
            orig_telling = a.telling
            told: list[Any] = []

            def telling(*args: Any, **kw: Any) -> Any:
                out = orig_telling(*args, **kw)
                if out:
                    told.append(args[:2])
                return out

            a.telling = telling  # type: ignore[method-assign]
            await a.pilferage(facts)
            found = a.evaluated.get(("hub", hub), [])
            w = tests.get("whole")
            o = tests.get("onset_found") or []
            c = [x for x in record.get("counted", [])][-1] if record.get("counted") else None
            excl = c[2] if c else None
            print(
                f"{day} | {c[1] if c else '-'}/{c[0] if c else '-'} ({(excl.incidents, excl.handled) if excl else '-'}) "
                f"| {c[3] if c else '-'} | "
                f"| {w.k}/{w.n} {w.peer:.4f} {w.concentration:.0f} {w.log_bf:.2f} " if w else "| - ",
                f"| {o} | {record.get('one_agent')} | "
                + "; ".join(f"{f.code} {f.band if hasattr(f, 'band') else ''} {f.numbers.get('log_bayes_factor', '')}" for f in found),
                flush=True,
            )
            if len(sys.argv) > 6:
                std = record.get("std", {})
                telling_agents = sorted({a_ for a_, v in std.items() if tuple(v) in {tuple(x) for x in told}})
                at_hub = next((ag for ag, _ in record.get("standing", []) if any(hub in str(x) for x in ())), None)
                print("   agents telling against their own mates (explain every hub they pass):", telling_agents)
                for agents, out in record.get("standing", [])[:1]:
                    pass
                print("   agents standing out at hubs (first read):", [sorted(o) for _, o in record.get("standing", []) if o])
            day += timedelta(days=1)
        await session.rollback()
    await engine.dispose()


asyncio.run(main())
