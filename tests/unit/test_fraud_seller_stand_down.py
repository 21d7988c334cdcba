"""A seller's claim-abuse flag stands down when its evidence is no longer telling (wave 6):
an honest seller that crossed the alert on a run of claims and then hovers near it is
re-judged as its later deliveries dilute the run, instead of waiting for the record to favour
an ordinary seller ten to one, which a seller in its category's tail never does."""

from __future__ import annotations

import math
import random

from services.fraud.detectors.claim_abuse import clear_level
from services.fraud.detectors.sequential import clears
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test
from services.fraud.scoring.base import default_config

S = Sequential(alpha=5e-3, alpha_medium=0.05)
SPREAD = PeerSpread(0.05, 1000)


def level_of(k: int, n: int) -> float:
    cfg = default_config()
    return clear_level(
        sequential_test(k, n, SPREAD, S),
        stand_down_at=cfg.seller_clear_at,
        one_way=cfg.sequential.clear_at,
        expected_claims=cfg.seller_min_expected_claims,
    )


def test_the_seller_flag_stands_down_once_its_evidence_is_no_longer_telling() -> None:
    level = level_of(6, 45)
    crossed = sequential_test(6, 20, SPREAD, S)
    assert crossed.log_bf >= math.log(1 / S.alpha)  # alerted on 6 claims in 20 deliveries
    diluted = sequential_test(6, 45, SPREAD, S)
    # 6 in 45 at a 5 % category: not yet an ordinary record ten to one, so the one-way
    # test (clear_at 0.1) keeps the flag for another fifty deliveries ...
    assert not clears("CLAIM_ABUSE", diluted, [], S)
    # ... but no longer telling (below the MEDIUM factor): the seller's flag stands down.
    assert clears("CLAIM_ABUSE", diluted, [], S, clear_at=level)
    # Not while the evidence still tells.
    assert not clears("CLAIM_ABUSE", sequential_test(6, 30, SPREAD, S), [], S, clear_at=level)


def test_a_record_too_short_to_alert_is_cleared_only_by_the_one_way_test() -> None:
    # One claim in its first delivery under a flag raised on other evidence: not enough
    # deliveries (1 / 5 %) for the seller's record to tell either way, so it does not stand
    # the flag down on a factor below the MEDIUM one.
    assert level_of(1, 1) == default_config().sequential.clear_at
    assert level_of(3, 19) == default_config().sequential.clear_at
    assert level_of(3, 20) == default_config().seller_clear_at


def test_abusers_at_three_times_their_category_rarely_stand_down() -> None:
    # The price: an abuser whose evidence dips after its alert is stood down until it crosses
    # again. Looked at after every delivery for 120 deliveries, of the abusers at 3x alerted,
    # nearly all are still flagged at the end.
    level = default_config().seller_clear_at
    rng = random.Random(6)
    alerted = open_at_end = 0
    for _ in range(200):
        k, flagged, ever = 0, False, False
        for n in range(1, 121):
            k += rng.random() < 3 * SPREAD.rate
            log_bf = sequential_test(k, n, SPREAD, S).log_bf
            if not flagged and k >= 5 and n >= 1 / SPREAD.rate and log_bf >= math.log(1 / S.alpha):
                flagged = ever = True
            elif flagged and log_bf <= math.log(level):
                flagged = False
        alerted += ever
        open_at_end += flagged
    assert alerted >= 100
    assert open_at_end >= 0.9 * alerted
