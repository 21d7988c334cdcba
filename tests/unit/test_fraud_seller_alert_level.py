"""A seller's claim-rate sequential test alerts at its own level, a Bayes factor of 100
(`seller_seq_alpha` = 0.01) instead of the other sequential tests' 200: at most 1 % of honest
sellers ever alert on it, and an abuser is alerted after fewer deliveries."""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import replace

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test
from services.fraud.scoring.base import default_config
from services.fraud.settings import FraudSettings

SHARED = default_config().sequential
SELLER = default_config().seller_sequential


def test_only_the_seller_claim_rate_test_has_its_own_level() -> None:
    assert SELLER.alpha == FraudSettings().seller_seq_alpha == 0.01
    # Pilferage and QC contradictions keep theirs, and the seller's test differs in nothing
    # else (its alternative, guards, clearing level).
    assert SHARED.alpha == FraudSettings().seq_alpha == 0.005
    assert replace(SELLER, alpha=SHARED.alpha) == SHARED


def _alerted_at(own: float, spread: PeerSpread, s: Sequential, rng: random.Random) -> int | None:
    """The delivery at which a seller claiming at `own` first alerts, over 150 deliveries,
    with the scoring's guards (five claims; 1 / the peers' rate in deliveries). A factor only
    rises on a claim, so looking at each claim is looking after every delivery."""
    at_least = claim_abuse.min_deliveries(spread.rate, 1.0)
    k = 0
    for n in range(1, 151):
        if rng.random() >= own:
            continue
        k += 1
        if k < s.min_events or n < at_least:
            continue
        if sequential_test(k, n, spread, s).log_bf >= math.log(1 / s.alpha):
            return n
    return None


def test_honest_sellers_ever_alerted_stay_within_the_stated_rate() -> None:
    # Honest sellers drawn from the population the test weighs them against, watched for 150
    # deliveries (months of a seller's record in the drawn worlds): Ville's bound says at most
    # alpha of them ever alert.
    for p, concentration in ((0.03, 300.0), (0.08, 150.0)):
        spread = PeerSpread(p, concentration)
        rng = random.Random(int(p * 1000))
        sellers = 1500
        alerted = sum(
            _alerted_at(
                rng.betavariate(p * concentration, (1 - p) * concentration), spread, SELLER, rng
            )
            is not None
            for _ in range(sellers)
        )
        assert alerted / sellers <= SELLER.alpha, (p, alerted)


def test_abusers_are_alerted_after_fewer_deliveries() -> None:
    p = 0.05
    spread = PeerSpread(p, 300.0)
    for ratio in (2.5, 3.0, 4.0):
        shared, seller = [], []
        for j in range(300):
            # The same record read at both levels.
            a = _alerted_at(ratio * p, spread, SHARED, random.Random(j))
            b = _alerted_at(ratio * p, spread, SELLER, random.Random(j))
            assert a is None or (b is not None and b <= a)
            shared.append(a if a is not None else 151)
            seller.append(b if b is not None else 151)
        # Within 150 deliveries more of them are found (at 2.5x about half instead of a
        # third; at 4x nearly all at either level), and those at 3x and more a fifth sooner.
        assert sum(x <= 150 for x in seller) > sum(x <= 150 for x in shared) or ratio >= 4.0
        if ratio >= 3.0:
            assert statistics.median(seller) <= 0.9 * statistics.median(shared), ratio
