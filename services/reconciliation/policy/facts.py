"""The facts snapshot a decision reads, built from everything stored about one return.

The snapshot depends only on the facts themselves (partner times, filing times, assessment
times), never on the order in which they arrived, so every delivery order gives the same decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from shared.events import ClaimType, FraudBand, ShipmentEventType

_BAND_SEVERITY = {FraudBand.LOW: 0, FraudBand.MEDIUM: 1, FraudBand.HIGH: 2}


@dataclass(frozen=True, slots=True)
class ReturnFact:
    return_id: str
    seller_id: str
    buyer_id: str
    partner_id: str
    category: str
    item_value: int
    qc_required: bool


@dataclass(frozen=True, slots=True)
class ScanFact:
    event_type: ShipmentEventType
    occurred_at: datetime
    weight_g: int | None = None
    pod_otp_verified: bool | None = None


@dataclass(frozen=True, slots=True)
class EvidenceFact:
    kind: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ClaimFact:
    """What the seller claims: the case's primary escalation, or a proactive trigger's stand-in."""

    claim_type: ClaimType | None
    claimed_amount: int
    filed_at: datetime


@dataclass(frozen=True, slots=True)
class AssessmentFact:
    band: FraudBand
    assessed_at: datetime


@dataclass(frozen=True, slots=True)
class Facts:
    return_known: bool = False
    seller_id: str | None = None
    buyer_id: str | None = None
    partner_id: str | None = None
    category: str | None = None
    item_value: int | None = None
    qc_required: bool | None = None
    claim_type: ClaimType | None = None
    claimed_amount: int | None = None
    filed_at: datetime | None = None
    evidence_counts: Mapping[str, int] = field(default_factory=dict)
    received_weight_g: int | None = None
    pickup_at: datetime | None = None
    pickup_weight_g: int | None = None
    qc_result: str | None = None  # "PASSED" | "FAILED" | None
    # A PICKED_UP scan at or after the QC scan that gave `qc_result` (by the scans' own times):
    # L7/P3's "picked up anyway" after a failed QC, not a failure found on a later inspection.
    picked_up_after_qc: bool = False
    delivered_at: datetime | None = None
    delivered_weight_g: int | None = None
    pod_otp_verified: bool | None = None
    declared_lost: bool = False
    declared_damaged_in_transit: bool = False
    fraud_band: FraudBand | None = None

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None

    def as_record(self) -> dict[str, Any]:
        """The facts as JSON-ready values, stored with every decision."""
        out: dict[str, Any] = {}
        for name, kind in _RECORD_KINDS:
            value = getattr(self, name)
            if value is not None and kind is not None:
                # Once per decision: a conversion chosen per field, not an isinstance check of
                # every value against `Mapping` (an ABC, slow to ask).
                if kind is _Kind.DATETIME:
                    value = value.isoformat()
                elif kind is _Kind.MAPPING:
                    value = dict(sorted(value.items()))
                else:
                    value = getattr(value, "value", value)
            out[name] = value
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Facts:
        """The snapshot a decision stored, read back, so past decisions can be judged again under
        another policy (the what-if). Unknown keys are ignored: older records stay readable."""
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if name not in record or record[name] is None:
                continue
            value = record[name]
            if name in _DATETIME_FIELDS:
                value = datetime.fromisoformat(value)
            elif name == "claim_type":
                value = ClaimType(value)
            elif name == "fraud_band":
                value = FraudBand(value)
            elif name == "evidence_counts":
                value = dict(value)
            values[name] = value
        if "picked_up_after_qc" not in record:
            # Recorded before the order was read: those decisions took any pickup with a QC
            # result as after it, and the what-if judges them on what they were decided on.
            values["picked_up_after_qc"] = "qc_result" in values and "pickup_at" in values
        return cls(**values)


_DATETIME_FIELDS = frozenset({"filed_at", "pickup_at", "delivered_at"})


class _Kind(Enum):
    DATETIME = "datetime"
    MAPPING = "mapping"
    ENUM = "enum"


# How `Facts.as_record` writes each field, in the fields' order (None: as it is).
_CONVERTED = {
    **dict.fromkeys(_DATETIME_FIELDS, _Kind.DATETIME),
    "evidence_counts": _Kind.MAPPING,
    "claim_type": _Kind.ENUM,
    "fraud_band": _Kind.ENUM,
}
_RECORD_KINDS = tuple((name, _CONVERTED.get(name)) for name in Facts.__dataclass_fields__)


def band_of(assessments: Iterable[AssessmentFact]) -> FraudBand | None:
    """The latest assessment's band; at equal times the more severe band wins."""
    latest = max(assessments, key=lambda a: (a.assessed_at, _BAND_SEVERITY[a.band]), default=None)
    return latest.band if latest else None


