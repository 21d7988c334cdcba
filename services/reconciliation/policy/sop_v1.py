"""SOP v1 as one frozen, versioned definition: every window, checklist, threshold, percentage,
cap and timer of the procedure lives here and nowhere else.

The same definition is stored in the `policies` table by a migration, so a decision's
`policy_version` always points at the numbers it was taken with, and a draft revision can be
compared field by field.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from shared.events import ClaimType, EvidenceKind, LiableParty
from shared.validation import JsonTypes, SentPaise


class _Frozen(JsonTypes):
    # JSON's own types: a draft's `changes` arrive as free-form JSON and are read through this
    # definition, so `"120"` for a window in hours is refused there as in any request body.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class EvidenceRequirement(_Frozen):
    """One acceptable set of evidence: at least `min_counts[kind]` items of each kind, plus the
    seller's received weight when `needs_received_weight`."""

    min_counts: dict[EvidenceKind, int]
    needs_received_weight: bool = False


class EvidenceChecklist(_Frozen):
    """Any one of `alternatives` satisfies the claim type; no alternatives means none needed."""

    alternatives: tuple[EvidenceRequirement, ...] = ()
    checklist: tuple[str, ...] = ()


class Windows(_Frozen):
    claim_window_h: int = Field(description="E3: hours after delivery to the seller.")
    not_received_earliest_days: int = Field(description="E3b/L3: days after pickup.")
    not_received_latest_days: int = Field(description="E3c: days after pickup.")
    appeal_window_days: int
    # Versions stored before partners could contest read as 7 days.
    partner_contest_window_days: int = Field(
        default=7, ge=1, le=90, description="Days a partner has to contest a debit notice."
    )


class Timers(_Frozen):
    facts_wait_h: int = Field(description="E1: how long a case waits for missing facts.")
    # Versions stored before this wait existed read as 1 minute: scans a few seconds behind the
    # delivery are caught, and a return the partner never QC-scanned is not held up for long.
    scan_wait_min: int = Field(
        default=1,
        ge=0,
        description="E1: how long a case whose needed facts are known waits for pickup and QC "
        "scans still in flight before it is judged without them.",
    )
    evidence_reply_h: int = Field(description="E4: reply-by for requested evidence.")
    fraud_wait_min: int = Field(description="E5b: wait for a fraud assessment.")
    review_sla_h: int = Field(description="UNDER_REVIEW must be decided within this.")
    auto_decision_min: int = Field(description="An auto-decidable claim is decided within this.")
    acknowledgement_min: int
    # Versions stored before this limit existed read as a week.
    overdue_promise_max_h: int = Field(
        default=168,
        ge=1,
        description="An escalated or appealed case past the decision date the seller was given "
        "gets a new date, each further from the last (management's hours, doubled per broken "
        "date) up to this many hours.",
    )


class WeightDrop(_Frozen):
    """A drop is `pickup - delivered > max(min_drop_g, pickup * min_drop_pct / 100)`."""

    min_drop_g: int
    min_drop_pct: int


class LiabilityRule(_Frozen):
    liable_party: LiableParty | None
    payout_pct: int = Field(ge=0, le=100)
    summary: str


# Cross-team tasks: a team's SLA (hours) for what a case asks of it.
TASK_SLA_H = {
    "logistics_partner_ops": 48,
    "warehouse": 24,
    "finance": 24,
    "brand_management": 72,
    "technology": 48,
    "management": 24,
}


class SettlementHolds(_Frozen):
    """Decisions a team must confirm before they are settled; none in a version stored before
    holds existed."""

    finance_confirmation_above_paise: SentPaise | None = Field(
        default=None, description="Finance confirms any payout above this."
    )
    warehouse_receipt_claim_types: tuple[ClaimType, ...] = Field(
        default=(), description="The warehouse confirms receipt of returns claimed as these."
    )


