"""Event contracts: every payload that crosses Kafka, and the topic each one travels on.

These models are the single source of truth for producers and consumers alike; the AsyncAPI
document is generated from them. Each payload carries its CloudEvents type in the `type` field,
which is also the discriminator of each topic's union.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, get_args
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    HttpUrl,
    TypeAdapter,
)

from shared.pii import MAX_TOKEN_LENGTH
from shared.validation import Instant, Paise

Grams = Annotated[int, Field(ge=0, le=1_000_000, description="Weight in whole grams.")]
# At least one character that is not a dot: `.` and `..` are no id a URL path can carry (a
# client resolves them as path steps), yet `RET-..` is fine.
Id = Annotated[
    str,
    Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]*[A-Za-z0-9_:\-][A-Za-z0-9._:\-]*$"
    ),
]
# A seller's address sealed for notifications (shared/pii.py): opaque to every other service.
SealedContact = Annotated[
    str,
    Field(
        max_length=MAX_TOKEN_LENGTH,
        pattern=r"^sc1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+$",
        description="Where the desk writes to the seller, sealed: only notifications opens it.",
    ),
]
# Before addresses were sealed, events carried them in clear. Consumers accept that field for one
# more release, for events written before the upgrade; nothing produces it.
# (docs/secrets-and-pii.md)
LegacyEmail = Annotated[
    str | None,
    Field(
        default=None,
        max_length=254,
        exclude=True,  # read from old events, never written
        description="Deprecated: plaintext address of events from before sealing. Never sent.",
    ),
]


class EventPayload(BaseModel):
    """Base of every payload. `type` is the CloudEvents `ce_type` of the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ce_type: ClassVar[str]
    key_field: ClassVar[str] = "return_id"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("type")
        if field is not None and isinstance(field.default, str):
            cls.ce_type = field.default

    def kafka_key(self) -> str:
        return str(getattr(self, self.key_field))


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------


class ShipmentEventType(StrEnum):
    PICKUP_SCHEDULED = "PICKUP_SCHEDULED"
    PICKUP_FAILED = "PICKUP_FAILED"
    PICKED_UP = "PICKED_UP"
    QC_PASSED = "QC_PASSED"
    QC_FAILED = "QC_FAILED"
    IN_TRANSIT = "IN_TRANSIT"
    AT_HUB = "AT_HUB"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED_TO_SELLER = "DELIVERED_TO_SELLER"
    LOST = "LOST"
    DAMAGED_IN_TRANSIT = "DAMAGED_IN_TRANSIT"


class ClaimType(StrEnum):
    DAMAGED = "DAMAGED"
    WRONG_ITEM = "WRONG_ITEM"
    MISSING_ITEM = "MISSING_ITEM"
    USED_ITEM = "USED_ITEM"
    NOT_RECEIVED = "NOT_RECEIVED"


class EvidenceKind(StrEnum):
    UNBOXING_VIDEO = "UNBOXING_VIDEO"
    PHOTO = "PHOTO"
    LABEL_PHOTO = "LABEL_PHOTO"
    INVOICE = "INVOICE"
    OTHER = "OTHER"


class EscalationChannel(StrEnum):
    PORTAL = "PORTAL"
    EMAIL = "EMAIL"
    CALL = "CALL"


class FraudBand(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class CaseState(StrEnum):
    OPEN = "OPEN"
    AWAITING_EVIDENCE = "AWAITING_EVIDENCE"
    UNDER_REVIEW = "UNDER_REVIEW"
    ESCALATED = "ESCALATED"
    DECIDED = "DECIDED"
    REJECTED = "REJECTED"
    APPEALED = "APPEALED"
    CLOSED = "CLOSED"


class CaseOrigin(StrEnum):
    SELLER = "SELLER"
    PROACTIVE = "PROACTIVE"


class Outcome(StrEnum):
    GRANTED = "GRANTED"
    PARTIAL = "PARTIAL"
    DENIED = "DENIED"


class LiableParty(StrEnum):
    PARTNER = "PARTNER"
    BUYER = "BUYER"
    SELLER = "SELLER"
    MARKETPLACE = "MARKETPLACE"


class EvidenceItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EvidenceKind
    uri: HttpUrl = Field(description="https URI where the evidence is stored.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Lowercase hex SHA-256 of the file.")
    captured_at: Instant
    perceptual_hash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{16}$",
        description="64-bit perceptual image hash (hex), when the portal computed one.",
    )


# ---------------------------------------------------------------------------------------------
# intake.returns.v1 — keyed by return_id
# ---------------------------------------------------------------------------------------------


class ReturnInitiated(EventPayload):
    """The marketplace accepted a return and assigned a logistics partner to carry it back."""

    type: Literal["disputedesk.intake.return_initiated.v1"] = (
        "disputedesk.intake.return_initiated.v1"
    )
    return_id: Id
    order_id: Id
    seller_id: Id
    buyer_id: Id
    category: str = Field(min_length=1, max_length=64)
    item_value: Paise
    qc_required: bool
    partner_id: Id
    awb: Id
    initiated_at: AwareDatetime
    buyer_contact_hash: str | None = Field(default=None, max_length=128)
    buyer_address_hash: str | None = Field(default=None, max_length=128)


class RefundIssued(EventPayload):
    type: Literal["disputedesk.intake.refund_issued.v1"] = "disputedesk.intake.refund_issued.v1"
    refund_id: Id
    return_id: Id
    order_id: Id
    amount: Paise
    issued_at: AwareDatetime


