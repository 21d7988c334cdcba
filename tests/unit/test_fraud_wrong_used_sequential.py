"""The wrong/used buyer's sequential test: buyers with four or five named claims that the rate
test leaves at p above 1e-4 are alerted, and the share of honest buyers ever alerted stays
within the stated rate however often they are looked at."""

from __future__ import annotations

import math
from dataclasses import replace as dataclass_replace

import pytest

from services.fraud.detectors import returns_abuse
from services.fraud.detectors.findings import FraudBand, band_of, combine
from services.fraud.detectors.sequential import clears
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


# --- clearing a buyer's alert -------------------------------------------------------------------


def evidence(named: int, delivered: int, sellers: int = 3) -> returns_abuse.BuyerEvidence:
    own = {"named_claims": named, "delivered": delivered}
    return returns_abuse.buyer_evidence("B-1", own, NETWORK, sellers, T, COMMON, S)


def test_a_buyer_alerted_on_a_small_sample_is_cleared_once_its_ordinary_returns_accumulate() -> (
    None
):
    # A household whose first returns were claimed as wrong items: four of six, alerted.
    flagged = evidence(4, 6)
    assert any(f.alert for f in flagged.findings)
    assert flagged.sequential is not None
    assert not clears(returns_abuse.PATTERN, flagged.sequential, flagged.findings, S)
    # Its later returns reach their sellers unclaimed: the same four named claims in 45
    # returns favour an ordinary buyer ten to one and more.
    later = evidence(4, 45)
    assert later.sequential is not None
    assert later.sequential.log_bf <= math.log(S.clear_at)
    assert clears(returns_abuse.PATTERN, later.sequential, later.findings, S)


@pytest.mark.parametrize(("named", "delivered"), [(4, 6), (6, 20), (10, 14), (8, 30)])
def test_a_buyer_still_at_its_alerts_evidence_is_not_cleared(named: int, delivered: int) -> None:
    # A buyer who keeps returning wrong items stays far above the clearing level, however
    # many returns it has, and so does one whose ordinary returns have only begun to count.
    found = evidence(named, delivered)
    assert found.sequential is not None
    assert not clears(returns_abuse.PATTERN, found.sequential, found.findings, S)


def test_an_alert_worthy_rate_finding_keeps_the_alert_whatever_the_sequential_test() -> None:
    drained = evidence(4, 45)
    assert drained.sequential is not None
    # A live alert-worthy finding of the pattern (the rate test's, read on other counts).
    alerting = [dataclass_replace(findings(10, 10, 4)[0], alert=True)]
    assert alerting[0].pattern == returns_abuse.PATTERN
    assert not clears(returns_abuse.PATTERN, drained.sequential, alerting, S)


def test_without_a_measured_spread_no_sequential_test_is_kept_and_nothing_clears() -> None:
    own = {"named_claims": 4, "delivered": 45}
    read = returns_abuse.buyer_evidence("B-1", own, NETWORK, 3, T)
    assert read.sequential is None
    assert not clears(returns_abuse.PATTERN, read.sequential, read.findings, S)


def test_the_buyer_test_clears_at_the_configured_level() -> None:
    shared = Sequential(clear_at=0.01)
    s = returns_abuse.buyer_sequential(shared, 1e-3)
    assert s.clear_at == 0.01
    # Ten to one for an ordinary buyer is not enough at a stricter setting.
    read = returns_abuse.buyer_evidence(
        "B-1", {"named_claims": 4, "delivered": 45}, NETWORK, 3, T, COMMON, s
    )
    assert read.sequential is not None
    assert math.log(0.01) < read.sequential.log_bf <= math.log(0.1)
    assert not clears(returns_abuse.PATTERN, read.sequential, read.findings, s)
