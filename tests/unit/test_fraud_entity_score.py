"""An entity's risk reads HIGH only where the alert rules would raise on its findings
(`scoring.service.entity_score`); below that, weak findings lift it within MEDIUM."""

from __future__ import annotations

from services.fraud.detectors.findings import Finding, band_of, combine
from services.fraud.detectors.stats import Thresholds
from services.fraud.scoring.service import BELOW_HIGH, entity_score
from shared.events import FraudBand

T = Thresholds()


def finding(
    code: str,
    contribution: float,
    pattern: str,
    *,
    alert: bool = False,
    **numbers: float | int | str,
) -> Finding:
    return Finding(code, "", contribution, pattern, "seller", "S-1", dict(numbers), alert=alert)


def test_a_test_on_too_few_events_beside_another_patterns_medium_stays_medium() -> None:
    # W4242-S0091: the pair at 0.76 and the claim rate on too few events at 0.30.
    found = [
        finding("COLLUSION_SELLER_BUYER", 0.76, "COLLUSION_SELLER_BUYER", p_value=3e-4),
        finding("SELLER_CLAIM_RATE_HIGH", 0.30, "CLAIM_ABUSE", p_value=0.01, too_few_events=1),
    ]
    assert band_of(combine([f.contribution for f in found])) is FraudBand.HIGH
    assert entity_score(found, T) == BELOW_HIGH


def test_findings_of_different_patterns_lift_within_medium_but_not_to_high() -> None:
    found = [
        finding("COLLUSION_SELLER_BUYER", 0.79, "COLLUSION_SELLER_BUYER", p_value=1.2e-4),
        finding("SELLER_CLAIM_RATE_SEQUENTIAL", 0.61, "CLAIM_ABUSE", test="sequential"),
    ]
    assert entity_score(found, T) == BELOW_HIGH
    # Below HIGH the noisy-OR stands: two weak findings make MEDIUM.
    weak = [
        finding("COLLUSION_SELLER_BUYER", 0.30, "COLLUSION_SELLER_BUYER", p_value=0.01),
        finding("SELLER_CLAIM_RATE_HIGH", 0.29, "CLAIM_ABUSE", p_value=0.01, too_few_events=1),
    ]
    assert entity_score(weak, T) == combine([0.30, 0.29])
    assert band_of(entity_score(weak, T)) is FraudBand.MEDIUM


def test_a_sequential_test_beside_its_own_rate_test_is_no_second_witness() -> None:
    found = [
        finding("SELLER_CLAIM_RATE_HIGH", 0.70, "CLAIM_ABUSE", p_value=1e-3),
        finding("SELLER_CLAIM_RATE_SEQUENTIAL", 0.60, "CLAIM_ABUSE", test="sequential"),
    ]
    assert entity_score(found, T) == BELOW_HIGH


def test_high_where_the_alert_rules_raise() -> None:
    # A finding HIGH alone, or alerting.
    alone = [
        finding("SELLER_CLAIM_RATE_HIGH", 0.85, "CLAIM_ABUSE", p_value=5e-5, alert=True),
        finding("CLAIM_FILED_AT_WINDOW_CLOSE", 0.15, "CLAIM_ABUSE"),
    ]
    assert entity_score(alone, T) == combine([0.85, 0.15])
    alerting = [
        finding("SELLER_CLAIM_RATE_SEQUENTIAL", 0.75, "CLAIM_ABUSE", test="sequential", alert=True),
        finding("COLLUSION_SELLER_BUYER", 0.5, "COLLUSION_SELLER_BUYER", p_value=0.005),
    ]
    assert band_of(entity_score(alerting, T)) is FraudBand.HIGH
    # One pattern's independent tests that together meet the alert's false-alarm rate.
    together = [
        finding("SELLER_CLAIM_RATE_HIGH", 0.72, "CLAIM_ABUSE", p_value=3.7e-4),
        finding("SELLER_MISSING_ITEM_WEIGHT_INTACT", 0.55, "CLAIM_ABUSE", p_value=0.007),
    ]
    assert entity_score(together, T) == combine([0.72, 0.55])
    assert band_of(entity_score(together, T)) is FraudBand.HIGH


def test_an_entity_under_an_open_alert_keeps_its_noisy_or() -> None:
    # The rules raised on it already: its findings, whatever they are now, read as before.
    found = [
        finding("SELLER_CLAIM_RATE_SEQUENTIAL", 0.75, "CLAIM_ABUSE", test="sequential"),
        finding("SELLER_CLAIM_RATE_HIGH", 0.5, "CLAIM_ABUSE", p_value=0.004),
    ]
    assert entity_score(found, T) == BELOW_HIGH
    assert entity_score(found, T, under_alert=True) == combine([0.75, 0.5])