class ReturnShipmentEvent(EventPayload):
    """One partner scan, normalised to the canonical vocabulary of docs/partners.md."""

    type: Literal["disputedesk.intake.return_shipment_event.v1"] = (
        "disputedesk.intake.return_shipment_event.v1"
    )
    event_id: UUID
    partner_id: Id
    partner_event_id: str = Field(min_length=1, max_length=200)
    return_id: Id
    awb: Id
    event_type: ShipmentEventType
    occurred_at: AwareDatetime
    hub_id: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    weight_g: Grams | None = None
    images: list[str] = Field(default_factory=list, max_length=20)
    pod_otp_verified: bool | None = None
    qc_failure_reason: str | None = Field(default=None, max_length=500)
    raw_ref: str = Field(description="Id of the archived raw request this event came from.")


class SellerEscalationFiled(EventPayload):
    type: Literal["disputedesk.intake.seller_escalation_filed.v1"] = (
        "disputedesk.intake.seller_escalation_filed.v1"
    )
    escalation_id: Id
    return_id: Id
    seller_id: Id
    claim_type: ClaimType
    claimed_amount: Paise
    description: str = Field(max_length=5000)
    evidence: list[EvidenceItem] = Field(default_factory=list, max_length=50)
    received_weight_g: Grams | None = None
    channel: EscalationChannel
    filed_at: AwareDatetime
    filed_by: str = Field(description="Client id of the caller (seller portal or ops agent).")
    seller_contact: SealedContact | None = None
    seller_email: LegacyEmail = None


class EvidenceAdded(EventPayload):
    type: Literal["disputedesk.intake.evidence_added.v1"] = "disputedesk.intake.evidence_added.v1"
    escalation_id: Id
    return_id: Id
    seller_id: Id
    evidence: list[EvidenceItem] = Field(default_factory=list, max_length=50)
    received_weight_g: Grams | None = None
    added_at: AwareDatetime


class AppealFiled(EventPayload):
    type: Literal["disputedesk.intake.appeal_filed.v1"] = "disputedesk.intake.appeal_filed.v1"
    escalation_id: Id = Field(
        description="The escalation appealed; an appeal on a return its seller never escalated "
        "(a case the desk opened itself, SOP P1-P3) carries the appeal's own id, `APL-...`."
    )
    return_id: Id
    seller_id: Id
    reason: str = Field(max_length=5000)
    filed_at: AwareDatetime


IntakeReturnEvent = Annotated[
    ReturnInitiated
    | RefundIssued
    | ReturnShipmentEvent
    | SellerEscalationFiled
    | EvidenceAdded
    | AppealFiled,
    Discriminator("type"),
]


# ---------------------------------------------------------------------------------------------
# intake.seller-feedback.v1 — keyed by seller_id
# ---------------------------------------------------------------------------------------------


class SellerFeedbackReceived(EventPayload):
    key_field: ClassVar[str] = "seller_id"

    type: Literal["disputedesk.intake.seller_feedback_received.v1"] = (
        "disputedesk.intake.seller_feedback_received.v1"
    )
    feedback_id: Id
    seller_id: Id
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=5000)
    return_id: Id | None = None
    received_at: AwareDatetime
    seller_contact: SealedContact | None = None
    seller_email: LegacyEmail = None


SellerFeedbackEvent = Annotated[SellerFeedbackReceived, Discriminator("type")]


# ---------------------------------------------------------------------------------------------
# fraud.assessments.v1 — keyed by return_id; fraud.alerts.v1 — keyed by entity id
# ---------------------------------------------------------------------------------------------


class ReasonCode(BaseModel):
    """One reason behind a score, with the numbers a human can check."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(examples=["SELLER_CLAIM_RATE_HIGH"])
    detail: str = Field(examples=["0.31 vs peer 0.04, p=1e-6"])
    contribution: float = Field(ge=0, le=1)
    numbers: dict[str, float | int | str] = Field(default_factory=dict)


class InvolvedEntities(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: str | None = None
    buyer_id: str | None = None
    partner_id: str | None = None
    hub_id: str | None = None
    agent_id: str | None = None


class FraudAssessed(EventPayload):
    type: Literal["disputedesk.fraud.assessed.v1"] = "disputedesk.fraud.assessed.v1"
    assessment_id: UUID
    subject_event_id: UUID = Field(description="ce_id of the event that was scored.")
    subject_type: str = Field(description="ce_type of the event that was scored.")
    return_id: Id
    escalation_id: str | None = None
    entities: InvolvedEntities
    score: float = Field(ge=0, le=1)
    band: FraudBand
    reasons: list[ReasonCode] = Field(default_factory=list)
    model_version: str
    assessed_at: AwareDatetime
    # Fraud re-assesses an event when it learns more about a party to it while the event's case
    # can still be revisited; consumers take the latest revision (SOP: "the latest assessment").
    revision: int = Field(default=0, ge=0, description="0 for the assessment at arrival.")
    revises: UUID | None = Field(
        default=None, description="assessment_id of the revision this one supersedes."
    )


FraudAssessmentEvent = Annotated[FraudAssessed, Discriminator("type")]


class FraudAlertRaised(EventPayload):
    key_field: ClassVar[str] = "entity_id"

    type: Literal["disputedesk.fraud.alert_raised.v1"] = "disputedesk.fraud.alert_raised.v1"
    alert_id: UUID
    pattern: str = Field(examples=["PILFERAGE_HUB", "COLLUSION_SELLER_BUYER"])
    entity_type: Literal["seller", "buyer", "partner", "hub", "agent"]
    entity_id: str
    severity: FraudBand
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    suggested_action: str
    raised_at: AwareDatetime


FraudAlertEvent = Annotated[FraudAlertRaised, Discriminator("type")]


# ---------------------------------------------------------------------------------------------
# reconciliation.cases.v1 — keyed by return_id
# ---------------------------------------------------------------------------------------------


# An escalation's case report travels inside its event: kept well under Kafka's 1 MB message.
REPORT_MAX_CHARS = 600_000


class DecisionRecord(BaseModel):
    """Everything a decision rests on, as the SOP requires it to be recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_version: str
    rule_id: str
    outcome: Outcome | None = None
    reason_code: str | None = Field(default=None, description="For rejections and reviews.")
    liable_party: LiableParty | None = None
    payout_pct: int = Field(default=0, ge=0, le=100)
    payout: Paise = 0
    partner_debit: Paise = 0
    buyer_receivable: Paise = 0
    marketplace_cost: Paise = 0
    facts: dict[str, Any] = Field(default_factory=dict)
    explanation: str
    decided_by: str = "system"
    decided_at: AwareDatetime


