"""The wrong/used buyer's sequential test: buyers with four or five named claims that the rate
test leaves at p above 1e-4 are alerted, and the share of honest buyers ever alerted stays
within the stated rate however often they are looked at."""

from __future__ import annotations

import math

import pytest

from services.fraud.detectors import returns_abuse
from services.fraud.detectors.findings import FraudBand, band_of, combine
from services.fraud.detectors.stats import PeerSpread, Sequential, Thresholds, sequential_test

T = Thresholds()
S = returns_abuse.buyer_sequential(Sequential(alpha=5e-3), 1e-3)
# Honest buyers named on 3.5 % of their returns, alike.
COMMON = PeerSpread(0.035, 1000)
NETWORK = {"delivered": 50_000, "named_claims": 1_750}


def band(findings: list) -> FraudBand:
    return band_of(combine([f.contribution for f in findings]))


def findings(named: int, delivered: int, sellers: int, spread: PeerSpread = COMMON) -> list:
    own = {"named_claims": named, "delivered": delivered}
    return returns_abuse.buyer_findings("B-1", own, NETWORK, sellers, T, spread, S)


@pytest.mark.parametrize(("named", "delivered"), [(4, 8), (5, 14)])
def test_a_buyer_the_rate_test_leaves_at_medium_is_alerted_sequentially(
    named: int, delivered: int
) -> None:
    # Four of eight returns named by three sellers is p of 1.1e-4 among these honest buyers:
    # the rate test (p <= 1e-4, read again at every claim) leaves it MEDIUM.
    own = {"named_claims": named, "delivered": delivered}
    rate_only = returns_abuse.buyer_findings("B-1", own, NETWORK, 3, T, COMMON)
    assert band(rate_only) is FraudBand.MEDIUM
    found = findings(named, delivered, 3)
    assert band(found) is FraudBand.HIGH
    assert [f.code for f in found] == [returns_abuse.SEQUENTIAL_CODE]
    assert found[0].alert and found[0].numbers["distinct_sellers"] == 3


def test_one_seller_naming_a_buyer_stays_below_high() -> None:
    found = findings(5, 6, 1)
    assert band(found) is FraudBand.MEDIUM and not any(f.alert for f in found)


def test_three_named_claims_stay_below_high_however_few_the_returns() -> None:
    found = findings(3, 3, 3, PeerSpread(0.02, 1000))
    assert band(found) is FraudBand.MEDIUM and not any(f.alert for f in found)


def test_where_honest_buyers_differ_widely_or_claim_often_four_of_eight_is_not_alerted() -> None:
    assert not any(f.alert for f in findings(4, 8, 3, PeerSpread(0.035, 60)))
    assert not any(f.alert for f in findings(4, 8, 3, PeerSpread(0.078, 1000)))


def test_the_stronger_reading_stays_alone() -> None:
    # Ten named claims in ten returns: both readings are HIGH; one body of evidence, one reason.
    found = findings(10, 10, 4)
    assert len(found) == 1 and found[0].alert


def _ever_alerted(spread: PeerSpread, returns: int, s: Sequential) -> float:
    """P(an honest buyer ever reaches the alert within `returns` returns, looked at after each),
    exactly: the buyer's rate drawn from the spread, each return named with the posterior
    predictive probability, paths that crossed absorbed."""
    a = spread.rate * spread.concentration
    b = (1 - spread.rate) * spread.concentration
    alert = math.log(1 / s.alpha)
    alive = {0: 1.0}  # named claims so far -> probability, among paths not yet alerted
    crossed = 0.0
    for n in range(returns):
        nxt: dict[int, float] = {}
        for k, prob in alive.items():
            named = (a + k) / (a + b + n)
            for k2, q in ((k + 1, named), (k, 1 - named)):
                test = sequential_test(k2, n + 1, spread, s)
                if k2 >= s.min_events and test.log_bf >= alert:
                    crossed += prob * q
                else:
                    nxt[k2] = nxt.get(k2, 0.0) + prob * q
        alive = nxt
    return crossed


@pytest.mark.parametrize(
    "spread",
    [PeerSpread(0.02, 1000), PeerSpread(0.05, 300), PeerSpread(0.078, 1000), PeerSpread(0.1, 50)],
)
def test_honest_buyers_ever_alerted_stay_within_the_stated_rate(spread: PeerSpread) -> None:
    # A buyer looked at on every return (more often than the product, which looks on every
    # claim naming it) for up to 40 returns, far more than a buyer has in a window.
    for returns in (6, 12, 40):
        assert _ever_alerted(spread, returns, S) <= S.alpha
