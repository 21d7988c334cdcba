"""Where an assessment goes: its row (the API's and the evaluation's record) and the outbox,
in the consumer's transaction, so it is published exactly when it is recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud import SOURCE
from services.fraud.models import Assessment, Outbox
from shared.events import FraudAssessed
from shared.outbox import enqueue


def record(
    session: AsyncSession, assessment: FraudAssessed, *, event_time: datetime | None
) -> None:
    """Record and publish one assessment (or revision); `event_time` is the scored fact's own
    time, which the detectors reason on."""
    session.add(
        Assessment(
            assessment_id=assessment.assessment_id,
            subject_event_id=assessment.subject_event_id,
            revision=assessment.revision,
            subject_type=assessment.subject_type,
            return_id=assessment.return_id,
            escalation_id=assessment.escalation_id,
            score=assessment.score,
            band=assessment.band.value,
            reasons=[r.model_dump(mode="json") for r in assessment.reasons],
            entities=assessment.entities.model_dump(),
            model_version=assessment.model_version,
            assessed_at=assessment.assessed_at,
            event_time=event_time,
        )
    )
    enqueue(session, Outbox, assessment, source=SOURCE, subject=assessment.return_id)
