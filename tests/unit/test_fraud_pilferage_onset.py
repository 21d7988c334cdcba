"""Pilferage weighed from its likeliest onset (`stats.onset_sequential_test`,
`pilferage.onsets`, `pilferage.counted_from`): a practice that starts partway is found without
the honest weeks before it diluting it, at the stated false-alarm rate; and an agent whose
excess is its hub's (`pilferage.carried_by_hub`)."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from services.fraud.detectors.pilferage import (
    DayCount,
    carried_by_hub,
    counted,
    counted_from,
    counted_from_each,
    histories_before,
    looks_per_window,
    onset_of,
    onsets,
)
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    Thresholds,
    onset_sequential_test,
    sequential_test,
)

# The production rates (FRAUD_SEQ_ALPHA 0.005), the pilferage window and onset grid.
S = Sequential(alpha=5e-3)
T = Thresholds()
WINDOW, STEP = 56, 7
LOOKS = looks_per_window(WINDOW, STEP)
ALERT_AT = math.log(1 / S.alpha)
START = date(2026, 1, 1)


def _record(rng: random.Random, rates: list[float], per_day: int) -> dict[date, DayCount]:
    days = {}
    for i, rate in enumerate(rates):
        n = per_day
        days[START + timedelta(days=i)] = DayCount(n, sum(rng.random() < rate for _ in range(n)))
    return days


def _alerts(
    days: dict[date, DayCount], spread: PeerSpread, *, history_days: int = 0
) -> tuple[bool, bool]:
    """Whether the whole-window test and the onset test ever alert, looked at after every day
    (scoring looks after every event; a day is the finest grain the onset test changes on).
    `history_days`: each onset's record weighed given the entity's own days before it."""
    whole = onset = False
    for i in range(1, len(days) + 1):
        until = START + timedelta(days=i - 1)
        since = until - timedelta(days=WINDOW)
        seen = {d: c for d, c in days.items() if since <= d <= until}
        k = sum(c.incidents for c in seen.values())
        n = sum(c.handled for c in seen.values())
        if k >= S.min_events and sequential_test(k, n, spread, S).log_bf >= ALERT_AT:
            whole = True
        grid = onsets(since, until, STEP)
        records = [counted_from(seen, o, None, T) for o in grid]
        past = {d: c for d, c in days.items() if d <= until}
        histories = histories_before(past, grid, history_days) if history_days else None
        best = onset_sequential_test(records, LOOKS, spread, S, histories=histories)
        if best is not None and best.k >= S.min_events and best.log_bf >= ALERT_AT:
            onset = True
    return whole, onset


def test_onsets_are_fixed_calendar_days_after_the_windows_first() -> None:
    since, until = date(2026, 1, 1), date(2026, 2, 26)
    grid = onsets(since, until, STEP)
    assert len(grid) == LOOKS == 8
    assert all(since < d <= until for d in grid)
    assert all((b - a).days == STEP for a, b in zip(grid, grid[1:], strict=False))
    # The same days for every scan: a day later, the grid only gains (or loses) its ends.
    later = onsets(since + timedelta(days=1), until + timedelta(days=1), STEP)
    assert set(grid) & set(later) == set(grid) - {since + timedelta(days=1)}


def test_the_onset_test_is_the_onsets_factors_averaged_over_the_looks() -> None:
    spread = PeerSpread(0.02, 400)
    records = [(3, 300), (9, 150), (2, 40)]
    best = onset_sequential_test(records, 8, spread, S)
    # The record that tells most is reported; its factor is every onset's, weighed 1/8 each:
    # above the largest less the looks (what each onset alone is charged), never above it.
    assert best is not None and (best.k, best.n) == (9, 150)
    factors = [math.exp(sequential_test(k, n, spread, S).log_bf) for k, n in records]
    assert math.isclose(best.log_bf, math.log(sum(factors) / 8), rel_tol=1e-12)
    assert math.log(max(factors)) - math.log(8) < best.log_bf <= math.log(max(factors))
    assert onset_sequential_test([], 8, spread, S) is None


def test_honest_entities_rarely_ever_alert_from_an_onset() -> None:
    # Honest hubs drawn from the peers' Beta spread (rate 2 %, concentration 400), 10 parcels a
    # day for 112 days (two windows), looked at daily: the share that ever alert from an onset
    # is bounded by alpha per window (alpha/8 per onset, about 4.3 onsets a month: at most
    # 0.27 % per entity-month); it stays below alpha over the two windows.
    rng = random.Random(21)
    spread = PeerSpread(0.02, 400)
    ever = 0
    entities = 300
    for _ in range(entities):
        own = rng.betavariate(0.02 * 400, 0.98 * 400)
        _, onset = _alerts(_record(rng, [own] * 112, 10), spread)
        ever += onset
    assert ever / entities <= S.alpha


def test_a_practice_starting_halfway_is_found_from_its_onset_more_often() -> None:
    # Honest (2 %) for four weeks, then at 4x for four, 15 parcels a day: the whole window
    # keeps the honest weeks and finds few of them (2 of 30 with this seed); the record from
    # the practice's onset finds most (20 of 30).
    rng = random.Random(5)
    spread = PeerSpread(0.02, 400)
    whole_found = onset_found = 0
    for _ in range(30):
        whole, onset = _alerts(_record(rng, [0.02] * 28 + [0.08] * 28, 15), spread)
        whole_found += whole
        onset_found += onset
    assert onset_found >= whole_found + 10
    assert onset_found / 30 >= 0.5


def test_a_record_from_an_onset_leaves_a_standing_apart_day_and_explaining_parcels_out() -> None:
    days = {START + timedelta(days=i): DayCount(20, 0) for i in range(28)}
    days[START + timedelta(days=20)] = DayCount(20, 9)  # a bad day
    days[START + timedelta(days=22)] = DayCount(20, 1)
    onset = START + timedelta(days=14)
    # 14 days of 20 parcels; the bad day stands apart and leaves.
    assert counted_from(days, onset, None, T) == (1, 260)
    # An explaining agent handled 140 of the window's 560 parcels with 1 incident: the record
    # holds half the window's parcels, so 70 of them leave with its incident (and the bad day).
    assert counted_from(days, onset, DayCount(140, 1), T) == (0, 190)


def test_every_onsets_record_counted_in_one_pass_is_each_record_counted_alone() -> None:
    # Records with ties for the worst day, days out of order, empty stretches, bad days and
    # explaining parcels: one pass over the days gives what counting each record afresh does.
    rng = random.Random(8)
    for trial in range(300):
        picked = rng.sample(range(56), rng.randint(0, 56))
        days = {}
        for i in picked:
            n = rng.randint(0, 25)
            days[START + timedelta(days=i)] = DayCount(n, min(n, rng.choice([0, 0, 1, 1, 2, 7])))
        excluded = rng.choice(
            [None, DayCount(0, 0), DayCount(rng.randint(1, 200), rng.randint(0, 4))]
        )
        grid = onsets(START, START + timedelta(days=56), STEP)
        whole = sum(c.handled for c in days.values())
        expected = []
        for onset in grid:
            part = {d: c for d, c in days.items() if d >= onset}
            share = sum(c.handled for c in part.values()) / whole if whole else 0.0
            left_out = excluded
            if excluded is not None and excluded.handled:
                left_out = DayCount(round(excluded.handled * share), excluded.incidents)
            expected.append(counted(part, left_out, T))
        assert counted_from_each(days, grid, excluded, T) == expected, trial


def test_an_honest_agent_at_a_pilfering_hub_carries_the_hubs_excess() -> None:
    # The hub runs at 3x an ordinary hub's 2 %: the agent at 7 % is no worse than its mates.
    assert carried_by_hub(DayCount(100, 7), DayCount(300, 18), 0.02, T) is not None


def test_a_pilfering_agent_at_an_honest_hub_is_its_own() -> None:
    # Mates like any hub's: nothing to lay on the hub.
    assert carried_by_hub(DayCount(200, 14), DayCount(300, 6), 0.02, T) is None
    # Mates running high, but the agent far above them: its own.
    assert carried_by_hub(DayCount(200, 30), DayCount(300, 15), 0.02, T) is None


def test_the_luckiest_of_a_hubs_agents_stands_out_only_past_their_number() -> None:
    # Wide world 5003, day 48: an honest agent at a pilfering hub of four agents holds 16 of
    # the 95 incidents on 82 of the 947 parcels (p = 0.005 that one agent's share runs so
    # high). One of four shares runs so high about four times as often: the hub's excess.
    agent, mates = DayCount(82, 16), DayCount(865, 79)
    assert carried_by_hub(agent, mates, 0.0526, T) is None
    assert carried_by_hub(agent, mates, 0.0526, T, agents=4) is not None
    # A pilfering agent at a pilfering hub, far above its mates, is its own however many.
    assert carried_by_hub(DayCount(200, 40), DayCount(300, 15), 0.02, T, agents=4) is None
    # And one at an honest hub: mates like any hub's.
    assert carried_by_hub(DayCount(200, 14), DayCount(300, 6), 0.02, T, agents=4) is None


def test_an_onset_finding_names_the_onset_its_record_is_counted_from() -> None:
    grid = [START + timedelta(days=7 * i) for i in range(4)]
    records = [(9, 300), (9, 220), (8, 150), (3, 40)]
    histories = [(0, 0), (0, 80), (1, 150), (6, 260)]
    numbers = {"count": 8, "trials": 150, "history_count": 1, "history_trials": 150}
    assert onset_of(numbers, grid, records, histories) == grid[2]
    # No history is reported when the onset has none before it.
    assert onset_of({"count": 9, "trials": 300}, grid, records, histories) == grid[0]
    # A whole-window finding's record is no onset's.
    assert onset_of({"count": 12, "trials": 400}, grid, records, histories) is None


def test_each_onsets_history_is_the_fixed_span_of_days_before_it() -> None:
    days = {START + timedelta(days=i): DayCount(10, i % 3 == 0) for i in range(40)}
    grid = [START + timedelta(days=7), START + timedelta(days=35)]
    # Days 0-6 (an incident on days 0, 3 and 6), then days 7-34 (on 9, 12, ..., 33).
    assert histories_before(days, grid, 28) == [(3, 70), (9, 280)]
    assert histories_before(days, grid, 0) == [(0, 0), (0, 0)]


def test_a_record_is_weighed_given_its_own_past() -> None:
    spread = PeerSpread(0.02, 550)
    bare = sequential_test(15, 250, spread, S)
    # An ordinary past (2 %) narrows the honest hypothesis to the entity's own level: the same
    # record at 6 % tells more. A past already at 6 % says the entity always ran there.
    ordinary = sequential_test(15, 250, spread, S, history=(6, 300))
    high = sequential_test(15, 250, spread, S, history=(18, 300))
    assert ordinary.log_bf > bare.log_bf + 0.3
    assert high.log_bf < bare.log_bf
    assert ordinary.numbers()["history_trials"] == 300
    assert "given its own 6/300 before" in ordinary.detail()
    assert sequential_test(15, 250, spread, S, history=(0, 0)) == bare


def test_an_entity_running_below_its_high_past_is_no_evidence_against_it() -> None:
    # A past at 18 % (a rough hub, or a pilfering agent's parcels still in it): the alternative
    # is 2.5x that level, not 2.5x the peers' 2.8 %, so a record with no incident favours the
    # honest hypothesis instead of looking like 7 % against an honest 18 %.
    spread = PeerSpread(0.028, 100)
    assert sequential_test(0, 95, spread, S, history=(121, 647)).log_bf < 0
    assert sequential_test(15, 95, spread, S, history=(121, 647)).log_bf < ALERT_AT


def test_honest_entities_weighed_given_their_past_rarely_ever_alert() -> None:
    # Honest hubs drawn from the spread of hubs 0.6-1.7x apart (rate 2 %, concentration 550),
    # 12 parcels a day for 84 days, looked at daily, each onset given its 28 days before: the
    # past is the entity's own honest record, so each onset's factor is still a martingale and
    # the share that ever alert stays below alpha.
    rng = random.Random(7)
    spread = PeerSpread(0.02, 550)
    ever = 0
    entities = 300
    for _ in range(entities):
        own = rng.betavariate(0.02 * 550, 0.98 * 550)
        _, onset = _alerts(_record(rng, [own] * 84, 12), spread, history_days=28)
        ever += onset
    assert ever / entities <= S.alpha


def test_a_practice_at_three_times_its_peers_is_found_more_often_given_its_past() -> None:
    # Hubs whose honest rates are 0.6-1.7x apart, honest for three weeks, then at 3x the peers'
    # 2 % for three (12 parcels a day, about 15 incidents of the practice): weighed given its
    # own three weeks before, the record from the onset finds more of them (11 of 40 against
    # 7 of 40 with this seed).
    rng = random.Random(1)
    spread = PeerSpread(0.02, 550)
    bare = given_past = 0
    for _ in range(40):
        factor = math.exp(rng.uniform(math.log(0.6), math.log(1.7)))
        days = _record(rng, [0.02 * factor] * 21 + [0.06] * 21, 12)
        bare += _alerts(days, spread)[1]
        given_past += _alerts(days, spread, history_days=28)[1]
    assert given_past >= bare + 3
