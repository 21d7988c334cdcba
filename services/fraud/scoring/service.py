"""Assess an event and record the assessment with its `FraudAssessed` event.

PLACEHOLDER: `placeholder_score` gives every event score 0.0, band LOW, until the detectors of
the fraud issue replace it. It exists so the pipeline runs end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.models import Assessment, Outbox
from shared.events import EventPayload, FraudAssessed, FraudBand, InvolvedEntities
from shared.outbox import enqueue

SOURCE = "disputedesk/fraud"
PLACEHOLDER_MODEL_VERSION = "placeholder-0"


def placeholder_score(payload: EventPayload) -> tuple[float, FraudBand]:
    return 0.0, FraudBand.LOW


async def assess_event(
    session: AsyncSession, *, payload: EventPayload, subject_event_id: UUID
) -> FraudAssessed:
    score, band = placeholder_score(payload)
    entities = InvolvedEntities(
        seller_id=getattr(payload, "seller_id", None),
        buyer_id=getattr(payload, "buyer_id", None),
        partner_id=getattr(payload, "partner_id", None),
        hub_id=getattr(payload, "hub_id", None),
        agent_id=getattr(payload, "agent_id", None),
    )
    assessment = FraudAssessed(
        assessment_id=uuid4(),
        subject_event_id=subject_event_id,
        subject_type=payload.ce_type,
        return_id=str(payload.return_id),
        escalation_id=getattr(payload, "escalation_id", None),
        entities=entities,
        score=score,
        band=band,
        reasons=[],
        model_version=PLACEHOLDER_MODEL_VERSION,
        assessed_at=datetime.now(UTC),
    )
    session.add(
        Assessment(
            assessment_id=assessment.assessment_id,
            subject_event_id=subject_event_id,
            subject_type=payload.ce_type,
            return_id=assessment.return_id,
            score=score,
            band=band.value,
            reasons=[],
            entities=entities.model_dump(),
            model_version=PLACEHOLDER_MODEL_VERSION,
            assessed_at=assessment.assessed_at,
        )
    )
    enqueue(session, Outbox, assessment, source=SOURCE, subject=assessment.return_id)
    return assessment
