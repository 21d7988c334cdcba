"""What-if over past cases: the same facts judged under the policy they were decided with and
under a draft, with the differences counted and priced."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.service import build_draft
from services.reconciliation.policy.sop_v1 import SOP_V1
from services.reconciliation.policy.whatif import PastCase, compare, judge, merged, policy_changes
from shared.events import ClaimType, FraudBand
from shared.problems import Problem

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)

# No QC at pickup, a damage claim with an unboxing video: L11, the buyer pays half (SOP v1).
DAMAGE_NO_QC = Facts(
    return_known=True,
    seller_id="S1",
    buyer_id="B1",
    partner_id="swiftship",
    category="electronics",
    item_value=200_000,
    qc_required=False,
    claim_type=ClaimType.DAMAGED,
    claimed_amount=200_000,
    filed_at=T0 + timedelta(days=2, hours=150),
    evidence_counts={"UNBOXING_VIDEO": 1},
    pickup_at=T0,
    pickup_weight_g=1000,
    delivered_at=T0 + timedelta(days=2),
    delivered_weight_g=1000,
    pod_otp_verified=True,
    fraud_band=FraudBand.LOW,
)


def test_decision_record_holds_json_values_in_field_order() -> None:
    facts = replace(DAMAGE_NO_QC, evidence_counts={"UNBOXING_VIDEO": 1, "PHOTO": 2})
    record = facts.as_record()
    assert list(record) == list(Facts.__dataclass_fields__)
    # Every value is one JSON has: a field of a new type (a date, an enum) must be converted.
    assert json.loads(json.dumps(record)) == record
    assert record["filed_at"] == facts.filed_at.isoformat()  # type: ignore[union-attr]
    assert record["claim_type"] == "DAMAGED" and record["fraud_band"] == "LOW"
    assert list(record["evidence_counts"].items()) == [("PHOTO", 2), ("UNBOXING_VIDEO", 1)]
    assert Facts().as_record()["filed_at"] is None


def case(case_id: str, facts: Facts = DAMAGE_NO_QC) -> PastCase:
    return PastCase(case_id=case_id, proactive=False, policy_version="sop-v1", facts=facts)


def test_facts_survive_the_decision_record() -> None:
    assert Facts.from_record(DAMAGE_NO_QC.as_record()) == DAMAGE_NO_QC
    # Older records without newer fields still read.
    record = DAMAGE_NO_QC.as_record()
    del record["declared_lost"]
    assert Facts.from_record(record).declared_lost is False


def test_unchanged_policy_changes_nothing() -> None:
    report = compare([case("C1"), case("C2")], {"sop-v1": SOP_V1}, SOP_V1)
    assert report.changed == 0
    assert report.current.payout == report.draft.payout == 2 * 100_000


def test_lower_payout_percentage_is_priced_per_case() -> None:
    draft = build_draft(SOP_V1, version="d1", changes={"liability": {"L11": {"payout_pct": 40}}})
    report = compare([case("C1"), case("C2")], {"sop-v1": SOP_V1}, draft).as_dict()
    assert report["changed"] == 2
    assert report["current"]["payout"] == 200_000
    assert report["draft"]["payout"] == 160_000
    assert report["delta"]["payout"] == -40_000
    (transition,) = report["transitions"]
    assert transition["change"] == "L11 DECIDED PARTIAL → L11 DECIDED PARTIAL"
    assert transition["cases"] == 2 and transition["payout_delta"] == -40_000
    assert report["policy_changes"] == []  # filled by the service, against the active policy


def test_shorter_claim_window_rejects_late_filings_only() -> None:
    draft = build_draft(SOP_V1, version="d2", changes={"windows": {"claim_window_h": 120}})
    early = replace(DAMAGE_NO_QC, filed_at=T0 + timedelta(days=3))
    report = compare([case("late"), case("early", early)], {"sop-v1": SOP_V1}, draft)
    assert report.changed == 1
    assert report.samples[0]["case_id"] == "late"
    assert report.samples[0]["draft"]["result"] == "REJECTED"
    assert report.draft.rejected == 1 and report.current.rejected == 0
    assert report.draft.payout == 100_000


def test_lower_approval_cap_sends_cases_to_a_manager() -> None:
    draft = build_draft(SOP_V1, version="d3", changes={"approval_cap_paise": 50_000})
    after = judge(case("C1"), draft)
    assert after.result == "NEEDS_APPROVAL" and after.payout == 100_000


def test_unknown_policy_version_is_skipped_and_counted() -> None:
    old = PastCase("C9", False, "sop-v0", DAMAGE_NO_QC)
    report = compare([old], {"sop-v1": SOP_V1}, SOP_V1)
    assert report.current.cases == 0 and report.skipped == {"unknown policy sop-v0": 1}


def test_policy_changes_name_dotted_fields() -> None:
    draft = build_draft(
        SOP_V1,
        version="d4",
        changes={"windows": {"claim_window_h": 120}, "partner_caps_paise": {"desipost": 300_000}},
    )
    assert policy_changes(SOP_V1, draft) == [
        {"field": "partner_caps_paise.desipost", "from": 250_000, "to": 300_000},
        {"field": "windows.claim_window_h", "from": 168, "to": 120},
    ]


def test_invalid_draft_names_the_field() -> None:
    with pytest.raises(Problem) as caught:
        build_draft(SOP_V1, version="d5", changes={"liability": {"L6": {"payout_pct": 130}}})
    assert caught.value.status == 422
    assert caught.value.extra["errors"][0]["field"] == "changes.liability.L6.payout_pct"


def test_merge_replaces_leaves_and_merges_objects() -> None:
    assert merged({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 5}, "d": [2]}) == {
        "a": {"b": 5, "c": 2},
        "d": [2],
    }