def worst_band(bands: Iterable[FraudBand | None]) -> FraudBand | None:
    known = [b for b in bands if b is not None]
    return max(known, key=lambda b: _BAND_SEVERITY[b]) if known else None


def build_facts(
    *,
    ret: ReturnFact | None,
    scans: Iterable[ScanFact],
    claim: ClaimFact | None,
    evidence: Iterable[EvidenceFact] = (),
    received_weights: Iterable[tuple[datetime, int]] = (),
    fraud_band: FraudBand | None = None,
) -> Facts:
    ordered = sorted(scans, key=lambda s: (s.occurred_at, s.event_type.value))
    by_type: dict[ShipmentEventType, list[ScanFact]] = {}
    for scan in ordered:
        by_type.setdefault(scan.event_type, []).append(scan)

    pickups = by_type.get(ShipmentEventType.PICKED_UP, [])
    qc_scans = by_type.get(ShipmentEventType.QC_PASSED, []) + by_type.get(
        ShipmentEventType.QC_FAILED, []
    )
    qc_scans.sort(key=lambda s: (s.occurred_at, s.event_type.value))
    pickup_weight = next((s.weight_g for s in pickups if s.weight_g is not None), None)
    if pickup_weight is None:
        pickup_weight = next((s.weight_g for s in qc_scans if s.weight_g is not None), None)
    qc_result = None
    picked_up_after_qc = False
    if qc_scans:
        qc_result = "FAILED" if qc_scans[-1].event_type is ShipmentEventType.QC_FAILED else "PASSED"
        # The same instant counts as after: the QC is done at the door, then the agent takes it.
        picked_up_after_qc = any(s.occurred_at >= qc_scans[-1].occurred_at for s in pickups)
    # The parcel reached the seller at the first delivery scan: a partner's repeated delivery
    # scan (a resend, a re-scan days later) is the same delivery, and read from the latest the
    # claim window (E3, P2) would start again with each repeat. Its weight is the first weighed
    # delivery scan's, as the pickup's is; an OTP proof on any of them is the delivery's proof.
    deliveries = by_type.get(ShipmentEventType.DELIVERED_TO_SELLER, [])
    delivered_weight = next((s.weight_g for s in deliveries if s.weight_g is not None), None)
    proofs = {s.pod_otp_verified for s in deliveries} - {None}
    pod_otp_verified = (True in proofs) if proofs else None

    # The same file uploaded twice is one piece of evidence. Counted by hand: `Counter` asks
    # whether its argument is a `Mapping` (an ABC check) on every decision's facts.
    counts: dict[str, int] = {}
    for kind, _ in {(e.kind, e.sha256) for e in evidence}:
        counts[kind] = counts.get(kind, 0) + 1
    weights = sorted(received_weights)

    return Facts(
        return_known=ret is not None,
        seller_id=ret.seller_id if ret else None,
        buyer_id=ret.buyer_id if ret else None,
        partner_id=ret.partner_id if ret else None,
        category=ret.category if ret else None,
        item_value=ret.item_value if ret else None,
        qc_required=ret.qc_required if ret else None,
        claim_type=claim.claim_type if claim else None,
        claimed_amount=claim.claimed_amount if claim else None,
        filed_at=claim.filed_at if claim else None,
        evidence_counts=dict(sorted(counts.items())),
        received_weight_g=weights[-1][1] if weights else None,
        pickup_at=pickups[0].occurred_at if pickups else None,
        pickup_weight_g=pickup_weight,
        qc_result=qc_result,
        picked_up_after_qc=picked_up_after_qc,
        delivered_at=deliveries[0].occurred_at if deliveries else None,
        delivered_weight_g=delivered_weight,
        pod_otp_verified=pod_otp_verified,
        declared_lost=ShipmentEventType.LOST in by_type,
        declared_damaged_in_transit=ShipmentEventType.DAMAGED_IN_TRANSIT in by_type,
        fraud_band=fraud_band,
    )
