"""The accounts of a seller-buyer ring's household (`collusion.ring_account_findings`): pure
logic, no I/O."""

from __future__ import annotations

from services.fraud.detectors import collusion
from services.fraud.detectors.findings import band_of
from services.fraud.detectors.stats import Thresholds
from shared.events import FraudBand

T = Thresholds()


def test_an_account_the_ring_seller_claimed_against_at_the_ring_buyers_address_is_high() -> None:
    [f] = collusion.ring_account_findings("B-2", "S-1", "B-1", "address", 1e-6, 2, T)
    assert f.entity_type == "buyer" and f.entity_id == "B-2"
    assert f.pattern == collusion.SHARED_IDENTITY and f.code == "COLLUSION_RING_ACCOUNT"
    assert f.alert
    assert band_of(f.contribution) == FraudBand.HIGH
    # No `buyer_id`: the alert is the account's own, not a pair's (`subject_key`).
    assert "buyer_id" not in f.numbers
    assert f.numbers["ring_buyer_id"] == "B-1" and f.numbers["pair_claims"] == 2


def test_nothing_for_an_account_never_claimed_against_the_ring_buyer_or_a_pair_short_of_high() -> (
    None
):
    assert collusion.ring_account_findings("B-2", "S-1", "B-1", "address", 1e-6, 0, T) == []
    assert collusion.ring_account_findings("B-1", "S-1", "B-1", "address", 1e-6, 3, T) == []
    assert collusion.ring_account_findings("B-2", "S-1", "B-1", "address", 1e-3, 3, T) == []


def test_a_household_alert_names_its_own_account_as_one_of_the_ring() -> None:
    [f] = collusion.ring_account_findings(
        "B-1", "S-1", "B-1", "address", 1e-6, 2, T, household=True
    )
    assert f.entity_id == "B-1" and f.alert