class Policy(_Frozen):
    version: str
    windows: Windows
    timers: Timers
    weight_drop: WeightDrop
    evidence: dict[ClaimType, EvidenceChecklist]
    liability: dict[str, LiabilityRule]
    # Caps in paise, bounded as any paise a caller sends (a draft's `changes`): a negative cap
    # or one of 10^18 was taken and would have decided cases.
    approval_cap_paise: SentPaise = Field(description="Payout above this needs an ops_manager.")
    partner_caps_paise: dict[str, SentPaise] = Field(description="Liability cap per shipment.")
    unknown_partner_cap_paise: SentPaise = Field(
        description="Cap for a partner without a contract entry: nothing is recoverable."
    )
    settlement_holds: SettlementHolds = Field(default_factory=SettlementHolds)
    task_sla_h: dict[str, int] = Field(
        default_factory=lambda: dict(TASK_SLA_H),
        description="Hours each team has to do what a case asks of it.",
    )

    def partner_cap(self, partner_id: str | None) -> int:
        if partner_id is None:
            return self.unknown_partner_cap_paise
        return self.partner_caps_paise.get(partner_id, self.unknown_partner_cap_paise)


_VIDEO_OR_PHOTOS = EvidenceChecklist(
    alternatives=(
        EvidenceRequirement(min_counts={EvidenceKind.UNBOXING_VIDEO: 1}),
        EvidenceRequirement(min_counts={EvidenceKind.PHOTO: 2, EvidenceKind.LABEL_PHOTO: 1}),
    ),
    checklist=(
        "An unboxing video of the returned parcel, or",
        "At least 2 photos of the item and 1 photo of the shipping label",
    ),
)

SOP_V1 = Policy(
    version="sop-v1",
    windows=Windows(
        claim_window_h=168,
        not_received_earliest_days=10,
        not_received_latest_days=45,
        appeal_window_days=7,
    ),
    timers=Timers(
        facts_wait_h=48,
        evidence_reply_h=72,
        fraud_wait_min=5,
        review_sla_h=48,
        auto_decision_min=10,
        acknowledgement_min=5,
    ),
    weight_drop=WeightDrop(min_drop_g=50, min_drop_pct=10),
    evidence={
        ClaimType.DAMAGED: _VIDEO_OR_PHOTOS,
        ClaimType.WRONG_ITEM: _VIDEO_OR_PHOTOS,
        ClaimType.USED_ITEM: _VIDEO_OR_PHOTOS,
        ClaimType.MISSING_ITEM: EvidenceChecklist(
            alternatives=(
                EvidenceRequirement(
                    min_counts={EvidenceKind.UNBOXING_VIDEO: 1}, needs_received_weight=True
                ),
            ),
            checklist=(
                "An unboxing video of the returned parcel",
                "The weight of the parcel as you received it, in grams",
            ),
        ),
        ClaimType.NOT_RECEIVED: EvidenceChecklist(),
    },
    liability={
        "L1": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="Partner declared the parcel lost.",
        ),
        "L2": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="Partner declared the parcel damaged in transit.",
        ),
        "L3": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="Not received, no delivery scan, filed after the waiting period.",
        ),
        "L4": LiabilityRule(
            liable_party=LiableParty.SELLER,
            payout_pct=0,
            summary="Not received, but delivered with OTP-verified proof.",
        ),
        "L5": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="Not received, delivered without OTP-verified proof.",
        ),
        "L6": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="Weight dropped between pickup and delivery.",
        ),
        "L7": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="QC failed at pickup but the parcel was picked up anyway.",
        ),
        "L8": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="QC passed at pickup; wrong, used or missing item claimed.",
        ),
        "L9": LiabilityRule(
            liable_party=LiableParty.PARTNER,
            payout_pct=100,
            summary="QC passed at pickup; damage claimed.",
        ),
        "L10": LiabilityRule(
            liable_party=LiableParty.BUYER,
            payout_pct=100,
            summary="No QC at pickup; wrong, used or missing item claimed.",
        ),
        "L11": LiabilityRule(
            liable_party=LiableParty.BUYER,
            payout_pct=50,
            summary="No QC at pickup; damage claimed.",
        ),
        "L12": LiabilityRule(
            liable_party=None, payout_pct=0, summary="No rule matched: a person reviews the case."
        ),
    },
    approval_cap_paise=2_500_000,
    partner_caps_paise={"swiftship": 1_000_000, "rapidroute": 500_000, "desipost": 250_000},
    unknown_partner_cap_paise=0,
)

POLICIES: dict[str, Policy] = {SOP_V1.version: SOP_V1}
CURRENT = SOP_V1
