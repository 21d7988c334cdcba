"""A claim's sign (MISSING_ITEM with the weight intact, filed as the window closes) is weighed
against the share of the category's ordinary claims that carry it. Where the claim mix makes a
sign common (a marketplace whose honest claims are mostly MISSING_ITEM on intact parcels), an
ordinary seller's claims carry it at the peers' share and must add no evidence of abuse; until
2026-12-05 the peers' share was capped at one half and the alternatives sat at fixed shares,
so an honest seller's every ordinary claim counted against it there."""

from __future__ import annotations

import math
import random

from services.fraud.detectors.claim_abuse import signs_log_bf
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test


def test_a_sign_most_ordinary_claims_carry_adds_nothing_against_a_busy_honest_seller() -> None:
    # Seven claims in ten MISSING_ITEM with the weight intact, the seller's as its peers': a
    # large honest seller's 200 claims were a factor of e^9.8 before, an alert on their own.
    for claims in (20, 50, 200):
        assert signs_log_bf(round(0.7 * claims), claims, 0.7, floor=0.05) <= 0.0
    assert signs_log_bf(55, 100, 0.55, floor=0.05) <= 0.0


def test_claims_carrying_a_common_sign_less_often_than_the_peers_are_no_evidence() -> None:
    # The peers' claims carry the sign 45 % of the time: a seller none of whose 20 claims
    # carries it was e^2.6 towards abuse before (the 0.3 alternative lay below the peers).
    for flagged in range(0, 10):
        assert signs_log_bf(flagged, 20, 0.45, floor=0.05) <= 0.0
    assert signs_log_bf(0, 30, 0.35, floor=0.05) <= 0.0


def test_a_sign_above_a_common_share_still_counts() -> None:
    # Peers at 30 %: 15 of 20 claims carrying it is telling; peers at 10 % as before.
    assert signs_log_bf(15, 20, 0.3, floor=0.05) > math.log(10)
    assert signs_log_bf(10, 20, 0.1, floor=0.05) > math.log(100)


def test_honest_sellers_in_a_claim_mix_heavy_in_one_type_stay_within_the_alert_bound() -> None:
    # Honest sellers at 12 % claims, each claim carrying the sign at the peers' share (0.35 or
    # 0.7), looked at after every claim with the claim-rate test: at most alpha ever cross.
    s = Sequential(alpha=0.01, alpha_medium=0.05)
    spread = PeerSpread(0.12, 300)
    rng = random.Random(23)
    a, b = spread.rate * 300, (1 - spread.rate) * 300
    for share in (0.35, 0.7):
        sellers, crossed = 600, 0
        for _ in range(sellers):
            rate, k, signed = rng.betavariate(a, b), 0, 0
            for n in range(1, 301):
                if rng.random() < rate:
                    k += 1
                    signed += rng.random() < share
                    log_bf = sequential_test(k, n, spread, s).log_bf
                    log_bf += signs_log_bf(signed, k, share, floor=0.05)
                    if k >= 5 and log_bf >= math.log(1 / s.alpha):
                        crossed += 1
                        break
        assert crossed <= s.alpha * sellers, (share, crossed)
