"""What a seller's claim-rate evidence makes of one claim (`scoring.claim_band`): HIGH only at
the claims' own level (a Bayes factor of 1/`seller_claim_high_alpha`), MEDIUM from the alert up
to there, alone, beside weak signs, as an alert's revision or after a late scan. By default the
level is the alert's own (an alerted seller's claims are HIGH); the rule is tested here at the
level of a setting above it (1e-3, a Bayes factor of 1,000)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from services.fraud.detectors.findings import Finding
from services.fraud.scoring.base import default_config
from services.fraud.scoring.claim_band import (
    crossed,
    held,
    is_held,
    kept_below_high,
    short_of_high,
    stage,
)
from services.fraud.scoring.revisions import revised_claim
from services.fraud.settings import FraudSettings
from shared.events import FraudBand, ReasonCode

# The claims' level as set by FRAUD_SELLER_CLAIM_HIGH_ALPHA=1e-3, ten times the seller's alert.
HIGH = math.log(1000)
# The default level: the seller's alert (FRAUD_SELLER_SEQ_ALPHA=0.01).
DEFAULT = math.log(100)


def seller_rate(log_bf: float, contribution: float = 0.85, **extra: Any) -> Finding:
    return Finding(
        code="SELLER_CLAIM_RATE_SEQUENTIAL",
        detail="claim rate",
        contribution=contribution,
        pattern="CLAIM_ABUSE",
        entity_type="seller",
        entity_id="S-1",
        numbers={"test": "sequential", "log_bayes_factor": log_bf, **extra},
        alert=True,
    )


def reason(f: Finding, weight: float) -> ReasonCode:
    return ReasonCode(
        code=f.code,
        detail=f.detail,
        contribution=weight,
        numbers=f.numbers | {"pattern": f.pattern, "entity": f"{f.entity_type}:{f.entity_id}"},
    )


MISSING_INTACT = ReasonCode(
    code="CLAIM_MISSING_ITEM_WEIGHT_INTACT",
    detail="intact",
    contribution=0.35,
    numbers={"pattern": "CLAIM_ABUSE", "entity": "seller:S-1"},
)


def test_the_claims_high_level_is_the_sellers_alert_by_default() -> None:
    # Only HIGH is reviewed (SOP v1, E5): a level above the alert would leave an alerted
    # abuser's claims MEDIUM, decided on their facts and paid.
    assert FraudSettings().seller_claim_high_alpha == 1e-2
    assert FraudSettings().seller_seq_alpha == 1e-2
    assert math.isclose(default_config().seller_claim_high_log_bf, DEFAULT)


def test_by_default_a_sellers_evidence_at_its_alert_keeps_its_claim_high() -> None:
    # An abuser alerted at a Bayes factor of 150, short of 1,000: its claim stays HIGH.
    f = seller_rate(math.log(150))
    high = default_config().seller_claim_high_log_bf
    assert not short_of_high(f.pattern, f.entity_type, f.numbers, high)
    assert held(f, 0.85, high) == (f, 0.85)
    # The ring's rule holds at the default too: a ringed seller's evidence lifts nothing.
    assert held(f, 0.85, high, {"S-1"})[1] == 0.79


def test_a_sellers_evidence_at_its_alert_holds_its_claim_at_medium_under_a_higher_level() -> None:
    f = seller_rate(math.log(150))
    assert short_of_high(f.pattern, f.entity_type, f.numbers, HIGH)
    g, weight = held(f, 0.85, HIGH)
    assert weight == 0.79 and g.contribution == 0.79
    assert g.alert, "the seller's alert stands"
    assert is_held(g.numbers)


def test_evidence_far_beyond_the_alert_makes_the_claim_high() -> None:
    f = seller_rate(math.log(2000), contribution=0.93)
    assert held(f, 0.93, HIGH) == (f, 0.93)


def test_other_findings_and_the_rate_test_are_left_alone() -> None:
    rate_test = Finding(
        "SELLER_CLAIM_RATE_HIGH", "p", 0.9, "CLAIM_ABUSE", "seller", "S-1", {"p_value": 1e-5}
    )
    buyer = Finding(
        "BUYER_WRONG_USED_SEQUENTIAL",
        "b",
        0.9,
        "WRONG_USED_RETURNS",
        "buyer",
        "B-1",
        {"test": "sequential", "log_bayes_factor": 5.0},
    )
    assert held(rate_test, 0.9, HIGH) == (rate_test, 0.9)
    assert held(buyer, 0.9, HIGH) == (buyer, 0.9)
    # An alert's floor whose evidence names no sequential test stays the floor.
    bare = Finding("SELLER_CLAIM_RATE_HIGH", "3/3", 0.8, "CLAIM_ABUSE", "seller", "S-1", {})
    assert held(bare, 0.8, HIGH) == (bare, 0.8)


def test_weak_signs_beside_held_evidence_do_not_make_the_claim_high() -> None:
    g, weight = held(seller_rate(math.log(150)), 0.85, HIGH)
    reasons = [reason(g, weight), MISSING_INTACT]
    # Noisy-OR of 0.79 and 0.35 is 0.86: HIGH, but only with the held evidence's help.
    assert kept_below_high(0.86, reasons) == 0.79
    # Direct evidence HIGH on its own keeps the claim HIGH.
    reuse = ReasonCode(
        code="EVIDENCE_REUSED_EXACT",
        detail="reuse",
        contribution=0.95,
        numbers={"pattern": "EVIDENCE_REUSE", "entity": "seller:S-1"},
    )
    assert kept_below_high(0.99, [*reasons, reuse]) == 0.99
    # Without a held reason nothing changes.
    assert kept_below_high(0.86, [MISSING_INTACT]) == 0.86
    # Weak findings that together pass 0.8 beside it do not corroborate it either (a rate test
    # short of its own HIGH and a pair's claims: 0.72 and 0.29 make 0.80 by noisy-OR).
    rate = ReasonCode(
        code="SELLER_CLAIM_RATE_HIGH",
        detail="rate",
        contribution=0.719,
        numbers={"pattern": "CLAIM_ABUSE", "entity": "seller:S-1"},
    )
    pair = ReasonCode(
        code="COLLUSION_SELLER_BUYER",
        detail="pair",
        contribution=0.293,
        numbers={"pattern": "COLLUSION_SELLER_BUYER", "entity": "seller:S-1"},
    )
    assert kept_below_high(0.958, [reasons[0], rate, pair]) == 0.79


def test_a_late_scan_does_not_lift_a_claim_held_at_medium_to_high() -> None:
    g, weight = held(seller_rate(math.log(150)), 0.85, HIGH)
    revised_floor = reason(g, weight).model_copy(
        update={
            "numbers": reason(g, weight).numbers
            | {"alert_id": "a-1", "revised_on_event_time": "2026-03-01T00:00:00+00:00"}
        }
    )
    # The scan shows a MISSING_ITEM's parcel intact: the fresh run scores 0.35 on its own.
    revised = revised_claim("MEDIUM", [revised_floor], 0.35, [MISSING_INTACT], set())
    assert revised is None, "still MEDIUM"
    revised = revised_claim("LOW", [revised_floor], 0.35, [MISSING_INTACT], set())
    assert revised is not None and revised.band is FraudBand.MEDIUM


def test_a_colluding_sellers_claim_abuse_evidence_lifts_none_of_its_claims_to_high() -> None:
    # Far beyond the claims' level, but the seller is in a seller-buyer ring: the ring's claims
    # are HIGH on the ring's alert, its claims with other buyers MEDIUM at most.
    f = seller_rate(math.log(5000), contribution=0.95)
    g, weight = held(f, 0.95, HIGH, {"S-1"})
    assert weight == 0.79 and is_held(g.numbers)
    assert held(f, 0.95, HIGH, {"S-2"}) == (f, 0.95)
    # Whatever claim-abuse finding it is, the rate test's too.
    rate_test = Finding(
        "SELLER_CLAIM_RATE_HIGH", "p", 0.9, "CLAIM_ABUSE", "seller", "S-1", {"p_value": 1e-6}
    )
    assert held(rate_test, 0.9, HIGH, {"S-1"})[1] == 0.79


# What an alert makes of a seller's claims follows its evidence, up and down, at two levels:
# the claims' HIGH level for the claims filed since the alert, the lift level (a Bayes factor of
# 1,000 by default) for those filed before it (`claim_band.stage`, `service.follow_evidence`).
LIFT = math.log(1000)


def test_the_claims_before_an_alert_are_lifted_at_the_claims_level_by_default() -> None:
    # Set at 1e-3, the claims before the alert (the run the test was crossed on, where an
    # honest seller's luck lies) need a Bayes factor of 1,000; by default they need the
    # claims' own level, and the levels are not followed down (a moderate abuser's evidence
    # hovers about its alert as an honest seller's does).
    assert FraudSettings().seller_claim_lift_alpha == 1e-2
    assert FraudSettings().seller_claim_follow_down is False
    assert math.isclose(default_config().seller_claim_lift_log_bf, DEFAULT)
    assert math.isclose(
        replace(default_config(), seller_claim_lift_alpha=1e-3).seller_claim_lift_log_bf, LIFT
    )
    # Never below the claims' own level.
    loose = replace(default_config(), seller_claim_high_alpha=1e-4, seller_claim_lift_alpha=1e-2)
    assert math.isclose(loose.seller_claim_lift_log_bf, math.log(1e4))


def test_a_sellers_evidence_reads_as_a_stage() -> None:
    assert stage(seller_rate(DEFAULT - 0.1).numbers, DEFAULT, LIFT) == 0
    assert stage(seller_rate(DEFAULT).numbers, DEFAULT, LIFT) == 1
    assert stage(seller_rate(LIFT - 0.01).numbers, DEFAULT, LIFT) == 1
    assert stage(seller_rate(LIFT).numbers, DEFAULT, LIFT) == 2
    # A rate test's finding is no sequential evidence: left alone.
    assert stage({"test": "rate", "p": 1e-5}, DEFAULT, LIFT) is None
    assert stage({"test": "sequential"}, DEFAULT, LIFT) is None


def test_the_claims_that_change_band_as_the_evidence_moves() -> None:
    # (since the alert, before it)
    assert crossed(1, 2) == (False, True)
    assert crossed(2, 1) == (False, True)
    assert crossed(2, 0) == (True, True)
    assert crossed(0, 2) == (True, True)
    assert crossed(0, 1) == (True, False)
    assert crossed(1, 0) == (True, False)
    assert crossed(1, 1) == (False, False)


def test_evidence_at_the_alert_holds_the_claims_before_it_at_medium() -> None:
    at_alert = seller_rate(5.0)
    # Filed since the alert: HIGH at the claims' level.
    same, weight = held(at_alert, 0.85, DEFAULT)
    assert same is at_alert and weight == 0.85
    # Filed before it: held at MEDIUM short of the lift level.
    before, weight = held(at_alert, 0.85, LIFT)
    assert weight < 0.8 and is_held(before.numbers)
    beyond = seller_rate(LIFT + 0.5)
    assert held(beyond, 0.9, LIFT)[0] is beyond
