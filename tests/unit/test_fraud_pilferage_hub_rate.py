"""The pilferage rate test of a hub (`pilferage.pilferage_findings`): one bad day across a
midnight of the counters' clock is one bad spell (`set_aside`), and peers read in a hub's parcels
through a weight the detector doubts carry that doubt (`doubtful_p`), as the sequential test's
honest population does (`with_exposure_uncertainty`)."""

from __future__ import annotations

import math
from datetime import date, timedelta

from services.fraud.detectors import pilferage
from services.fraud.detectors.pilferage import DayCount
from services.fraud.detectors.stats import binomial_sf
from tests.unit.test_fraud_pilferage_exposure import T
from tests.unit.test_fraud_pilferage_part_uncertainty import one_and_two_hub

D0 = date(2026, 11, 4)
# Peers at about 1 % in the hub's own parcels: the tolerance null is 0.0299 (peer + 0.02).
PEERS = DayCount(handled=10_000, incidents=99)
NO_BASELINE = DayCount(0, 0)


def record(per_day: list[tuple[int, int]]) -> dict[date, DayCount]:
    """A window of days from `D0`, each (parcels, incidents)."""
    return {D0 + timedelta(days=i): DayCount(n, k) for i, (n, k) in enumerate(per_day)}


def storm_split_by_midnight() -> dict[date, DayCount]:
    """4242's honest bad-day hub as the alert read it: 17 of 191 over 19 days, its storm's
    eight declarations falling 5 on one counters' day and 3 on the next (with one ordinary
    incident), and 8 ordinary incidents in 163 parcels on the other 17 days."""
    ordinary = [(10, 1 if i % 2 == 0 else 0) for i in range(16)]  # 8 of 160
    days = ordinary[:14] + [(14, 5), (14, 4)] + ordinary[14:] + [(3, 0)]
    assert sum(n for n, _ in days) == 191 and sum(k for _, k in days) == 17
    return record(days)


def alerts(found: list[object]) -> bool:
    return any(getattr(f, "alert", False) for f in found)


def test_a_storm_split_by_a_midnight_is_set_aside_as_one_bad_spell() -> None:
    days = storm_split_by_midnight()
    # Neither storm day stands apart from a record holding the other (5/14 against 12/177):
    # read whole, the storm alerted the hub (p = 7.1e-5).
    whole = binomial_sf(17, 191, 0.0299)
    assert whole <= T.alpha_high
    found = pilferage.pilferage_findings("hub", "H", days, PEERS, NO_BASELINE, T)
    assert not alerts(found), found
    assert found == [] or found[0].numbers["worst_day_stands_apart"] is True
    # The sequential tests' record is the same: the storm's two days leave together.
    assert pilferage.counted(days, None, T) == (8, 163)


def test_a_storm_on_one_day_leaves_alone_as_before() -> None:
    days = record([(10, 1 if i % 2 == 0 else 0) for i in range(16)] + [(14, 8), (10, 0)])
    assert pilferage.counted(days, None, T) == (8, 170)
    (worst, neighbour) = pilferage.worst_and_neighbour(days)
    assert pilferage.set_aside(184, 16, worst, neighbour, T) == [DayCount(14, 8)]


def test_the_worst_day_alone_set_aside_keeps_its_neighbour() -> None:
    # The worst day stands apart by itself: only it leaves, as before the spell rule, and a
    # busy neighbour's incidents stay in the record.
    days = record([(10, 0)] * 10 + [(12, 2), (12, 7), (10, 0)] + [(10, 0)] * 5)
    assert pilferage.counted(days, None, T) == (2, 172)


def test_a_practice_spread_over_the_days_keeps_its_whole_record() -> None:
    # A hub at 3x (6 %) every day, one or two incidents a day: no day, nor any two, stands
    # apart from the rest, and the whole record is weighed.
    per_day = [(20, 1 + (i % 3 == 0)) for i in range(30)]
    days = record(per_day)
    n, k = sum(n for n, _ in per_day), sum(k for _, k in per_day)
    assert pilferage.counted(days, None, T) == (k, n)
    found = pilferage.pilferage_findings("hub", "H", days, PEERS, NO_BASELINE, T)
    assert alerts(found) and found[0].numbers["worst_day_stands_apart"] is False