class CaseEventBase(EventPayload):
    """Fields every case transition carries, so a consumer never needs the case's database."""

    case_id: Id
    case_version: int = Field(ge=1, description="Increases by one on every transition.")
    return_id: Id
    seller_id: Id
    partner_id: str | None = None
    claim_type: ClaimType | None = None
    origin: CaseOrigin
    state: CaseState
    previous_state: CaseState | None = None
    waiting_for: str | None = Field(default=None, examples=["PENDING_FACTS", "FRAUD_ASSESSMENT"])
    actor: str = Field(description="User id or `system`.")
    reason: str = Field(description="Why the transition happened, in plain words.")
    occurred_at: AwareDatetime
    decision: DecisionRecord | None = None
    seller_contact: SealedContact | None = None
    seller_email: LegacyEmail = None
    claimed_amount: Paise | None = None


class CaseOpened(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_opened.v1"] = (
        "disputedesk.reconciliation.case_opened.v1"
    )
    expected_decision_by: AwareDatetime | None = None
    trigger_rule: str | None = Field(
        default=None,
        max_length=16,
        examples=["P1", "P2", "P3"],
        description="For a case the desk opened itself, the SOP rule that opened it: tells "
        "notifications whether the seller has something to do.",
    )
    awaiting_return_until: AwareDatetime | None = Field(
        default=None,
        description="A claim filed before the marketplace feed named its return (SOP E1): "
        "until when the case waits for the return's record before the desk takes it over.",
    )
    awaiting_delivery_until: AwareDatetime | None = Field(
        default=None,
        description="An item claim on a known return whose delivery back to the seller the "
        "partner has not scanned yet (SOP E1: the claim window counts from that scan): until "
        "when the case waits for it before the desk takes it over.",
    )
    asks_for_evidence: bool = Field(
        default=False,
        description="The claim came without its checklist (E4): the SOP asks the seller for "
        "evidence, in the same moment or once the facts it first waits for are in (E1). The "
        "acknowledgement says that request follows, not that the seller has nothing to do.",
    )
    asks_once_facts_are_in: bool = Field(
        default=False,
        description="With `asks_for_evidence`: the SOP first waits for facts the claim needs "
        "(E1: the return's record, a scan). The evidence request follows only if the claim goes "
        "on once they are in: they may close it (E3), or, still missing after the wait, hand it "
        "to a person. The acknowledgement says the request may follow, not that it will.",
    )


def _evidence_received_field() -> Any:
    return Field(
        default_factory=dict,
        examples=[{"PHOTO": 1}],
        description="With `evidence_missing`: the evidence that reached the case so far, by "
        "kind, so the seller is told what was received and asked only for the rest (as "
        "`EvidenceRequested.received`). Empty otherwise, and in events published before it "
        "was recorded (the email then lists `evidence_missing`).",
    )


def _evidence_received_weight_field() -> Any:
    return Field(
        default=None,
        ge=0,
        description="With `evidence_missing`: the weight the seller stated for the parcel as "
        "received, so far (see `evidence_received`).",
    )


def _evidence_still_needed_field() -> Any:
    return Field(
        default_factory=list,
        examples=[[{"UNBOXING_VIDEO": 1}, {"PHOTO": 1, "LABEL_PHOTO": 1}]],
        description="With `evidence_missing`: what each acceptable set of the checklist still "
        "lacks given `evidence_received`, one entry per alternative (as "
        "`EvidenceRequested.still_needed`). Empty otherwise, and in events published before it "
        "was recorded.",
    )


