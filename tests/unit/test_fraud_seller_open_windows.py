"""A seller's record read as it stands (`claim_abuse.open_windows_log_bf`, on with
FRAUD_SELLER_OPEN_WINDOWS): a delivery whose claim window is still open is the part of a trial
the market's claims would have shown by its age, and the claims filed as the window closes are
weighed in the same likelihood, against an abuser claiming with honest delays or filing late.

The stated rate (at most alpha of honest sellers ever reach the alert, looked at on every claim
and every day) is checked on simulated honest sellers, among them sellers whose own delays are
not the market's and small sellers; and the late filer the counterfactual moved is alerted
sooner than by the counts and the late sign."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from services.fraud.detectors.claim_abuse import (
    HonestDelays,
    OpenDelivery,
    min_deliveries,
    open_windows_log_bf,
    signs_log_bf,
)
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=1e-2)
WINDOW_H, MARGIN_H = 168.0, 12.0
LATE_FROM = WINDOW_H - MARGIN_H
FLOOR = 0.05


def market_delay(rng: random.Random) -> float:
    """An honest claim's hours after delivery, as the wide worlds' (a median near a day and a
    half, a tail to the window's close)."""
    return min(rng.expovariate(1 / 36), WINDOW_H - 0.01)


def fast_delay(rng: random.Random) -> float:
    """A seller whose buyers complain at once: every claim within six hours."""
    return rng.uniform(0.0, 6.0)


def slow_delay(rng: random.Random) -> float:
    """A seller whose claims come late but honestly: spread evenly over the window (7 % in
    its last 12 hours, above the signs' floor)."""
    return rng.uniform(0.0, WINDOW_H - 0.01)


def late_filer_delay(share: float) -> Callable[[random.Random], float]:
    def delay(rng: random.Random) -> float:
        if rng.random() < share:
            return rng.uniform(LATE_FROM, WINDOW_H - 0.01)
        return market_delay(rng)

    return delay


def market_delays(rng: random.Random) -> HonestDelays:
    return HonestDelays(tuple(sorted(market_delay(rng) for _ in range(2000))))


def first_alert(
    rng: random.Random,
    rate: float,
    per_day: float,
    days: int,
    delay: Callable[[random.Random], float],
    spread: PeerSpread,
    delays: HonestDelays,
    *,
    open_windows: bool,
) -> float | None:
    """The first look (every claim, and every day's end) at which the seller's claim-rate
    test with its late sign reaches the alert past the guards (five claims, `min_deliveries`),
    read as the counts read it or as it stands: the day, or None."""
    deliveries: list[tuple[float, float | None]] = []  # (delivered at h, claimed at h)
    t = 0.0
    while True:
        t += rng.expovariate(per_day / 24)
        if t > days * 24:
            break
        deliveries.append((t, t + delay(rng) if rng.random() < rate else None))
    looks = sorted({c for _, c in deliveries if c is not None} | {24.0 * d for d in range(days)})
    guard = min_deliveries(spread.rate, 1.0)
    for now in looks:
        k = late = n = 0
        opened: list[OpenDelivery] = []
        for delivered, claimed in deliveries:
            if delivered > now:
                break
            n += 1
            if claimed is not None and claimed <= now:
                k += 1
                late += claimed - delivered >= LATE_FROM
            elif now - delivered < WINDOW_H:
                opened.append(OpenDelivery(now - delivered))
        if k < S.min_events or n < guard:
            continue
        if open_windows:
            log_bf = open_windows_log_bf(
                k,
                late,
                n,
                opened,
                spread,
                S,
                delays,
                late_share=FLOOR,
                window_h=WINDOW_H,
                late_margin_h=MARGIN_H,
            )
        else:
            log_bf = sequential_test(k, n, spread, S).log_bf
            log_bf += signs_log_bf(late, k, 0.0, floor=FLOOR)
        if log_bf >= math.log(1 / S.alpha):
            return now / 24
    return None


def honest_alerts(
    seed: int, sellers: int, per_day: float, delay: Callable[[random.Random], float]
) -> int:
    rng = random.Random(seed)
    spread = PeerSpread(0.1, 300)
    delays = market_delays(rng)
    a, b = spread.rate * spread.concentration, (1 - spread.rate) * spread.concentration
    alerted = 0
    for _ in range(sellers):
        rate = rng.betavariate(a, b)
        day = first_alert(rng, rate, per_day, 90, delay, spread, delays, open_windows=True)
        alerted += day is not None
    return alerted


def test_without_open_deliveries_or_late_claims_the_factor_is_the_counts() -> None:
    spread = PeerSpread(0.1, 300)
    delays = HonestDelays((1.0, 10.0, 30.0))
    for k, n in ((0, 10), (3, 40), (8, 40), (20, 60)):
        as_it_stands = open_windows_log_bf(
            k, 0, n, [], spread, S, delays, late_share=None, window_h=168, late_margin_h=12
        )
        assert math.isclose(as_it_stands, sequential_test(k, n, spread, S).log_bf)


def test_an_open_delivery_is_the_part_of_a_trial_an_honest_claim_would_have_shown() -> None:
    spread = PeerSpread(0.1, 300)
    delays = HonestDelays(tuple(float(h) for h in range(100)))  # G0(h) = h / 100
    assert delays.by(25.0) == 0.26
    assert HonestDelays(()).by(5.0) == 1.0

    def read(opened: list[OpenDelivery], n: int) -> float:
        return open_windows_log_bf(
            6, 0, n, opened, spread, S, delays, late_share=None, window_h=168, late_margin_h=12
        )

    counted = sequential_test(6, 40, spread, S).log_bf
    # Ten deliveries of the last hours, not claimed yet, are hardly trials yet: the claims
    # weigh against 30 deliveries and a little, more than against 40.
    young = read([OpenDelivery(1.0)] * 10, 40)
    assert young > counted + 0.5
    assert math.isclose(
        young, sequential_test(6, 30, spread, S).log_bf, abs_tol=0.3
    )  # ~ the closed record
    # Past the honest delays (G0 = 1) an open delivery is a whole trial.
    assert math.isclose(read([OpenDelivery(120.0)] * 10, 40), counted, abs_tol=1e-9)
    # More open deliveries than unclaimed ones (a window's edge): no more than those count.
    assert math.isclose(read([OpenDelivery(1.0)] * 50, 40), read([OpenDelivery(1.0)] * 34, 40))


def test_late_claims_are_weighed_in_the_mixture_not_added_on_top() -> None:
    spread = PeerSpread(0.1, 300)
    delays = HonestDelays(tuple(float(h) for h in range(100)))

    def read(late: int, opened: list[OpenDelivery]) -> float:
        return open_windows_log_bf(
            8, late, 60, opened, spread, S, delays, late_share=0.05, window_h=168, late_margin_h=12
        )

    # Claims filed as anyone's cost at most the late manners' weight (log 2).
    assert read(0, []) >= sequential_test(8, 60, spread, S).log_bf - math.log(2) - 1e-9
    # Late claims tell, as the late sign did.
    assert read(4, []) > read(0, []) + 3.0
    # A late filer's deliveries of the last days are still open to it: read at what the late
    # manners leave unclaimed, they weigh less against it than against an honest-delay filer.
    opened = [OpenDelivery(float(h)) for h in (10, 40, 70, 100, 130)]
    assert read(4, opened) > read(4, [])
    # Where lateness is no sign (half the peers' claims are late), only the honest delays.
    no_sign = open_windows_log_bf(
        8, 4, 60, [], spread, S, delays, late_share=None, window_h=168, late_margin_h=12
    )
    assert math.isclose(no_sign, sequential_test(8, 60, spread, S).log_bf)


def test_honest_sellers_with_the_markets_delays_stay_within_the_stated_rate() -> None:
    sellers = 500
    assert honest_alerts(31, sellers, 1.5, market_delay) <= S.alpha * sellers


def test_honest_sellers_whose_claims_come_at_once_stay_within_the_stated_rate() -> None:
    # Their recent claims are in while the market's would not be: the open deliveries count
    # less than their own claims have shown, an excess of about a day's claims, no more.
    sellers = 500
    assert honest_alerts(32, sellers, 1.5, fast_delay) <= S.alpha * sellers


def test_honest_sellers_whose_claims_come_late_stay_within_the_stated_rate() -> None:
    sellers = 500
    assert honest_alerts(33, sellers, 1.5, slow_delay) <= S.alpha * sellers


def test_small_honest_sellers_stay_within_the_stated_rate() -> None:
    # A few deliveries a week, claimed at once: the small seller whose first deliveries were
    # all claimed is among them, and the guards hold it as the counts' test's.
    sellers = 800
    assert honest_alerts(34, sellers, 0.3, fast_delay) <= S.alpha * sellers


def test_a_late_filer_is_alerted_sooner_than_by_its_counts_and_late_sign() -> None:
    # The wide worlds' goal abuser the counterfactual moved most (S-s5002-038: 3x a 10 %
    # category, 1.1 deliveries a day, a third of its claims as the window closes): the same
    # abusers' records, read both ways.
    spread = PeerSpread(0.1, 300)
    before, after = [], []
    for seed in range(40):
        for open_windows, days in ((False, before), (True, after)):
            rng = random.Random(seed)
            delays = market_delays(rng)
            day = first_alert(
                rng,
                0.3,
                1.1,
                60,
                late_filer_delay(1 / 3),
                spread,
                delays,
                open_windows=open_windows,
            )
            days.append(60.0 if day is None else day)
    # Few found later by more than a day (a look's noise), and the median earlier.
    assert sum(a > b + 1.0 for a, b in zip(after, before, strict=True)) <= len(before) // 10
    median_before, median_after = sorted(before)[len(before) // 2], sorted(after)[len(after) // 2]
    assert median_after < median_before - 1.0
