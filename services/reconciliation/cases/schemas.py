"""HTTP shapes of the review desk (not the ORM, not the events)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Id, LiableParty
from shared.paging import PageOf
from shared.validation import OptionalText, RequestModel, Text

Reason = Field(min_length=3, max_length=5000, description="Why, in plain words (mandatory).")


class CaseSummary(BaseModel):
    case_id: str
    return_id: str
    seller_id: str
    partner_id: str | None
    claim_type: str | None
    claimed_amount: int | None
    origin: str
    state: str
    waiting_for: str | None
    reason_code: str | None
    fraud_band: str | None
    assignee: str | None
    sla_breached: bool
    payout: int = Field(
        description="Paise paid to the seller by the settlement in force (an earlier "
        "payout reversed by an overturned appeal is not counted)."
    )
    payout_pending: int | None = Field(
        default=None,
        description="Paise decided but not yet paid: the settlement waits for a team's "
        "confirmation (finance, the warehouse). None when nothing waits.",
    )
    version: int
    opened_at: datetime
    updated_at: datetime
    age_hours: float
    reply_by: datetime | None
    appeal_by: datetime | None
    seller_unread_since: datetime | None = Field(
        default=None,
        description="When the seller's oldest reply nobody at the desk has read came in; "
        "null when every reply is read (or none came).",
    )


class CaseQueuePage(PageOf):
    """A page of the case queue, oldest first (docs/api.md, "Paging")."""

    items: list[CaseSummary]


class CaseCounts(BaseModel):
    by_state: dict[str, int] = Field(description="Every case state with its number of cases.")


class TimelineItem(BaseModel):
    id: int
    case_version: int
    kind: str
    actor: str
    reason: str
    data: dict[str, Any] | None
    occurred_at: datetime


class CaseDetail(CaseSummary):
    decision: dict[str, Any] | None
    proposal: dict[str, Any] | None
    proposal_id: str | None = Field(
        default=None,
        description="The name of the proposal awaiting approval, to approve it by "
        "(`POST /v1/cases/{case_id}/approve`); a new one when a fact changes the proposal.",
    )
    proposed_by: str | None
    decided_by: str | None
    facts: dict[str, Any]
    timeline: list[TimelineItem]
    ledger: list[dict[str, Any]]


class _In(RequestModel):
    pass


class AssignIn(_In):
    assignee: Text = Field(min_length=1, max_length=200)


class NoteIn(_In):
    note: Text = Field(min_length=1, max_length=5000)


class CallIn(_In):
    direction: Literal["INBOUND", "OUTBOUND"]
    counterpart: Literal["SELLER", "PARTNER", "BUYER", "INTERNAL"] = "SELLER"
    duration_s: int = Field(ge=0, le=24 * 3600)
    summary: Text = Field(min_length=1, max_length=5000)


class EvidenceRequestIn(_In):
    checklist: list[Annotated[Text, Field(max_length=500)]] = Field(min_length=1, max_length=20)
    reason: Text = Reason


class DecisionIn(_In):
    liable_party: LiableParty
    payout_pct: int = Field(ge=0, le=100)
    reason: Text = Reason
    rule_id: str = Field(
        default="MANUAL",
        pattern=r"^(MANUAL|OVERRIDE|L([1-9]|1[0-2]))$",
        description="The SOP rule the decision rests on, or MANUAL / OVERRIDE.",
    )


class EscalateIn(_In):
    reason: Text = Reason


class ApproveIn(_In):
    # The published example names no proposal: a client copying it approves the case's
    # current proposal; a proposal's name is read from the case it belongs to.
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Checked the scans"}]})

    reason: OptionalText = Field(default="", max_length=5000)
    proposal_id: Id | None = Field(
        default=None,
        examples=["PROP-3F9A0C12B7E4D856"],
        description="The proposal approved, as the case names it (`proposal_id`). A proposal "
        "replaced since (a new fact re-judged the case) is refused with 409 naming the current "
        "one. Without it, the proposal the case holds now is approved.",
    )


class AppealDecisionIn(_In):
    overturn: bool
    reason: Text = Reason
    liable_party: LiableParty | None = None
    payout_pct: int | None = Field(default=None, ge=0, le=100)