class EvidenceRequested(CaseEventBase):
    type: Literal["disputedesk.reconciliation.evidence_requested.v1"] = (
        "disputedesk.reconciliation.evidence_requested.v1"
    )
    checklist: list[str]
    reply_by: AwareDatetime
    received: dict[str, int] = Field(
        default_factory=dict,
        description="Evidence that reached the case before this request, by kind (`PHOTO`: 1): "
        "what the seller sent so far, on the SOP's first request (what came with the claim) as "
        "on the one it makes again when what the seller sent does not complete the checklist "
        "(the reply-by is the first request's). In events published before `answers_evidence` "
        "was recorded, set only on a request made again.",
    )
    received_weight_g: int | None = Field(
        default=None,
        ge=0,
        description="The weight the seller stated for the parcel as received, so far (see "
        "`received`).",
    )
    answers_evidence: bool | None = Field(
        default=None,
        description="True when the SOP asks again because evidence arrived that does not "
        "complete the checklist (an answer to that evidence); False on a first request, which "
        "may still name what came with the claim in `received`. None in events published before "
        "it was recorded, where a non-empty `received` meant an answer.",
    )
    still_needed: list[dict[str, int]] = Field(
        default_factory=list,
        examples=[[{"UNBOXING_VIDEO": 1}, {"PHOTO": 1, "LABEL_PHOTO": 1}]],
        description="On the SOP's checklist requests (E4, P2): what each acceptable set of "
        "evidence still lacks given `received`, one entry per alternative (any one completes "
        "the checklist), by kind and how many more; `RECEIVED_WEIGHT_G`: 1 for the parcel's "
        "weight as received. Empty on a desk's request and in events published before it was "
        "recorded (the email then lists `checklist`).",
    )
    claim_window_h: int | None = Field(
        default=None,
        ge=0,
        description="On the request of a case the desk opened for a weight drop (SOP P2): the "
        "claim window from delivery, in hours (the case's policy), whose end is `reply_by`; the "
        "seller's email states it. None otherwise, and in events published before it was "
        "recorded.",
    )


class ReopenedClosure(BaseModel):
    """A closure the seller was emailed and a partner's record then undid (the case reopened
    on the record, `REOPENED_ON_DECLARATION`): the seller's inbox says the claim is closed until
    the case's next answer says that closure no longer stands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(max_length=16, examples=["E3", "E3b", "E3c"])
    reason_code: str | None = Field(default=None, max_length=40, examples=["CLAIM_WINDOW_EXPIRED"])
    closed_at: AwareDatetime = Field(
        description="When the claim was closed (the closure's decision)."
    )
    appeal_answered: bool = Field(
        default=False,
        description="The seller had appealed the closure when the record reopened it. On a "
        "`CaseDecided` the appeal is heard against that decision (the case goes on to "
        "`APPEALED`, as when the appeal reaches a decided claim); on a review or an escalation "
        "a person decides the claim anyway, so the answer also answers the appeal, which is "
        "not used up (the person's decision has its own).",
    )
    appeal_decision_due_by: AwareDatetime | None = Field(
        default=None,
        description="With `appeal_answered`: the date the seller's appeal acknowledgement gave "
        "for its result, which a decision's hearing of the appeal keeps.",
    )


def _reopened_closure_field() -> Any:
    return Field(
        default=None,
        description="On the case's first answer after a partner's record reopened a claim closed "
        "by a filing window (E3, E3b, E3c): the closure the seller was told of, which this answer "
        "replaces. None otherwise.",
    )


class CaseUnderReview(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_under_review.v1"] = (
        "disputedesk.reconciliation.case_under_review.v1"
    )
    closure_reopened: ReopenedClosure | None = _reopened_closure_field()
    decision_due_by: AwareDatetime | None = Field(
        default=None,
        description="When the review's SLA ends: the date a seller whose timeline moved is "
        "given for the decision.",
    )
    reason_code: str | None = Field(
        default=None,
        max_length=40,
        examples=["MISSING_FACTS", "NO_RULE_MATCHED", "EVIDENCE_RECEIVED"],
        description="Why a person decides now: tells the seller's email what to say.",
    )
    evidence_missing: list[str] = Field(
        default_factory=list,
        examples=[
            [
                "An unboxing video of the returned parcel, or",
                "At least 2 photos of the item and 1 photo of the shipping label",
            ]
        ],
        description="The claim type's evidence checklist, when the seller's claim goes to a "
        "person still without it (E1's review comes before E4 asks): the seller is told what "
        "the person deciding can still use. Empty otherwise.",
    )
    evidence_received: dict[str, int] = _evidence_received_field()
    evidence_received_weight_g: int | None = _evidence_received_weight_field()
    evidence_still_needed: list[dict[str, int]] = _evidence_still_needed_field()
    facts_missing: list[str] = Field(
        default_factory=list,
        examples=[["DELIVERY_SCAN"], ["RETURN"]],
        description="On `MISSING_FACTS` (E1's wait over): which record never came, `RETURN` "
        "(the marketplace's record of the return; no scan can be matched without it) or "
        "`DELIVERY_SCAN` (the partner's scan of its delivery to the seller), so the seller is "
        "told which one. Empty otherwise, and in events published before it was recorded.",
    )
    facts_wait_h: int | None = Field(
        default=None,
        ge=0,
        description="On `MISSING_FACTS`: how long the case waited for the missing record (the "
        "case's policy, E1), which the seller's email states. None in events published before "
        "it was recorded.",
    )


class SettlementWait(BaseModel):
    """A team whose confirmation a decision's payment waits for (a settlement hold)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str = Field(max_length=40, examples=["finance", "warehouse"])
    expected_by: AwareDatetime = Field(
        description="When the team is due to have confirmed (its task's due time): the date the "
        "seller is given for the payment."
    )
    kind: str | None = Field(
        default=None,
        max_length=40,
        examples=["FINANCE_PAYOUT", "WAREHOUSE_RECEIPT", "DESK"],
        description="Why the payment waits for the team: a policy's hold (`FINANCE_PAYOUT`, "
        "`WAREHOUSE_RECEIPT`) or a check the desk asked for on this case (`DESK`); the seller's "
        "email words the two differently. None in events published before it was recorded.",
    )


