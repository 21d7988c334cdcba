"""Where an assessment goes: its row (the API's and the evaluation's record) and the outbox,
in the consumer's transaction, so it is published exactly when it is recorded.

Both are plain rows, kept in the transaction's unit of work and written with one multi-row
INSERT each (`write_pending`) just before the transaction commits, or earlier when something
in it reads assessments back (a revision of this batch's events). An
ORM object per row cost a constructor, attribute events and a unit-of-work flush per event,
for rows nothing in the batch changes after writing them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.fraud import SOURCE
from services.fraud.models import Assessment, Outbox
from shared.db import table_of
from shared.events import FraudAssessed, SellerEscalationFiled
from shared.outbox import outbox_row
from shared.unit_of_work import unit_of

_ASSESSMENTS = table_of(Assessment)
_OUTBOX = table_of(Outbox)
_CLAIM_TYPE = SellerEscalationFiled.ce_type


@dataclass(slots=True)
class _Pending:
    """A transaction's assessment and outbox rows not written yet, in the order recorded."""

    assessments: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    hooked: bool = False


def record(
    session: AsyncSession, assessment: FraudAssessed, *, event_time: datetime | None
) -> None:
    """Record and publish one assessment (or revision); `event_time` is the scored fact's own
    time, which the detectors reason on."""
    unit = unit_of(session)
    pending = unit.get(_Pending)
    if not pending.hooked:
        pending.hooked = True
        event.listen(session.sync_session, "before_commit", _write_sync)
    _, row = outbox_row(assessment, source=SOURCE, subject=assessment.return_id)
    # The row's reasons and entities are the published document's: serialised once, for both.
    # (The entities are ids and None alone, the same in JSON mode as in Python mode.)
    document = row["payload"]
    pending.assessments.append(
        {
            "assessment_id": assessment.assessment_id,
            "subject_event_id": assessment.subject_event_id,
            "revision": assessment.revision,
            "subject_type": assessment.subject_type,
            "return_id": assessment.return_id,
            "escalation_id": assessment.escalation_id,
            "score": assessment.score,
            "band": assessment.band.value,
            "reasons": document["reasons"],
            "entities": document["entities"],
            "model_version": assessment.model_version,
            "assessed_at": assessment.assessed_at,
            "event_time": event_time,
        }
    )
    pending.outbox.append(row)
    unit.enqueued = True  # as `shared.outbox.enqueue` says: the relay is woken after commit


async def write_pending(session: AsyncSession) -> None:
    """Write the recorded rows now (before reading assessments in the same transaction)."""
    await session.run_sync(_write_sync)


def _write_sync(sync_session: Session) -> None:
    pending = unit_of(sync_session).find(_Pending)
    if pending is None or not pending.assessments:
        return
    assessments, pending.assessments = pending.assessments, []
    outbox, pending.outbox = pending.outbox, []
    # Parameters passed separately: one cached statement, its rows sent as one multi-row
    # INSERT (insertmanyvalues), whatever their number.
    sync_session.execute(insert(_ASSESSMENTS), assessments)
    sync_session.execute(insert(_OUTBOX), outbox)


@dataclass(frozen=True, slots=True)
class ClaimAssessment:
    """A claim's latest assessment as recorded: what a case event of its return carries, and
    what a revision of the claim revises."""

    assessment_id: UUID
    subject_event_id: UUID
    revision: int
    subject_type: str
    return_id: str
    escalation_id: str | None
    score: float
    band: str
    reasons: list[dict[str, Any]]
    entities: dict[str, Any]
    model_version: str
    event_time: datetime | None


_CLAIM_COLUMNS = [_ASSESSMENTS.c[f.name] for f in fields(ClaimAssessment)]


async def latest_of_claim(session: AsyncSession, escalation_id: str) -> ClaimAssessment | None:
    """The latest revision of a claim's assessment, this transaction's unwritten ones first.

    A revision is always recorded after the one it revises, so the last pending row of the
    claim, when there is one, is the latest; only otherwise is the table read. Nothing is
    written early: a poll of case events keeps its rows for the one multi-row INSERT at
    commit."""
    pending = unit_of(session).find(_Pending)
    for row in reversed(pending.assessments if pending is not None else []):
        if row["escalation_id"] == escalation_id and row["subject_type"] == _CLAIM_TYPE:
            return ClaimAssessment(**{f.name: row[f.name] for f in fields(ClaimAssessment)})
    found = (
        await session.execute(
            select(*_CLAIM_COLUMNS)
            .where(
                _ASSESSMENTS.c.escalation_id == escalation_id,
                _ASSESSMENTS.c.subject_type == _CLAIM_TYPE,
            )
            .order_by(_ASSESSMENTS.c.revision.desc())
            .limit(1)
        )
    ).first()
    return None if found is None else ClaimAssessment(*found)
