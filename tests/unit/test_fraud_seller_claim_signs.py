"""A seller's claims carry their own signs (filed as the window closes, MISSING_ITEM with the
weight intact): since wave 6 they add to the seller's sequential evidence, as a second
likelihood ratio on the same claims, so an abuser whose claims show them is alerted sooner
and one whose claims look like anyone's pays at most log(1 / ordinary_weight) per sign."""

from __future__ import annotations

import math
import random

from services.fraud.detectors.claim_abuse import high_value_log_bf, high_value_odds, signs_log_bf
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=5e-3, alpha_medium=0.05)
SPREAD = PeerSpread(0.05, 1000)


def test_claims_with_signs_add_evidence_and_ordinary_ones_cost_little() -> None:
    # Two of six claims filed as the window closes, where peers' claims are at 5 %.
    assert signs_log_bf(2, 6, 0.0, floor=0.05) > 0.5
    assert signs_log_bf(3, 6, 0.0, floor=0.05) > 3.0
    # Claims as anyone's: at most log(1 / 0.8) taken off, however many.
    for claims in (5, 20, 60):
        assert signs_log_bf(round(0.05 * claims), claims, 0.05, floor=0.05) >= math.log(0.8)
    assert signs_log_bf(0, 0, 0.05, floor=0.05) == 0.0
    # The peers' share is floored: a marketplace whose honest sellers never file late (as our
    # simulator's) does not make one late claim damning.
    assert signs_log_bf(1, 6, 0.0, floor=0.05) < 1.0


def test_an_abuser_whose_claims_carry_signs_is_alerted_sooner() -> None:
    # 3x its category, one claim in three filed as the window closes: claims k, late k // 3.
    def crossing(with_signs: bool) -> int:
        for n in range(20, 400):
            k = round(3 * SPREAD.rate * n)
            log_bf = sequential_test(k, n, SPREAD, S).log_bf
            if with_signs:
                log_bf += signs_log_bf(k // 3, k, 0.05, floor=0.05)
            if k >= 5 and log_bf >= math.log(1 / S.alpha):
                return n
        return 400

    assert crossing(True) < crossing(False) - 5


def test_honest_sellers_whose_signs_run_at_their_peers_share_stay_within_the_alert_bound() -> None:
    # The product of the two likelihood ratios is still one against the honest population when
    # an honest seller's claims carry signs at the peers' share: at most alpha of them ever
    # cross, looked at after every delivery.
    rng = random.Random(21)
    sellers, crossed = 1500, 0
    a, b = SPREAD.rate * 300, (1 - SPREAD.rate) * 300
    spread = PeerSpread(SPREAD.rate, 300)
    for _ in range(sellers):
        rate, k, late = rng.betavariate(a, b), 0, 0
        for n in range(1, 121):
            if rng.random() < rate:
                k += 1
                late += rng.random() < 0.05
                log_bf = sequential_test(k, n, spread, S).log_bf
                log_bf += signs_log_bf(late, k, 0.05, floor=0.05)
                if k >= 5 and n >= 20 and log_bf >= math.log(1 / S.alpha):
                    crossed += 1
                    break
    assert crossed <= S.alpha * sellers


def test_high_value_claims_are_weighed_against_the_sellers_own_high_value_deliveries() -> None:
    # A seller of expensive goods: 80 % of its deliveries high-value, and so are its claims.
    assert high_value_log_bf(8, 10, 80, 100, 1.0) <= 0.0
    assert high_value_log_bf(8, 10, 80, 100, 1.0) >= math.log(0.8)
    # A seller of mostly cheap goods whose claims fall on its few dear items.
    assert high_value_log_bf(5, 10, 10, 100, 1.0) > math.log(100) / 2
    # Where the category's ordinary sellers' dear items are claimed three times as often, the
    # same claims are worth less.
    assert high_value_log_bf(5, 10, 10, 100, 3.0) < high_value_log_bf(5, 10, 10, 100, 1.0)
    # No high-value delivery, no claim: nothing said.
    assert high_value_log_bf(0, 10, 0, 100, 1.0) == 0.0
    assert high_value_log_bf(0, 0, 10, 100, 1.0) == 0.0


def test_the_categorys_odds_on_dear_items_are_learnt_from_its_ordinary_sellers() -> None:
    # Peers: 2,000 deliveries, 400 dear; dear ones claimed at 10 %, others at 5 %.
    assert abs(high_value_odds(40, 400, 120, 2000) - 2.0) < 0.2
    # Claims as likely on any item.
    assert abs(high_value_odds(20, 400, 100, 2000) - 1.0) < 0.05
    # Two dear deliveries say little: near 1 whatever became of them.
    assert high_value_odds(2, 2, 100, 2000) < 2.0
    assert high_value_odds(0, 0, 0, 0) == 1.0


def test_an_abuser_claiming_on_dear_items_is_alerted_sooner() -> None:
    # 3x its category; a tenth of its deliveries dear, half of its claims on them.
    def crossing(dear_share_of_claims: float) -> int:
        for n in range(20, 400):
            k = round(3 * SPREAD.rate * n)
            dear_claims = round(dear_share_of_claims * k)
            log_bf = sequential_test(k, n, SPREAD, S).log_bf
            log_bf += high_value_log_bf(dear_claims, k, n // 10 + dear_claims, n, 1.0)
            if k >= 5 and log_bf >= math.log(1 / S.alpha):
                return n
        return 400

    assert crossing(0.5) < crossing(0.1) - 10


def test_honest_sellers_of_cheap_and_expensive_goods_stay_within_the_alert_bound() -> None:
    # Honest sellers whose own share of high-value deliveries ranges from a few in a hundred to
    # most of them, each claim as likely on any item: the product of the claim-rate test's and
    # the high-value sign's likelihood ratios stays within Ville's bound, looked at after every
    # claim (the large honest seller of expensive goods included).
    rng = random.Random(22)
    sellers, crossed = 1500, 0
    a, b = SPREAD.rate * 300, (1 - SPREAD.rate) * 300
    spread = PeerSpread(SPREAD.rate, 300)
    for i in range(sellers):
        dear_share = (0.02, 0.1, 0.3, 0.6, 0.9)[i % 5]
        rate, k, dear_claims, dear = rng.betavariate(a, b), 0, 0, 0
        for n in range(1, 121):
            is_dear = rng.random() < dear_share
            dear += is_dear
            if rng.random() < rate:
                k += 1
                dear_claims += is_dear
                log_bf = sequential_test(k, n, spread, S).log_bf
                log_bf += high_value_log_bf(dear_claims, k, dear, n, 1.0)
                if k >= 5 and n >= 20 and log_bf >= math.log(1 / S.alpha):
                    crossed += 1
                    break
    assert crossed <= S.alpha * sellers


def test_a_seller_claiming_most_of_its_deliveries_is_weighed_against_those_it_did_not() -> None:
    # 47 claims in 60 deliveries, 29 of them on 30 dear deliveries: the 13 it did not claim
    # hold one dear item, which an ordinary seller of that stock seldom leaves.
    assert high_value_log_bf(29, 47, 30, 60, 1.0) > 2.0
    # The same claims from a seller whose unclaimed deliveries are dear as often as its claims.
    assert high_value_log_bf(29, 47, 37, 60, 1.0) < 0.0
