"""HTTP shapes of alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from shared.paging import PageOf
from shared.validation import OptionalText, RequestModel


class AlertOut(BaseModel):
    alert_id: UUID
    pattern: str
    entity_type: str
    entity_id: str
    status: str
    severity: str
    summary: str
    evidence: dict[str, Any]
    suggested_action: str
    raised_at: datetime
    event_time: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_at: datetime | None


class AlertPage(PageOf):
    """A page of alerts, newest first (docs/api.md, "Paging")."""

    items: list[AlertOut]


class AcknowledgeIn(RequestModel):
    note: OptionalText = Field(default="", max_length=2000)
    close: bool = Field(default=False, description="Close the alert instead of acknowledging it.")