class CaseDecided(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_decided.v1"] = (
        "disputedesk.reconciliation.case_decided.v1"
    )
    closure_reopened: ReopenedClosure | None = _reopened_closure_field()
    appeal_by: AwareDatetime | None = None
    settlement_waits: list[SettlementWait] = Field(
        default_factory=list,
        description="The teams whose confirmation the payment waits for, each with its due time; "
        "empty when the decision is settled at once (a decision that pays nothing waits only for a "
        "blocking task the desk opened).",
    )
    paid_before: Paise = Field(
        default=0,
        description="What the seller had already been paid on this case under the decision this "
        "one replaces (an appeal overturned): reversed in the ledger with this settlement, so the "
        "seller's account moves by `payout - paid_before`.",
    )


class ClaimTerms(BaseModel):
    """The filing windows and the evidence reply time of the policy that decided a case: the
    numbers a seller is taught from when a claim is closed for one of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_window_h: int = Field(ge=0, description="E3: hours after delivery to the seller.")
    not_received_earliest_days: int = Field(ge=0, description="E3b: days after pickup.")
    not_received_latest_days: int = Field(ge=0, description="E3c: days after pickup.")
    evidence_reply_h: int = Field(ge=0, description="E4: hours to send requested evidence.")
    evidence_checklist: list[str] = Field(
        default_factory=list,
        max_length=20,
        examples=[
            [
                "An unboxing video of the returned parcel",
                "The weight of the parcel as you received it, in grams",
            ]
        ],
        description="E4: the closed claim type's evidence checklist in the policy's words (an "
        "item ending ', or' is one alternative); empty for a claim type that needs none.",
    )


class CaseRejected(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_rejected.v1"] = (
        "disputedesk.reconciliation.case_rejected.v1"
    )
    appeal_by: AwareDatetime | None = None
    reply_by: AwareDatetime | None = Field(
        default=None,
        description="On `EVIDENCE_NOT_PROVIDED`: the evidence reply-by time that passed, which "
        "the seller's email restates.",
    )
    claim_terms: ClaimTerms | None = Field(
        default=None,
        description="On a rejection by the SOP: the windows and the evidence reply time of the "
        "case's policy, which the seller's digest lesson on the closure states. None on a "
        "closure for another seller's return, and in events published before it was recorded.",
    )


class CaseEscalated(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_escalated.v1"] = (
        "disputedesk.reconciliation.case_escalated.v1"
    )
    closure_reopened: ReopenedClosure | None = _reopened_closure_field()
    escalation_reason: str = Field(examples=["SLA_BREACHED", "ABOVE_APPROVAL_CAP"])
    decision_due_by: AwareDatetime | None = Field(
        default=None,
        description="When management is due to have acted on the escalated case (approved the "
        "proposal, or decided): the date the seller's escalation update gives.",
    )


class CaseAppealed(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_appealed.v1"] = (
        "disputedesk.reconciliation.case_appealed.v1"
    )
    decision_due_by: AwareDatetime | None = Field(
        default=None,
        description="When the appeal is due to be decided (the review SLA from the appeal): "
        "the date the seller's appeal acknowledgement gives.",
    )
    appealed_at: AwareDatetime | None = Field(
        default=None,
        description="Set when the appeal heard here was filed before the decision it is heard "
        "against: an appeal of a closure that a partner's record then replaced with a decision. "
        "The seller was acknowledged when the appeal was filed and the decision's email said "
        "the appeal goes on, so this hearing writes the seller nothing new.",
    )


class CaseSettled(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_settled.v1"] = (
        "disputedesk.reconciliation.case_settled.v1"
    )
    ledger_transaction_id: UUID | None = None
    paid_before: Paise = Field(
        default=0,
        description="What the seller had already been paid on this case under the decision this "
        "one replaces (an appeal overturned): reversed in the ledger with this settlement, so the "
        "seller's account moves by `payout - paid_before`.",
    )


class CaseNoteAdded(CaseEventBase):
    type: Literal["disputedesk.reconciliation.case_note_added.v1"] = (
        "disputedesk.reconciliation.case_note_added.v1"
    )
    note: str = Field(max_length=5000)
    call_counterpart: str | None = Field(
        default=None,
        examples=["SELLER", "PARTNER"],
        description="Set when the note is a logged call: who the desk spoke with (a call with "
        "the seller is summarised in the seller's next email, if the seller asked for that).",
    )


class CaseUpdated(CaseEventBase):
    """A fact merged into an open case (a later escalation, new evidence, an assignment)."""

    type: Literal["disputedesk.reconciliation.case_updated.v1"] = (
        "disputedesk.reconciliation.case_updated.v1"
    )
    change: str = Field(
        examples=["ESCALATION_MERGED", "EVIDENCE_ADDED", "ASSIGNED", "DECISION_OVERDUE"]
    )
    appeal_by: AwareDatetime | None = Field(
        default=None,
        description="On a duplicate filing of a decided case, and on `REFILED_TOO_EARLY` (a "
        "filing after a premature claim that is itself still premature, SOP E3b; the case stays "
        "closed and `decision` carries the E3b paragraph for the new filing): until when the "
        "first case's decision may still be appealed (the seller's next date).",
    )
    next_step_by: AwareDatetime | None = Field(
        default=None,
        description="When the seller hears next. On a filing merged into the open case: the "
        "evidence reply-by while the case waits for evidence, the date management is held to on "
        "an escalated case, else the latest the decision is due. On a duplicate filing of a case "
        "under appeal: when the appeal's result is due. On `DECISION_OVERDUE` (the date promised "
        "for management's or an appeal's decision passed): the new date; on "
        "`DECISION_STILL_OVERDUE` (management's daily alert while that new date still holds): "
        "the date the seller holds. On `SETTLEMENT_OVERDUE` (a held payment missed the date the "
        "seller was given): the new date. On `REOPENED` (a filing after a premature claim): the "
        "latest the reopened claim is decided, from the first verdict on the new filing, as "
        "`CaseOpened.expected_decision_by` (since 2026-12-05). None while no deadline runs.",
    )
    evidence_missing: list[str] = Field(
        default_factory=list,
        description="On `ESCALATION_MERGED` into a case not waiting for evidence: the claim "
        "type's checklist, when the case's claim is still without it (the SOP first waits for "
        "facts, E1, or a person decides). The filing's acknowledgement lists it as what may "
        "still be asked for or used, not 'nothing to do'. Empty otherwise.",
    )
    evidence_received: dict[str, int] = _evidence_received_field()
    evidence_received_weight_g: int | None = _evidence_received_weight_field()
    evidence_still_needed: list[dict[str, int]] = _evidence_still_needed_field()
    asks_for_evidence: bool = Field(
        default=False,
        description="On `ESCALATION_MERGED` into a case not waiting for evidence: the SOP asks "
        "the seller for the claim's checklist in the same moment (E4: a claim adopted by a case "
        "the desk opened, or one held for the fraud check). The filing's acknowledgement waits "
        "for that request, which says the claim joined the case, instead of saying the request "
        "may follow once awaited records are in. On `REOPENED`: the reopened claim's checklist "
        "is unmet and the SOP asks for it (as `CaseOpened.asks_for_evidence`).",
    )
    asks_once_facts_are_in: bool = Field(
        default=False,
        description="On `REOPENED`, with `asks_for_evidence`: the SOP first waits for facts the "
        "reopened claim needs (E1), and asks for the evidence only if the claim goes on once "
        "they are in (as `CaseOpened.asks_once_facts_are_in`).",
    )
    awaiting_return_until: AwareDatetime | None = Field(
        default=None,
        description="On `ESCALATION_MERGED` into a case waiting for the return's record (SOP "
        "E1, as `CaseOpened.awaiting_return_until`), on `REOPENED` when the reopened claim "
        "waits for it, and on `SELLER_WROTE` answering a message sent during that wait: the end "
        "of that wait, when the desk takes the case over if the record has not come.",
    )
    awaiting_delivery_until: AwareDatetime | None = Field(
        default=None,
        description="On `ESCALATION_MERGED` into a case waiting for the partner's scan of the "
        "return's delivery to the seller (SOP E1, as `CaseOpened.awaiting_delivery_until`), and "
        "on `REOPENED` when the reopened claim waits for it, and on `SELLER_WROTE` answering a "
        "message sent during that wait: the end of that wait, when the desk takes the case over "
        "if the scan has not come.",
    )
    settlement_waits: list[SettlementWait] = Field(
        default_factory=list,
        description="The teams a decided payment still waits for, each with its due time: on "
        "`SETTLEMENT_OVERDUE`, and on a duplicate filing of a decided case whose payment waits "
        "(`DUPLICATE_CLAIM_REJECTED`, `SELLER_WROTE`). Empty otherwise.",
    )
    message_evidence: dict[str, int] = Field(
        default_factory=dict,
        examples=[{"PHOTO": 2, "UNBOXING_VIDEO": 1}],
        description="On `SELLER_WROTE` (a seller's message the case answers: evidence or a "
        "reply after the decision, a text reply to an open case): the evidence that message "
        "brought, counted by kind (`EvidenceKind`); empty for a message of text alone.",
    )
    message_weight_g: int | None = Field(
        default=None,
        ge=0,
        description="On `SELLER_WROTE`: the received weight that message stated, if any.",
    )
    replaced_decision: DecisionRecord | None = Field(
        default=None,
        description="On `PROPOSAL_REPLACED` (since 2026-12-07): the proposal awaiting approval "
        "that the new one (`decision`) replaced; it can no longer be approved. Management is "
        "alerted with both; the seller, told the earlier amount, hears the new one when it "
        "differs.",
    )
    proposal_id: str | None = Field(
        default=None,
        max_length=40,
        description="On `PROPOSAL_REPLACED`: the name of the proposal now awaiting approval "
        "(`POST /v1/cases/{id}/approve` `proposal_id`).",
    )
    replaced_proposal_id: str | None = Field(
        default=None,
        max_length=40,
        description="On `PROPOSAL_REPLACED`: the name of the proposal it replaced.",
    )


class CaseTaskEventBase(EventPayload):
    """A cross-team task on a case (reconciliation `tasks/`). Not a transition of the case: the
    case's version is the one the task was opened or found overdue under. No addresses: the
    notifications service maps `team` to its own recipients."""

    task_id: UUID
    case_id: Id
    return_id: Id
    team: str = Field(
        max_length=40,
        examples=["finance", "warehouse", "logistics_partner_ops", "management"],
    )
    ask: str = Field(max_length=4000, description="What the team is asked to do.")
    owner: str | None = Field(default=None, max_length=120)
    due_at: AwareDatetime = Field(description="From the team's SLA in the case's policy.")
    blocks_settlement: bool = False
    opened_by: str = Field(description="User id or `system` (a settlement hold).")
    occurred_at: AwareDatetime


class CaseTaskOpened(CaseTaskEventBase):
    """A team is asked for something on a case; an escalation to management carries the case
    report (facts, timeline, fraud reasons, ledger, tasks) as one HTML page."""

    type: Literal["disputedesk.reconciliation.case_task_opened.v1"] = (
        "disputedesk.reconciliation.case_task_opened.v1"
    )
    escalation_reason: str | None = Field(
        default=None,
        max_length=4000,
        description="Set when the desk escalated the case to management.",
    )
    report_html: str | None = Field(
        default=None,
        max_length=REPORT_MAX_CHARS,
        description="The case report of an escalation to management (no seller contacts).",
    )


class CaseTaskOverdue(CaseTaskEventBase):
    """An open task passed its due time: management is alerted, once per due time it passes
    (a held payment's task is given a new date when it missed the seller's)."""

    type: Literal["disputedesk.reconciliation.case_task_overdue.v1"] = (
        "disputedesk.reconciliation.case_task_overdue.v1"
    )
    alerted_before: AwareDatetime | None = Field(
        default=None,
        description="When management was last alerted for this task, for an earlier due time "
        "it passed; absent on the task's first alert.",
    )


class AppealWithoutCase(EventPayload):
    """An appeal there is nothing to hear on for its seller: the return has no case (an
    appeal by the return route on a return the desk never opened a case for, or one naming a
    claim that opened none), or what the appeal names is another seller's (the return's case,
    or the claim it names: refused as `seller_mismatch`). Not a transition of any case;
    reconciliation publishes it so the seller is answered (`appeal_not_heard`): intake accepts
    every appeal without judging it."""

    type: Literal["disputedesk.reconciliation.appeal_without_case.v1"] = (
        "disputedesk.reconciliation.appeal_without_case.v1"
    )
    appeal_id: Id = Field(
        description="`AppealFiled.escalation_id`: the claim appealed, or the appeal's own "
        "`APL-...` id when it came by the return route."
    )
    return_id: Id
    seller_id: Id
    filed_at: AwareDatetime
    occurred_at: AwareDatetime
    seller_contact: SealedContact | None = Field(
        default=None,
        description="The appealed claim's reply address, when the appeal names one of the "
        "appealing seller's own; never another seller's.",
    )
    answer: Literal["NO_CASE", "NOT_YOURS"] = Field(
        default="NO_CASE",
        description="NO_CASE: the return has no case. NOT_YOURS: the return's case or the "
        "claim the appeal names is another seller's; the appealing seller is told only that it "
        "names a claim or a return that is not theirs, nothing of the other seller's case.",
    )


CaseEvent = Annotated[
    CaseOpened
    | EvidenceRequested
    | CaseUnderReview
    | CaseDecided
    | CaseRejected
    | CaseEscalated
    | CaseAppealed
    | CaseSettled
    | CaseNoteAdded
    | CaseUpdated
    | CaseTaskOpened
    | CaseTaskOverdue
    | AppealWithoutCase,
    Discriminator("type"),
]


# ---------------------------------------------------------------------------------------------
# reconciliation.partner-statements.v1 — keyed by partner_id
# ---------------------------------------------------------------------------------------------

# A month's statement as CSV travels inside its event: kept well under Kafka's 1 MB message.
STATEMENT_CSV_MAX_CHARS = 600_000


class PartnerStatementIssued(EventPayload):
    """Finance issued a partner's monthly debit statement: notifications emails it to the
    partner's finance contact (its own setting; no address travels here). Amounts in paise."""

    key_field: ClassVar[str] = "partner_id"

    type: Literal["disputedesk.reconciliation.partner_statement_issued.v1"] = (
        "disputedesk.reconciliation.partner_statement_issued.v1"
    )
    statement_id: UUID
    partner_id: Id
    month: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])
    opening_balance: int
    debits: Paise
    reversals: Paise
    contests_filed: int = Field(ge=0)
    contests_amount: Paise
    closing_balance: int
    lines: int = Field(ge=0, description="Debit and reversal lines in the month.")
    statement_csv: str | None = Field(
        default=None,
        max_length=STATEMENT_CSV_MAX_CHARS,
        description="The statement as CSV (paise); None when too large to carry.",
    )
    issued_by: str
    issued_at: AwareDatetime


