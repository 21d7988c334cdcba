"""One bad day across a midnight (`pilferage.bad_spells`): a storm's incidents are counted on the
days their journeys' ends are scanned, hours apart, and a UTC midnight may fall among them. The
spell is set aside whole when it stands apart; a practice spread over the days never is."""

from __future__ import annotations

import random
from datetime import date, timedelta

from services.fraud.detectors.pilferage import (
    DayCount,
    bad_spells,
    counted,
    counted_from_each,
    onsets,
)
from services.fraud.detectors.stats import Thresholds

T = Thresholds()
START = date(2026, 11, 2)


def ordinary(days: int = 35, parcels: int = 12, every: int = 4) -> dict[date, DayCount]:
    """An honest hub's days: `parcels` a day, an incident every `every` days (about 2 %)."""
    return {
        START + timedelta(days=i): DayCount(parcels, 1 if i % every == 2 else 0)
        for i in range(days)
    }


def with_storm(days: dict[date, DayCount], first: int, before: int, after: int) -> None:
    """A storm's damages declared `before` midnight on day `first` and `after` it, next day."""
    for i, extra in ((first, before), (first + 1, after)):
        d = START + timedelta(days=i)
        c = days[d]
        days[d] = DayCount(c.handled + extra, c.incidents + extra)


def test_a_storm_across_midnight_leaves_the_record_whole() -> None:
    # Eight damages declared over a night: three before midnight, five after. The worst day
    # alone (five) left the three in the hub's record, as many as its own honest incidents
    # of two weeks. Set aside whole, the spell takes its days' own incident along (day 18's).
    days = ordinary()
    k, n = counted(days, None, T)
    with_storm(days, 17, 3, 5)
    assert counted(days, None, T) == (k - 1, n - 2 * 12)


def test_the_neighbour_goes_only_with_the_worst_day_and_only_when_it_had_an_incident() -> None:
    days = ordinary()
    with_storm(days, 17, 3, 5)
    storm_day, eve = days[START + timedelta(days=18)], days[START + timedelta(days=17)]
    assert bad_spells(days) == (
        DayCount(storm_day.handled + eve.handled, storm_day.incidents + eve.incidents),
        storm_day,
    )
    clean = ordinary(every=100)
    clean[START + timedelta(days=10)] = DayCount(12, 7)
    assert bad_spells(clean) == (DayCount(12, 7),)
    assert bad_spells({}) == ()


def test_a_storm_on_one_day_is_left_out_as_before() -> None:
    days = ordinary()
    k, n = counted(days, None, T)
    with_storm(days, 17, 0, 8)
    assert counted(days, None, T) == (k - 1, n - 12)


def test_a_practice_spread_over_the_days_keeps_its_whole_record() -> None:
    # A hub losing three times the ordinary share, one or two parcels on most days: no spell
    # stands apart from the others, and every incident counts.
    rng = random.Random(21)
    for _ in range(50):
        days = {START + timedelta(days=i): DayCount(12, 0) for i in range(35)}
        for d in days:
            days[d] = DayCount(12, sum(rng.random() < 0.06 for _ in range(12)))
        k = sum(c.incidents for c in days.values())
        if max(c.incidents for c in days.values()) <= 2:
            assert counted(days, None, T) == (k, 35 * 12)


def test_every_onsets_record_sets_its_own_spell_aside() -> None:
    # A storm on days 17-18 and onsets every 7 days: a record starting on day 18 holds the
    # storm's day but not its eve, and sets aside what it holds.
    days = ordinary()
    with_storm(days, 17, 3, 5)
    grid = onsets(START, START + timedelta(days=35), 7)
    for onset, got in zip(grid, counted_from_each(days, grid, None, T), strict=True):
        part = {d: c for d, c in days.items() if d >= onset}
        assert got == counted(part, None, T)
    late = {d: c for d, c in days.items() if d >= START + timedelta(days=18)}
    assert counted(late, None, T)[0] == sum(c.incidents for c in late.values()) - 6
