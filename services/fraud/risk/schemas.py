"""HTTP shapes of assessments and entity risk."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

EntityType = Literal["seller", "buyer", "partner", "hub", "agent"]


class AssessmentOut(BaseModel):
    assessment_id: UUID
    subject_event_id: UUID
    subject_type: str
    return_id: str
    escalation_id: str | None
    score: float
    band: str
    reasons: list[dict[str, Any]]
    entities: dict[str, Any]
    model_version: str
    assessed_at: datetime
    event_time: datetime | None
    # 0 at arrival; higher when a later alert on a party, or a scan that reached fraud after
    # the claim, re-assessed the event.
    revision: int


class RiskPoint(BaseModel):
    score: float
    band: str
    reasons: list[dict[str, Any]]
    as_of: datetime
    subject_event_id: UUID | None = None


class EntityRiskOut(BaseModel):
    entity_type: EntityType
    entity_id: str
    score: float
    band: str
    reasons: list[dict[str, Any]]
    as_of: datetime | None
    watchlisted: bool
    open_alerts: int
    history: list[RiskPoint]
