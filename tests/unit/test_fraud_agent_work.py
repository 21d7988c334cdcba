"""A terminal scan's agent work: every hub's agents are weighed for each scan, so a hub whose
counts did not change since the last scan is not tested again, and the answer is exactly the
one computed afresh (ties in the growing order included)."""

from __future__ import annotations

import random

import pytest

from services.fraud.detectors import pilferage
from services.fraud.detectors import stats as fraud_stats
from services.fraud.detectors.pilferage import DayCount, agents_standing_out
from services.fraud.detectors.stats import Thresholds, parts_standing_out

T = Thresholds()


def _fresh(agents: dict[str, DayCount]) -> set[str]:
    return parts_standing_out(
        {a: (c.incidents, c.handled) for a, c in agents.items()}, T, prior_rate=pilferage.PRIOR_RATE
    )


def test_a_hubs_unchanged_agents_are_tested_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = fraud_stats.parts_standing_out

    def counted(*args: object, **kwargs: object) -> set[str]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pilferage, "stats_parts_standing_out", counted)
    hub = {f"AG-{i}": DayCount(handled=200 + i, incidents=3) for i in range(9)}
    hub["AG-BAD"] = DayCount(handled=210, incidents=40)
    first = agents_standing_out(hub, T)
    again = agents_standing_out(dict(hub), T)
    assert first == again == {"AG-BAD"}
    assert len(calls) == 1
    # A new count at the hub is a new question.
    hub["AG-0"] = DayCount(handled=201, incidents=3)
    assert agents_standing_out(hub, T) == {"AG-BAD"}
    assert len(calls) == 2


def test_the_remembered_answer_is_the_fresh_one() -> None:
    rng = random.Random(7)
    for _ in range(300):
        # Small hubs with equal rates: ties in the growing order, broken by the agents' order.
        hub = {
            f"AG-{rng.randrange(50)}": DayCount(
                handled=(n := rng.choice([10, 20, 40, 200])), incidents=rng.randrange(n // 4 + 1)
            )
            for _ in range(rng.randrange(1, 12))
        }
        assert agents_standing_out(hub, T) == _fresh(hub)
        assert agents_standing_out(hub, T) == _fresh(hub)
        reordered = dict(reversed(list(hub.items())))
        assert agents_standing_out(reordered, T) == _fresh(reordered)
