"""HTTP shapes of a return's event history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ReturnEventOut(BaseModel):
    ce_id: str
    ce_type: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]


class ReturnHistory(BaseModel):
    return_id: str
    events: list[ReturnEventOut]