def test_a_thin_rest_gives_the_pair_no_free_pass() -> None:
    # Two busy days and little else: the pair is not set aside against a rest that cannot
    # tell (under 30 parcels), and the record stays whole.
    days = record([(14, 4), (14, 4), (20, 1)])
    assert pilferage.counted(days, None, T) == (9, 48)


def test_every_onsets_record_counted_in_one_pass_equals_its_own() -> None:
    days = storm_split_by_midnight()
    onsets = [D0 + timedelta(days=d) for d in (1, 8, 14, 15, 16)]
    one_pass = pilferage.counted_from_each(days, onsets, None, T)
    assert one_pass == [
        pilferage.counted({d: c for d, c in days.items() if d >= o}, None, T) for o in onsets
    ]
    # From the storm's second day on, its first is not in the record: that day is the worst,
    # standing apart alone.
    assert one_pass[3] == pilferage.counted(
        {d: c for d, c in days.items() if d >= onsets[3]}, None, T
    )


def rate_of(rows: dict[str, dict[str, int]], hub: str, days: int = 20) -> list[object]:
    """The hub's rate test as scoring runs it: its record spread evenly over `days`, its peers
    the other hubs' weighed parcels carried into its own, with and without the weight's doubt."""
    exposure = pilferage.exposure_of(rows, T)
    k_peers = sum(r["incidents"] for h, r in rows.items() if h != hub)
    n_peers = sum(
        pilferage.weighed(r["handled"], r["incidents"], exposure[h].scale)
        for h, r in rows.items()
        if h != hub
    )
    scale = exposure[hub].scale
    peers = DayCount(round(n_peers / scale), k_peers)
    own = rows[hub]
    per_day = [
        DayCount(
            own["handled"] // days + (i < own["handled"] % days),
            own["incidents"] // days + (i < own["incidents"] % days),
        )
        for i in range(days)
    ]
    window = {D0 + timedelta(days=i): c for i, c in enumerate(per_day)}
    return [
        pilferage.pilferage_findings("hub", hub, window, peers, NO_BASELINE, T),
        pilferage.pilferage_findings(
            "hub", hub, window, peers, NO_BASELINE, T, weight_rel_var=exposure[hub].rel_var
        ),
    ]


def test_honest_hubs_weighed_off_a_cold_hubs_handful_are_not_alerted_by_the_rate_test() -> None:
    # Four honest one-hub hubs of 240 parcels at one rate split 22, 20, 3, 4 by chance: a hot
    # hub's part rate is read off a cold hub's handful (the median of the other three), and the
    # rate test read at that point weight alerted the hotter (the other at p = 2e-4).
    rows = one_and_two_hub([22, 20, 3, 4], parcels=240)
    point, carried = rate_of(rows, "O-0")
    assert alerts(point), point  # type: ignore[arg-type]
    assert not alerts(carried), carried  # type: ignore[arg-type]
    assert carried[0].numbers["p_at_point_weight"] <= T.alpha_high  # type: ignore[index,attr-defined]


def test_a_hub_pilfering_among_hubs_that_agree_is_still_alerted_by_the_rate_test() -> None:
    # O-0 at 15 % where its three others agree at 3.3-3.8 %: its weight is not in doubt and
    # its rate test reads as it did.
    rows = one_and_two_hub([36, 9, 8, 9], parcels=240)
    assert pilferage.exposure_of(rows, T)["O-0"].rel_var == 0.0
    point, carried = rate_of(rows, "O-0")
    assert alerts(point) and alerts(carried)  # type: ignore[arg-type]


def test_a_weight_without_doubt_tests_as_at_its_point() -> None:
    assert math.isclose(
        pilferage.doubtful_p(17, 191, 0.0099, 0.0, T), binomial_sf(17, 191, 0.0299), rel_tol=1e-9
    )
    # The doubt only ever raises the p-value of a record above its peers, and more doubt more.
    ps = [pilferage.doubtful_p(17, 191, 0.0099, v, T) for v in (0.0, 0.1, 0.4, 0.8)]
    assert ps == sorted(ps) and ps[-1] > 100 * ps[0]


def test_a_doubt_too_small_to_keep_is_none() -> None:
    # A relative variance that rounds to 0 for the cache of points tests at the point weight
    # (a log-normal of no spread has no quantiles: the first build raised on it mid-scoring).
    assert pilferage.doubtful_p(17, 191, 0.0099, 1e-5, T) == pilferage.doubtful_p(
        17, 191, 0.0099, 0.0, T
    )
