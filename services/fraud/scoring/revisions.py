"""Re-assess an entity's recent events when an alert is raised on it.

An event is scored on what was known when it arrived, and a fraudster's first claims look like
anyone's: the evidence that a buyer returns wrong items, or that a hub pilfers, exists only once
several of their events have happened. When an alert is raised, the events the finding is about
(the seller's claims, the buyer's naming claims, the agent's or hub's incidents, the QC agent's
contradicted passes, the pair's claims) within the window its detector counted them over
(`ScoringConfig.revision_window`) are assessed again: the alert's finding joins their reasons,
and where that raises the band a new revision of the assessment is published. The finding rests
on those very events, so each of them is marked, the earliest too: SOP v1 decides an undecided
case on the latest band, and a decided one keeps its decision while the desk sees, on its
timeline, a claim it may want to revisit or recover. The most recent events come first when an
alert's events exceed `MAX_REVISIONS_PER_ALERT`.

Revisions only raise a band. Evidence reuse is found on the claim that reuses; when that claim
was assessed before the earlier one arrived (the two travel on different partitions), the
earlier one's arrival revises it (`revise_claim`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.fraud import metrics
from services.fraud.detectors import pilferage
from services.fraud.detectors.findings import Finding, band_of, combine
from services.fraud.features.service import NAMING_CLAIMS, QC_CONTRADICTING_CLAIMS
from services.fraud.models import Assessment, IdentityLink, ReturnFacts
from services.fraud.scoring import repository as assessments
from shared.events import (
    FraudAssessed,
    FraudBand,
    InvolvedEntities,
    ReasonCode,
    ReturnShipmentEvent,
    SellerEscalationFiled,
)

CLAIM_TYPE = SellerEscalationFiled.ce_type
SCAN_TYPE = ReturnShipmentEvent.ce_type
DELIVERED = "DELIVERED_TO_SELLER"
# One alert revises at most this many events: a bound on the work one message can cause.
MAX_REVISIONS_PER_ALERT = 500
_SEVERITY = {FraudBand.LOW.value: 0, FraudBand.MEDIUM.value: 1, FraudBand.HIGH.value: 2}


@dataclass(frozen=True, slots=True)
class Selector:
    """Which of an entity's events a finding is about: claims (the escalation's assessment) or
    incidents (the terminal scan's assessment), and the conditions on the return's facts."""

    subject_type: str
    conditions: tuple[Any, ...]


def _claims(*conditions: Any) -> Selector:
    return Selector(CLAIM_TYPE, conditions)


def selector_for(f: Finding) -> Selector | None:
    facts = ReturnFacts
    buyer = f.numbers.get("buyer_id")
    p, eid = f.pattern, f.entity_id
    if p == "CLAIM_ABUSE":
        # Claims on parcels that never arrived or arrived light are the partner's matter
        # (see record_claim and Assessor.claim_context).
        return _claims(
            facts.seller_id == eid, facts.terminal == DELIVERED, facts.incident.is_(False)
        )
    if p == "WRONG_USED_RETURNS":
        # A naming claim on a parcel that lost weight in transit is the partner's matter
        # (see record_claim).
        return _claims(
            facts.buyer_id == eid, facts.claim_type.in_(NAMING_CLAIMS), facts.incident.is_not(True)
        )
    if p == "COLLUSION_SELLER_BUYER" and buyer:
        return _claims(facts.seller_id == eid, facts.buyer_id == str(buyer))
    if p == "COLLUSION_AGENT_BUYER" and buyer:
        return _claims(
            facts.pickup_agent_id == eid,
            facts.buyer_id == str(buyer),
            facts.claim_type.in_(NAMING_CLAIMS),
        )
    if p == "COLLUSION_SHARED_IDENTITY":
        # Every account behind the identity the buyer shares.
        kind = str(f.numbers.get("hash_kind", ""))
        mine = select(IdentityLink.hash_value).where(
            IdentityLink.buyer_id == eid, IdentityLink.hash_kind == kind
        )
        accounts = select(IdentityLink.buyer_id).where(
            IdentityLink.hash_kind == kind, IdentityLink.hash_value.in_(mine)
        )
        return _claims(facts.buyer_id.in_(accounts))
    if p.startswith("QC_CONTRADICTION_"):
        column = facts.qc_agent_id if f.entity_type == "agent" else facts.qc_hub_id
        return _claims(
            column == eid,
            facts.qc_result == "PASSED",
            facts.claim_type.in_(QC_CONTRADICTING_CLAIMS),
        )
    if p.startswith(pilferage.PATTERN_PREFIX):
        where = (
            facts.pickup_agent_id == eid if f.entity_type == "agent" else facts.hubs.contains([eid])
        )
        return Selector(SCAN_TYPE, (where, facts.incident.is_(True)))
    return None


def is_about(
    pattern: str,
    entity_type: str,
    entity_id: str,
    buyer: str | None,
    facts: ReturnFacts,
    subject_type: str,
    *,
    terminal_scan: bool,
) -> bool:
    """Whether one event is among those a finding is about: `selector_for` for a single event
    already in hand (the two must agree), used for the events that follow an open alert."""
    claim = subject_type == CLAIM_TYPE and facts.claim_type is not None
    naming = facts.claim_type in NAMING_CLAIMS
    if pattern == "CLAIM_ABUSE":
        return (
            claim
            and facts.seller_id == entity_id
            and facts.terminal == DELIVERED
            and facts.incident is False
        )
    if pattern == "WRONG_USED_RETURNS":
        return claim and facts.buyer_id == entity_id and naming and facts.incident is not True
    if pattern == "COLLUSION_SELLER_BUYER":
        return (
            claim and buyer is not None and (facts.seller_id, facts.buyer_id) == (entity_id, buyer)
        )
    if pattern == "COLLUSION_AGENT_BUYER":
        return (
            claim
            and naming
            and buyer is not None
            and (facts.pickup_agent_id, facts.buyer_id) == (entity_id, buyer)
        )
    if pattern == "COLLUSION_SHARED_IDENTITY":
        return claim and facts.buyer_id == entity_id
    if pattern.startswith("QC_CONTRADICTION_"):
        qc = facts.qc_agent_id if entity_type == "agent" else facts.qc_hub_id
        return (
            claim
            and qc == entity_id
            and facts.qc_result == "PASSED"
            and facts.claim_type in QC_CONTRADICTING_CLAIMS
        )
    if pattern.startswith(pilferage.PATTERN_PREFIX):
        at = (
            facts.pickup_agent_id == entity_id
            if entity_type == "agent"
            else entity_id in (facts.hubs or [])
        )
        return terminal_scan and at and facts.incident is True
    return False


def _latest_assessments(selector: Selector, since: datetime, until: datetime) -> Select[Any]:
    facts = ReturnFacts
    if selector.subject_type == CLAIM_TYPE:
        when, same_event = facts.claimed_at, Assessment.escalation_id == facts.escalation_id
    else:
        when, same_event = facts.terminal_at, Assessment.event_time == facts.terminal_at
    latest = (
        select(Assessment)
        .join(facts, facts.return_id == Assessment.return_id)
        .where(
            *selector.conditions,
            when >= since,
            when <= until,
            same_event,
            Assessment.subject_type == selector.subject_type,
        )
        .order_by(Assessment.subject_event_id, Assessment.revision.desc())
        .ext(distinct_on(Assessment.subject_event_id))
        .subquery()
    )
    row = aliased(Assessment, latest)
    return select(row).order_by(row.event_time.desc()).limit(MAX_REVISIONS_PER_ALERT)


def revised_score(old: Sequence[ReasonCode], finding: Finding) -> tuple[float, list[ReasonCode]]:
    """The event's reasons with the alert's finding in place of any weaker reason of the same
    code about the same entity; risk carried from other entities counts as much as the
    strongest of it, as at first assessment (scoring.service.event_score)."""
    entity = f"{finding.entity_type}:{finding.entity_id}"
    kept = [r for r in old if not (r.code == finding.code and r.numbers.get("entity") == entity)]
    carried = [r.contribution for r in kept if r.code.endswith("_RISK_ELEVATED")]
    direct = [r.contribution for r in kept if not r.code.endswith("_RISK_ELEVATED")]
    score = combine([*direct, finding.contribution, max(carried, default=0.0)])
    return score, kept


async def revise_for_alert(
    session: AsyncSession,
    finding: Finding,
    *,
    alert_id: UUID,
    at: datetime,
    window: timedelta,
) -> int:
    """Publish a raised revision of each of the finding's events in the window before `at`.
    Returns how many were revised."""
    selector = selector_for(finding)
    if selector is None or window <= timedelta(0):
        return 0
    # Assessments and facts of earlier events in this consumer batch are still in the session.
    await session.flush()
    await assessments.write_pending(session)
    rows = (await session.scalars(_latest_assessments(selector, at - window, at))).all()
    why = f"re-assessed after alert on {finding.entity_type} {finding.entity_id}"
    return sum([revise(session, row, finding, why=why, at=at, alert_id=alert_id) for row in rows])


async def revise_claim(
    session: AsyncSession,
    escalation_id: str,
    finding: Finding,
    *,
    at: datetime,
    alert_id: UUID | None,
) -> bool:
    """Revise one claim's assessment with a finding about the claim itself that only a later
    arrival revealed (its evidence reused an earlier claim's that arrived after it)."""
    await session.flush()
    await assessments.write_pending(session)
    row = await session.scalar(
        select(Assessment)
        .where(Assessment.escalation_id == escalation_id, Assessment.subject_type == CLAIM_TYPE)
        .order_by(Assessment.revision.desc())
        .limit(1)
    )
    if row is None:
        return False
    return revise(
        session,
        row,
        finding,
        why="re-assessed when the earlier claim arrived",
        at=at,
        alert_id=alert_id,
    )


def revise(
    session: AsyncSession,
    row: Assessment,
    finding: Finding,
    *,
    why: str,
    at: datetime,
    alert_id: UUID | None,
) -> bool:
    """Publish the next revision of `row` with `finding` among its reasons, if that raises its
    band."""
    if row.band == FraudBand.HIGH.value:
        return False
    old = [ReasonCode.model_validate(r) for r in row.reasons]
    score, kept = revised_score(old, finding)
    band = band_of(score)
    if _SEVERITY[band.value] <= _SEVERITY[row.band]:
        return False
    numbers = finding.numbers | {
        "pattern": finding.pattern,
        "entity": f"{finding.entity_type}:{finding.entity_id}",
        "revised_on_event_time": at.isoformat(),
    }
    if alert_id is not None:
        numbers["alert_id"] = str(alert_id)
    reasons = [
        ReasonCode(
            code=finding.code,
            detail=f"{why}: {finding.detail}"[:500],
            contribution=round(finding.contribution, 4),
            numbers=numbers,
        ),
        *kept,
    ]
    assessment = FraudAssessed(
        assessment_id=uuid4(),
        subject_event_id=row.subject_event_id,
        subject_type=row.subject_type,
        return_id=row.return_id,
        escalation_id=row.escalation_id,
        entities=InvolvedEntities.model_validate(row.entities),
        score=score,
        band=band,
        reasons=reasons,
        model_version=row.model_version,
        assessed_at=datetime.now(UTC),
        revision=row.revision + 1,
        revises=row.assessment_id,
    )
    assessments.record(session, assessment, event_time=row.event_time)
    metrics.REVISIONS.labels(finding.pattern).inc()
    return True
