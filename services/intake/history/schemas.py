"""HTTP shapes of a return's event history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared.paging import PageOf


class ReturnEventOut(BaseModel):
    ce_id: str
    ce_type: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]


class ReturnHistory(PageOf):
    """A page of a return's events, in the order they happened (docs/api.md, "Paging")."""

    return_id: str
    items: list[ReturnEventOut]
