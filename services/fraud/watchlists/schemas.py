"""HTTP shapes of watchlists."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.events import Id
from shared.paging import PageOf
from shared.validation import RequestModel, Text


class WatchIn(RequestModel):
    entity_type: Literal["seller", "buyer", "partner", "hub", "agent"]
    entity_id: Id
    reason: Text = Field(min_length=1, max_length=2000)


class WatchOut(BaseModel):
    id: int
    entity_type: str
    entity_id: str
    source: str
    reason: str
    added_by: str
    added_at: datetime
    active: bool
    removed_by: str | None
    removed_at: datetime | None


class WatchPage(PageOf):
    """A page of watchlist entries, newest first (docs/api.md, "Paging")."""

    items: list[WatchOut]
