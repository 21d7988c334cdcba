"""An honest agent of a pilfering hub is not alerted in its hub's place (class B): its alert is
held to its hub (`pilferage.carried_by_hub`) whenever its mates run above an ordinary hub's
agents and it does not stand out against them."""

from __future__ import annotations

import math
import random
from datetime import date

from services.fraud.detectors import pilferage
from services.fraud.detectors.pilferage import DayCount
from services.fraud.detectors.stats import (
    PeerSpread,
    Thresholds,
    binomial_sf,
    sequential_log_bf,
)
from services.fraud.scoring.base import default_config

S = default_config().sequential
T = Thresholds()
START = date(2026, 1, 1)


def test_an_agent_beside_lucky_low_mates_of_a_pilfering_hub_is_held() -> None:
    # Development world 109 on the day AG-s109-0103 alerted: its hub H-s109-01 pilfers at 3.7x
    # (12 in 200), the agent 9 in 94, its two mates 3 in 106; an ordinary hub's agents 2 %.
    # The mates are above an ordinary hub but not significantly (the rule before held nothing).
    assert binomial_sf(3, 106, 0.02) > T.alpha_medium
    assert pilferage.carried_by_hub(DayCount(94, 9), DayCount(106, 3), 0.02, T) is not None
    # Wide world 5011's AG-s5011-0402 (8 in 31, its mates 8 in 88, ordinary 5 %) too.
    assert pilferage.carried_by_hub(DayCount(31, 8), DayCount(88, 8), 0.05, T) is not None


def test_an_agent_is_its_own_where_its_mates_run_ordinary_or_it_stands_out() -> None:
    # Mates at or below an ordinary hub: the agent is judged as before, however few they are.
    assert pilferage.carried_by_hub(DayCount(94, 9), DayCount(106, 2), 0.02, T) is None
    assert pilferage.carried_by_hub(DayCount(94, 9), DayCount(20, 0), 0.02, T) is None
    # Mates above ordinary, but the agent far above them.
    assert pilferage.carried_by_hub(DayCount(94, 14), DayCount(106, 3), 0.02, T) is None


def test_a_pilferer_at_an_honest_hub_is_seldom_held() -> None:
    # What the wider hold costs: a pilfering agent at 7 % beside two ordinary mates (2 %), each
    # of 40-150 parcels, drawn where its test alerts (its record standardised by its mates,
    # `hub_effect`, against agents alike at 2 %). Its mates run above an ordinary hub by luck in
    # about half the draws; it is held only where it does not also stand out against them.
    rng = random.Random(5)

    def draw(rate: float, n: int) -> DayCount:
        return DayCount(n, sum(rng.random() < rate for _ in range(n)))

    alerted = held = 0
    for _ in range(2000):
        me = draw(0.07, rng.randint(40, 150))
        mates = [draw(0.02, rng.randint(40, 150)) for _ in range(2)]
        both = DayCount(sum(m.handled for m in mates), sum(m.incidents for m in mates))
        expected = pilferage.hub_effect(both.incidents, both.handled, 0.02, T, 500.0)
        trials = max(round(me.handled * expected / 0.02), me.incidents)
        if me.incidents < S.min_events or sequential_log_bf(
            me.incidents, trials, PeerSpread(0.02, 1000.0), S
        ) < math.log(1 / S.alpha):
            continue
        alerted += 1
        held += pilferage.carried_by_hub(me, both, 0.02, T) is not None
    # 374 alert, 7 held (1.9 %).
    assert alerted >= 300
    assert held <= 0.04 * alerted