PartnerStatementEvent = Annotated[PartnerStatementIssued, Discriminator("type")]


# ---------------------------------------------------------------------------------------------
# notifications.deliveries.v1 — keyed by return_id when the message is about a case
# ---------------------------------------------------------------------------------------------


class NotificationEventBase(EventPayload):
    """What every delivery outcome says: which message, about what, after how many attempts."""

    key_field: ClassVar[str] = "subject_key"

    message_id: UUID
    subject_key: str = Field(description="return_id for case mail, else the seller or entity id.")
    case_id: str | None = None
    return_id: str | None = None
    seller_id: str | None = None
    template: str
    case_version: int | None = None
    channel: str = "email"
    attempts: int = Field(ge=1)


class NotificationSent(NotificationEventBase):
    type: Literal["disputedesk.notifications.sent.v1"] = "disputedesk.notifications.sent.v1"
    subject: str
    sent_at: AwareDatetime


class NotificationFailed(NotificationEventBase):
    type: Literal["disputedesk.notifications.failed.v1"] = "disputedesk.notifications.failed.v1"
    error: str
    permanent: bool
    failed_at: AwareDatetime


class ReplyAttachment(BaseModel):
    """One attachment of a seller's reply: what it was, and whether it became evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=127)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    perceptual_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    accepted: bool
    refused_because: str | None = Field(default=None, max_length=200)


class SellerReplyReceived(EventPayload):
    """A seller answered one of our emails, and its signed reply address ties the answer to
    this case and this seller. The text has the quoted history removed; accepted attachments
    travel on as evidence (`EvidenceAdded`, like the seller portal's)."""

    type: Literal["disputedesk.notifications.seller_reply_received.v1"] = (
        "disputedesk.notifications.seller_reply_received.v1"
    )
    reply_id: UUID
    case_id: Id
    return_id: Id
    seller_id: Id
    text: str = Field(max_length=5000)
    attachments: list[ReplyAttachment] = Field(default_factory=list, max_length=20)
    received_at: AwareDatetime
    evidence_added: bool | None = Field(
        default=None,
        description="Whether the reply also became evidence (an `EvidenceAdded` follows it: an "
        "accepted attachment or a stated weight), which the case answers as evidence; a reply "
        "that did not is answered as a message (`CaseUpdated` `SELLER_WROTE`). None from "
        "before 2026-12-07: read from the accepted attachments.",
    )


class SellerRepliesRead(EventPayload):
    """Someone at the desk read the seller's replies on a case (`POST
    /v1/cases/{id}/conversation/read`). Published only when it marked at least one reply, on
    the same key as the replies, so a consumer sees replies and reads in the order they
    happened. `read_through` is the newest reply it covered: a reply newer than that is still
    unread."""

    type: Literal["disputedesk.notifications.seller_replies_read.v1"] = (
        "disputedesk.notifications.seller_replies_read.v1"
    )
    case_id: Id
    return_id: Id
    replies_read: int = Field(ge=1)
    read_through: AwareDatetime = Field(description="received_at of the newest reply read.")
    read_by: str = Field(max_length=200, description="The desk user's id (an actor, not PII).")
    read_at: AwareDatetime


NotificationEvent = Annotated[
    NotificationSent | NotificationFailed | SellerReplyReceived | SellerRepliesRead,
    Discriminator("type"),
]


# ---------------------------------------------------------------------------------------------
# Topic registry
# ---------------------------------------------------------------------------------------------


class Topic:
    """A topic, the union of payloads it may carry, and what its Kafka key is."""

    def __init__(self, name: str, union: Any, key_description: str, description: str) -> None:
        self.name = name
        self.adapter: TypeAdapter[EventPayload] = TypeAdapter(union)
        self.key_description = key_description
        self.description = description
        members = get_args(get_args(union)[0]) or (get_args(union)[0],)
        self.models: tuple[type[EventPayload], ...] = tuple(members)

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"


INTAKE_RETURNS = Topic(
    "intake.returns.v1",
    IntakeReturnEvent,
    "return_id",
    "Everything intake learns about a return: the marketplace feed, partner scans, escalations.",
)
INTAKE_SELLER_FEEDBACK = Topic(
    "intake.seller-feedback.v1",
    SellerFeedbackEvent,
    "seller_id",
    "Seller feedback about the desk, used for proactive outreach.",
)
FRAUD_ASSESSMENTS = Topic(
    "fraud.assessments.v1",
    FraudAssessmentEvent,
    "return_id",
    "An explained fraud score for every intake event and every case decision.",
)
FRAUD_ALERTS = Topic(
    "fraud.alerts.v1",
    FraudAlertEvent,
    "entity id",
    "Network-level findings: hub or agent spikes, collusion rings, evidence reuse.",
)
RECONCILIATION_CASES = Topic(
    "reconciliation.cases.v1",
    CaseEvent,
    "return_id",
    "Every case transition with its full decision record, the cross-team tasks on cases, "
    "and the answer to an appeal on a return without a case.",
)
RECONCILIATION_PARTNER_STATEMENTS = Topic(
    "reconciliation.partner-statements.v1",
    PartnerStatementEvent,
    "partner_id",
    "A partner's monthly debit statement, issued by finance, for its finance contact.",
)
NOTIFICATION_DELIVERIES = Topic(
    "notifications.deliveries.v1",
    NotificationEvent,
    "return_id (case mail) or seller/entity id",
    "What was sent to whom (by template), or why it could not be.",
)

TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        INTAKE_RETURNS,
        INTAKE_SELLER_FEEDBACK,
        FRAUD_ASSESSMENTS,
        FRAUD_ALERTS,
        RECONCILIATION_CASES,
        RECONCILIATION_PARTNER_STATEMENTS,
        NOTIFICATION_DELIVERIES,
    )
}

TOPIC_OF_TYPE: dict[str, Topic] = {m.ce_type: t for t in TOPICS.values() for m in t.models}
MODEL_OF_TYPE: dict[str, type[EventPayload]] = {
    m.ce_type: m for t in TOPICS.values() for m in t.models
}


def topic_for(payload: EventPayload) -> Topic:
    return TOPIC_OF_TYPE[payload.ce_type]


def decode_payload(ce_type: str, body: bytes) -> EventPayload:
    """Validate a message value against the model its `ce_type` names."""
    model = MODEL_OF_TYPE.get(ce_type)
    if model is None:
        raise UnknownEventType(ce_type)
    payload = model.model_validate_json(body)
    return payload


class UnknownEventType(ValueError):
    def __init__(self, ce_type: str) -> None:
        super().__init__(f"unknown ce_type {ce_type!r}")
        self.ce_type = ce_type
