"""HTTP bodies of cross-team tasks."""

from __future__ import annotations

from pydantic import Field

from services.reconciliation.tasks.teams import Team
from shared.validation import RequestModel, Text


class TaskIn(RequestModel):
    team: Team
    ask: Text = Field(min_length=3, max_length=4000, description="What the team is asked to do.")
    owner: Text | None = Field(default=None, max_length=120, description="Who in the team.")
    blocks_settlement: bool = Field(
        default=False, description="The case's decision is not settled until this is done."
    )


class CommentIn(RequestModel):
    body: Text = Field(min_length=1, max_length=4000)


class CloseIn(RequestModel):
    resolution: Text = Field(min_length=2, max_length=4000)


class EscalateIn(RequestModel):
    reason: Text = Field(min_length=3, max_length=4000)
