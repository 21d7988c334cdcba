"""HTTP shapes of analyst labels and precision figures."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from shared.events import Id
from shared.validation import OptionalText, RequestModel

Verdict = Literal["confirmed_fraud", "legitimate"]


class LabelIn(RequestModel):
    entity_type: Literal["seller", "buyer", "partner", "hub", "agent"] | None = None
    entity_id: Id | None = None
    # The example labels an entity, so it names no event (a label is one or the other).
    event_id: UUID | None = Field(default=None, examples=[None])
    verdict: Verdict
    note: OptionalText = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def one_target(self) -> Self:
        has_entity = self.entity_type is not None and self.entity_id is not None
        if (self.entity_type is None) != (self.entity_id is None):
            raise ValueError("entity_type and entity_id go together")
        if has_entity == (self.event_id is not None):
            raise ValueError("label either an entity (entity_type, entity_id) or an event_id")
        return self


class LabelOut(BaseModel):
    id: int
    entity_type: str | None
    entity_id: str | None
    event_id: UUID | None
    verdict: str
    note: str
    labelled_by: str
    labelled_at: datetime


class PrecisionFigure(BaseModel):
    labelled: int = Field(description="Subjects with a label.")
    flagged: int = Field(description="Labelled subjects the model put in the HIGH band.")
    true_positives: int
    false_positives: int
    precision: float | None = Field(description="Of the flagged, the share confirmed as fraud.")
    recall: float | None = Field(description="Of those confirmed as fraud, the share flagged.")


class PrecisionOut(BaseModel):
    events: PrecisionFigure
    entities: PrecisionFigure
