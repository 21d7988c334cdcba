"""A seller's flag read against its recent weeks (`claim_abuse.after_spell`): a spell that is
over stands the seller's claim-rate findings down and clears its flag; an abuser still at its
rate keeps them; and an abuser's recent weeks seldom look ordinary enough to clear it."""

from __future__ import annotations

import math
import random

from services.fraud.detectors.claim_abuse import PATTERN, after_spell
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=5e-3, alpha_medium=0.05)
SPREAD = PeerSpread(0.05, 1000)


def finding(code: str, contribution: float = 0.95, alert: bool = True) -> Finding:
    return Finding(code, "x", contribution, PATTERN, "seller", "S1", {}, alert=alert)


def test_a_spell_that_is_over_stands_the_claim_rate_down_and_clears() -> None:
    # Alerted on its whole record (11 claims in 60 deliveries), its last weeks ordinary.
    whole = sequential_test(11, 60, SPREAD, S)
    assert whole.log_bf >= math.log(1 / S.alpha)
    recent = sequential_test(1, 37, SPREAD, S)
    found = [finding("SELLER_CLAIM_RATE_SEQUENTIAL"), finding("SELLER_HIGH_VALUE_CLAIMS")]
    out, over = after_spell(found, recent, S)
    assert over
    rate, high_value = out
    assert not rate.alert and rate.contribution < 0.8
    assert rate.numbers["recent_trials"] == 37
    # The share tests are about what the claims are, not how many: they stay.
    assert high_value == found[1]


def test_recent_weeks_between_the_levels_hold_back_a_new_flag_and_clear_none() -> None:
    # Two claims in 30 deliveries at 5 %: leaning ordinary, not ten to one.
    recent = sequential_test(2, 30, SPREAD, S)
    assert math.log(S.clear_at) < recent.log_bf <= 0
    out, over = after_spell([finding("SELLER_CLAIM_RATE_HIGH")], recent, S)
    assert not over
    assert not out[0].alert and out[0].contribution < 0.8


def test_an_abuser_still_at_its_rate_keeps_its_findings() -> None:
    recent = sequential_test(9, 35, SPREAD, S)
    found = [finding("SELLER_CLAIM_RATE_SEQUENTIAL")]
    assert after_spell(found, recent, S) == (found, False)


def test_an_abusers_recent_weeks_seldom_prove_it_ordinary() -> None:
    # At a given look, the recent weeks of an entity at the alternative's mixture of rates
    # favour an ordinary one ten to one with probability at most clear_at; at exactly 2.5x
    # (half the mixture's weight) at most twice that. Simulated: abusers at 2.5x and 4x over
    # recent weeks of 15 to 90 deliveries.
    rng = random.Random(7)
    for ratio, bound in ((2.5, 2 * S.clear_at), (4.0, S.clear_at)):
        for n in (15, 30, 60, 90):
            looks = 2000
            cleared = 0
            for _ in range(looks):
                k = sum(rng.random() < ratio * SPREAD.rate for _ in range(n))
                cleared += sequential_test(k, n, SPREAD, S).log_bf <= math.log(S.clear_at)
            assert cleared / looks <= bound, (ratio, n, cleared)


def test_an_ordinary_record_of_weeks_proves_a_seller_ordinary_more_often_the_longer() -> None:
    # What the rule can do for an honest seller whose spell is over, at its category's 5 %:
    # ten to one takes tens of deliveries. About half of 35-delivery records (two weeks at
    # 2.5 a day) get there, most 70-delivery ones; a seller of one delivery a day is seldom
    # cleared by its last two weeks.
    rng = random.Random(11)

    def proved(n: int) -> float:
        hits = 0
        for _ in range(1000):
            k = sum(rng.random() < SPREAD.rate for _ in range(n))
            hits += sequential_test(k, n, SPREAD, S).log_bf <= math.log(S.clear_at)
        return hits / 1000

    short, medium, long = proved(14), proved(35), proved(70)
    assert short < 0.1
    assert 0.3 < medium < long
    assert long > 0.6
