"""Reused peer baselines of large populations (scoring.baselines): pure logic over a stand-in
engine; the population is read through the given loader."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from services.fraud.detectors.stats import Thresholds, robust_peer_counts
from services.fraud.scoring.baselines import BaselinePolicy, peer_baselines

T = Thresholds()
AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
POLICY = BaselinePolicy(min_peers=50, max_drift=timedelta(hours=1))
RATES = [("claims", "delivered", 0.05)]


class Engine:
    """Stands in for a database engine: weakly referenceable, compared by identity."""


class Population:
    """Peers with 2 claims in 40 deliveries each, and one claim abuser; counts reads."""

    def __init__(self, size: int) -> None:
        self.counts: dict[str, dict[str, int]] = {
            f"B{i}": {"claims": 2, "delivered": 40} for i in range(size)
        }
        self.counts["ABUSER"] = {"claims": 30, "delivered": 40}
        self.reads = 0

    async def load(self) -> dict[str, dict[str, int]]:
        self.reads += 1
        return {k: dict(v) for k, v in self.counts.items()}


def ask(engine: Any, pop: Population, own_id: str, at: datetime = AT) -> tuple[int, int]:
    session: Any = SimpleNamespace(bind=SimpleNamespace(sync_engine=engine))
    out = asyncio.run(
        peer_baselines(
            session,
            population=("buyer", "", "long"),
            rates=RATES,
            own_id=own_id,
            own=pop.counts.get(own_id, {}),
            at=at,
            t=T,
            policy=POLICY,
            load=pop.load,
        )
    )
    return out["claims"]


def exact(pop: Population, own_id: str) -> tuple[int, int]:
    return robust_peer_counts(
        [(v["claims"], v["delivered"]) for k, v in pop.counts.items() if k != own_id],
        T,
        prior_rate=0.05,
    )


def test_a_large_population_is_read_once_and_each_entity_is_taken_out_of_it() -> None:
    engine, pop = Engine(), Population(100)
    first = ask(engine, pop, "B1")
    assert first == exact(pop, "B1") == (2 * 100 - 2, 40 * 100 - 40)
    # The next entities reuse it: an ordinary peer comes out of the kept peers, the abuser was
    # never among them.
    assert ask(engine, pop, "B7") == exact(pop, "B7")
    assert ask(engine, pop, "ABUSER") == exact(pop, "ABUSER") == (200, 4000)
    assert pop.reads == 1


def test_a_reused_baseline_is_read_again_when_event_time_moves_on() -> None:
    engine, pop = Engine(), Population(100)
    ask(engine, pop, "B1")
    pop.counts["B1"] = {"claims": 3, "delivered": 80}
    ask(engine, pop, "B2", AT + timedelta(minutes=59))
    assert pop.reads == 1
    assert ask(engine, pop, "B2", AT + timedelta(hours=2)) == exact(pop, "B2")
    assert pop.reads == 2
    # Event time running backwards (late events) counts as moving too.
    ask(engine, pop, "B2", AT - timedelta(hours=2))
    assert pop.reads == 3


def test_a_small_population_is_read_for_every_event_and_engines_never_share() -> None:
    engine, small = Engine(), Population(10)
    ask(engine, small, "B1")
    ask(engine, small, "B2")
    assert small.reads == 2
    large = Population(100)
    ask(engine, large, "B1")
    ask(Engine(), large, "B1")
    assert large.reads == 2


def test_a_kept_baseline_is_the_same_however_long_scoring_takes(monkeypatch: Any) -> None:
    """Whether a baseline is read again depends on event time alone: the same events scored
    fast (a batch at a time) or slowly (one event a transaction, a loaded machine) get the same
    peers. With a wall-clock expiry, a consumer further behind read the population at other
    events and the same world was scored differently."""
    clock = [1000.0]
    monkeypatch.setattr("time.monotonic", lambda: clock[0])
    answers = []
    for pause in (0.0, 600.0):  # seconds of wall time between two events
        engine, pop = Engine(), Population(100)
        ask(engine, pop, "B1")
        pop.counts["B1"] = {"claims": 3, "delivered": 80}
        clock[0] += pause
        answers.append((ask(engine, pop, "B2", AT + timedelta(minutes=30)), pop.reads))
    assert answers[0] == answers[1], answers
