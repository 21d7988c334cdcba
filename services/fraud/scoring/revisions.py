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

An alert's revisions only raise a band; when fraud clears a seller's claim-abuse alert or a
buyer's wrong/used alert (the entity proved ordinary, `scoring.service.clear_alerts`), the
claims that alert made HIGH are revised down (`revise_after_clearing`), and while a seller's
alert stays open, its claims HIGH on its claim-rate evidence are lowered to MEDIUM when that
evidence falls back below the level they were lifted at (`lower_to_held`,
`scoring.service.follow_evidence`). Evidence reuse is found on the claim that reuses; when that
claim was assessed before the earlier one arrived (the two travel on different partitions), the
earlier one's arrival revises it (`revise_claim`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.fraud import metrics
from services.fraud.detectors import pilferage
from services.fraud.detectors import qc_contradiction as qc
from services.fraud.detectors.findings import Finding, band_of, combine
from services.fraud.features import repository as features
from services.fraud.features.service import (
    NAMING_CLAIMS,
    QC_CONTRADICTING_CLAIMS,
    incident_after_pickup,
)
from services.fraud.models import Assessment, IdentityLink, ReturnFacts
from services.fraud.risk import repository as risk_repo
from services.fraud.scoring import claim_band
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
    # Claims placed in the window by their return's incident (its terminal scan's time), not by
    # their filing: a claim on a pilfered parcel is about the incident the alert counted.
    by_incident: bool = False


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
    # A ring's claims on parcels harmed in transit are the partner's matter too
    # (`Assessor.claim_context`): the ring's alert lifts its other claims.
    if p == "COLLUSION_SELLER_BUYER" and buyer:
        return _claims(
            facts.seller_id == eid, facts.buyer_id == str(buyer), facts.incident.is_not(True)
        )
    if p == "COLLUSION_AGENT_BUYER" and buyer:
        return _claims(
            facts.pickup_agent_id == eid,
            facts.buyer_id == str(buyer),
            facts.claim_type.in_(NAMING_CLAIMS),
            facts.incident.is_not(True),
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
        return _claims(facts.buyer_id.in_(accounts), facts.incident.is_not(True))
    if p.startswith("QC_CONTRADICTION_"):
        column = facts.qc_agent_id if f.entity_type == "agent" else facts.qc_hub_id
        # A hub's finding does not speak for its ordinary agents' passes (`qc.covers`).
        ordinary = sorted(qc.ordinary_agents(f.numbers)) if f.entity_type == "hub" else []
        return _claims(
            column == eid,
            facts.qc_result == "PASSED",
            facts.claim_type.in_(QC_CONTRADICTING_CLAIMS),
            *(
                [or_(facts.qc_agent_id.is_(None), facts.qc_agent_id.not_in(ordinary))]
                if ordinary
                else []
            ),
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
    numbers: Mapping[str, object] | None = None,
) -> bool:
    """Whether one event is among those a finding is about: `selector_for` for a single event
    already in hand (the two must agree), used for the events that follow an open alert.
    `numbers`: the finding's (an alert's evidence), which may narrow what it speaks for."""
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
            claim
            and buyer is not None
            and (facts.seller_id, facts.buyer_id) == (entity_id, buyer)
            and facts.incident is not True
        )
    if pattern == "COLLUSION_AGENT_BUYER":
        return (
            claim
            and naming
            and buyer is not None
            and (facts.pickup_agent_id, facts.buyer_id) == (entity_id, buyer)
            and facts.incident is not True
        )
    if pattern == "COLLUSION_SHARED_IDENTITY":
        return claim and facts.buyer_id == entity_id and facts.incident is not True
    if pattern.startswith("QC_CONTRADICTION_"):
        passed_by = facts.qc_agent_id if entity_type == "agent" else facts.qc_hub_id
        return (
            claim
            and passed_by == entity_id
            and facts.qc_result == "PASSED"
            and facts.claim_type in QC_CONTRADICTING_CLAIMS
            and (entity_type != "hub" or qc.covers(numbers or {}, facts.qc_agent_id))
        )
    if pattern.startswith(pilferage.PATTERN_PREFIX):
        if subject_type != SCAN_TYPE and facts.claim_type is not None:
            # The seller's claim on a return whose incident the alerted agent held
            # (`claims_at`), and the claim's other scored events (evidence added, a case event
            # read afresh): the desk reads a case's band from its latest assessment. A hub's
            # alert is about its incidents only (`lifts_claims`).
            return lifts_claims(pattern) and incident_after_pickup(facts, entity_id)
        at = (
            facts.pickup_agent_id == entity_id
            if entity_type == "agent"
            else entity_id in (facts.hubs or [])
        )
        return terminal_scan and at and facts.incident is True
    return False


def lifts_claims(pattern: str) -> bool:
    """Whether an open alert of `pattern` lifts the sellers' claims on the returns whose incident
    its entity held (`at_pilferer`): an agent's pilferage alert does, a hub's does not. A hub
    counts every parcel of every agent through it, and an honest hub's false alert (a bad day,
    a pilfering agent's parcels through it) would send tens of honest sellers' claims to review
    until it clears, where an agent's incidents are the parcels it picked up itself (the
    measurements: `docs/fraud-detection-journal.md`, "Pilferage: an alerted agent's pilfered
    parcels' claims go to review")."""
    return pattern == f"{pilferage.PATTERN_PREFIX}AGENT"


def claims_at(finding: Finding) -> Selector:
    """The claims on the returns that came to harm on a parcel a pilferage finding's agent
    picked up (`features.service.incident_after_pickup`, as `is_about` decides for one)."""
    facts = ReturnFacts
    # In the window by the incident's time, which the alert's window counts: a claim is filed
    # at intake's clock and may be scored ahead of the scan that raises the alert (claims go
    # ahead of a backlog) while filed after that scan's time.
    return Selector(
        CLAIM_TYPE,
        (facts.pickup_agent_id == finding.entity_id, facts.incident.is_(True)),
        by_incident=True,
    )


async def of_incidents_at(
    session: AsyncSession, finding: Finding, rows: Sequence[Assessment]
) -> list[Assessment]:
    """Of claims' assessments (`claims_at`), those whose return came to harm after the finding's
    agent picked it up as `is_about` reads it (the stored incident flag may outlive a late
    pickup weight that undid it); their facts read in one statement."""
    known = await features.prefetch_facts(session, {row.return_id for row in rows})
    return [
        row
        for row in rows
        if (facts := known.get(row.return_id)) is not None
        and incident_after_pickup(facts, finding.entity_id)
    ]


def at_pilferer(finding: Finding) -> Finding:
    """What an agent's pilferage finding says on the seller's claim of a return that came to
    harm after the agent picked it up: the claim is the partner's liability to settle with the
    alert in front of the desk (SOP E5: HIGH goes to review, never paid on its own). At least
    the HIGH floor, as the alert's own is on the incident; it raises no alert of its own."""
    return replace(
        finding,
        code="PILFERAGE_AT_AGENT",
        detail=(
            f"the return came to harm after a pickup by agent {finding.entity_id}, under a "
            f"pilferage alert: {finding.code} {finding.detail}"
        )[:500],
        contribution=max(finding.contribution, _HIGH_FLOOR),
        alert=False,
    )


def _latest_assessments(selector: Selector, since: datetime, until: datetime) -> Select[Any]:
    facts = ReturnFacts
    if selector.subject_type == CLAIM_TYPE:
        when = facts.terminal_at if selector.by_incident else facts.claimed_at
        same_event = Assessment.escalation_id == facts.escalation_id
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


async def _window_events(
    session: AsyncSession, finding: Finding, *, at: datetime, window: timedelta
) -> Sequence[Assessment]:
    """The latest assessment of each event `finding` is about (`selector_for`) in the window
    before `at`, most recent first; none when the finding is about no events or the window is
    empty."""
    selector = selector_for(finding)
    if selector is None or window <= timedelta(0):
        return ()
    # Assessments and facts of earlier events in this consumer batch are still in the session.
    await session.flush()
    await assessments.write_pending(session)
    return (await session.scalars(_latest_assessments(selector, at - window, at))).all()


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
    rows = await _window_events(session, finding, at=at, window=window)
    why = f"re-assessed after alert on {finding.entity_type} {finding.entity_id}"
    revised = sum(
        [revise(session, row, finding, why=why, at=at, alert_id=alert_id) for row in rows]
    )
    if lifts_claims(finding.pattern):
        revised += await _revise_claims_at_pilferer(
            session, finding, why=why, alert_id=alert_id, at=at, window=window
        )
    return revised + await _revise_unnamed_at_hub(
        session, finding, alert_id=alert_id, at=at, window=window
    )


async def _claims_at_pilferer(
    session: AsyncSession, finding: Finding, *, since: datetime, until: datetime
) -> list[Assessment]:
    """The latest assessment of each claim on a return whose incident, from `since` to `until`,
    the finding's agent held (`claims_at`, `of_incidents_at`), most recent first."""
    if until <= since:
        return []
    await session.flush()
    await assessments.write_pending(session)
    rows = (await session.scalars(_latest_assessments(claims_at(finding), since, until))).all()
    return await of_incidents_at(session, finding, rows)


async def _revise_claims_at_pilferer(
    session: AsyncSession,
    finding: Finding,
    *,
    why: str,
    alert_id: UUID,
    at: datetime,
    window: timedelta,
) -> int:
    """An agent alerted for pilferage: the claims on the returns that came to harm after its
    pickups in the window carry the finding (`at_pilferer`), as the incidents themselves do; a
    claim on a parcel it picked up that came to no harm is no part of its evidence and is left
    as it was."""
    said = at_pilferer(finding)
    rows = await _claims_at_pilferer(session, finding, since=at - window, until=at)
    return sum([revise(session, row, said, why=why, at=at, alert_id=alert_id) for row in rows])


def unnamed_at_hub(hub_id: str) -> Selector:
    """The claims contradicting a QC pass at the hub that names no agent."""
    facts = ReturnFacts
    return _claims(
        facts.qc_hub_id == hub_id,
        facts.qc_agent_id.is_(None),
        facts.qc_result == "PASSED",
        facts.claim_type.in_(QC_CONTRADICTING_CLAIMS),
    )


async def _revise_unnamed_at_hub(
    session: AsyncSession, finding: Finding, *, alert_id: UUID, at: datetime, window: timedelta
) -> int:
    """A carrier of a hub's QC excess, alerted: the claims on the hub's passes naming no agent
    in the window are re-assessed with what its finding says of them (`qc.unnamed_pass`: the
    carrier's strength where the carriers hold most of the hub's named contradictions, less
    where they hold less). A second carrier of the same hub says the same and adds nothing."""
    hub_id = str(finding.numbers.get("hub_id", ""))
    said = qc.unnamed_pass(finding, hub_id, finding.contribution) if hub_id else None
    if said is None or window <= timedelta(0):
        return 0
    await session.flush()
    await assessments.write_pending(session)
    rows = (
        await session.scalars(_latest_assessments(unnamed_at_hub(hub_id), at - window, at))
    ).all()
    why = f"re-assessed after alert on {finding.entity_type} {finding.entity_id}"
    return sum(
        [
            revise(session, row, said, why=why, at=at, alert_id=alert_id, corroborate=True)
            for row in rows
        ]
    )


# A claim's reasons the claim's own re-assessment (`revised_claim`) cannot derive again and
# carries from its latest revision: evidence reuse is found on the claim's evidence, read once
# as it arrives, and an alert's finding joined the claim's reasons when the alert was raised
# (`revise`), which a closed alert no longer brings back through `Assessor.open_alerts`.
CARRIED_PATTERNS = ("EVIDENCE_REUSE",)
# The first reason of a claim's revision on a late scan (`service.reassess_claim`).
LATE_SCAN = "LATE_SCAN"


def carried_reasons(
    latest: Sequence[ReasonCode], fresh: Sequence[ReasonCode], open_alerts: Collection[str]
) -> list[ReasonCode]:
    """Of a claim's latest reasons, those its re-assessment keeps beside the fresh ones: the
    evidence reuse found on it, and the findings revisions joined to it (an alert's, a later
    claim's reuse), unless the fresh reasons hold the same code about the same entity. An
    alert's floor the first assessment took from an alert open then is kept once that alert is
    closed (a person closing an alert does not take back what it showed; an alert fraud
    clears is taken out by its `ALERT_CLEARED`, below). An
    alert still open among `open_alerts` (ids) is the fresh run's to judge: it carries its
    floor onto the claim while the claim is what it is about (`is_about`), and not once a late
    scan shows it is not (a parcel that lost weight in transit is no seller's claim abuse)."""
    fresh_keys = {(r.code, r.numbers.get("entity")) for r in fresh}
    return [
        r
        for r in latest
        if r.code not in ("ALERT_CLEARED", LATE_SCAN)
        and (
            r.numbers.get("pattern") in CARRIED_PATTERNS
            or "revised_on_event_time" in r.numbers
            or r.numbers.get("alert_id")  # an alert's floor from the first assessment
        )
        and (r.code, r.numbers.get("entity")) not in fresh_keys
        and str(r.numbers.get("alert_id", "")) not in open_alerts
    ]


@dataclass(frozen=True, slots=True)
class Revised:
    score: float
    band: FraudBand
    reasons: list[ReasonCode]


def revised_claim(
    latest_band: str,
    latest: Sequence[ReasonCode],
    fresh_score: float,
    fresh: Sequence[ReasonCode],
    open_alerts: Collection[str] = (),
) -> Revised | None:
    """A claim scored again with what its return's scans say now (a QC pass, a weight, the
    delivery, a loss that reached fraud after the claim): the revision to publish, or None when
    its band stays what its latest revision says. Only a changed band is published: the desk
    and SOP v1 act on the band, and a late scan that moves a score within its band would
    otherwise revise most claims of a batched partner once per scan.

    The fresh score is the claim's as its first assessment computes it. To it are added what
    the latest revision holds that the fresh run cannot derive (`carried_reasons`: direct
    evidence about the claim, joined by noisy-OR as at first assessment), and a cleared alert's
    clearing is applied again (`lowered_score`): the alert's HIGH finding, which the fresh run
    may find live again as of the claim's time, stays out."""
    kept = carried_reasons(latest, fresh, open_alerts)
    score = combine([fresh_score, *(r.contribution for r in kept)])
    reasons = [*kept, *fresh]
    for cleared in (r for r in latest if r.code == "ALERT_CLEARED"):
        entity_type, _, entity_id = str(cleared.numbers.get("entity", "")).partition(":")
        lowered, without = lowered_score(
            reasons,
            str(cleared.numbers.get("pattern", "")),
            entity_type,
            entity_id,
            alert_id=str(cleared.numbers.get("alert_id") or "") or None,
        )
        if len(without) < len(reasons):
            score, reasons = min(score, lowered), without
        reasons = [cleared, *reasons]
    score = claim_band.kept_below_high(score, reasons)
    band = band_of(score)
    if band.value == latest_band:
        return None
    return Revised(score, band, reasons)


async def latest_claim_assessment(
    session: AsyncSession, escalation_id: str
) -> assessments.ClaimAssessment | None:
    """The latest revision of a claim's assessment (`latest_of_claim`), for a revision of it.

    The transaction's changes and assessment rows are written first, so the outbox rows of
    the batch's earlier assessments take their ids (the order of publication) ahead of what
    the revision path enqueues next, its alerts included."""
    await session.flush()
    await assessments.write_pending(session)
    return await assessments.latest_of_claim(session, escalation_id)


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
    row = await latest_claim_assessment(session, escalation_id)
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


# The highest MEDIUM score (as scoring.service.BELOW_HIGH): where a lowered event stops when
# nothing of its own is HIGH.
BELOW_HIGH = 0.79
_HIGH_FLOOR = 0.8


def lowered_score(
    old: Sequence[ReasonCode],
    pattern: str,
    entity_type: str,
    entity_id: str,
    *,
    alert_id: str | None = None,
) -> tuple[float, list[ReasonCode]]:
    """An event's score without what a cleared alert of `pattern` on the entity gave it: its
    reasons of that pattern about that entity at HIGH strength (the alert's floor, the live
    test at its alert level) leave; weaker ones, facts about the event itself (a claim filed
    as the window closes), stay. As at first assessment (`scoring.service.corroborated`), the
    event stays HIGH only when a remaining piece of direct evidence is HIGH on its own; risk
    carried from other entities counts as much as the strongest of it and never corroborates.
    Given the cleared alert's id, a reason another alert gave (a later alert on the same entity
    and pattern, still open or closed by a person) stays: only that alert's, and the live
    test's own, leave."""
    entity = f"{entity_type}:{entity_id}"
    kept = [
        r
        for r in old
        if not (
            r.numbers.get("pattern") == pattern
            and r.numbers.get("entity") == entity
            and r.contribution >= _HIGH_FLOOR
            and (alert_id is None or str(r.numbers.get("alert_id") or "") in ("", alert_id))
        )
    ]
    carried = [r.contribution for r in kept if r.code.endswith("_RISK_ELEVATED")]
    direct = [r.contribution for r in kept if not r.code.endswith("_RISK_ELEVATED")]
    score = combine([*direct, max(carried, default=0.0)])
    if score >= _HIGH_FLOOR and not any(c >= _HIGH_FLOOR for c in direct):
        score = BELOW_HIGH
    return score, kept


# The patterns whose cleared alert revises its events down. A hub's and its agents' evidence
# passes between them (a hub cleared because its excess is its agents'; an agent cleared while
# a second pilferer at its hub lifts its mates' rate and raised again later), so their
# clearing says "not this one", and lowering their incidents lost a held-out world's planted
# ones; a seller's claim rate has no one to pass to. Nor has a wrong/used buyer's: it is
# cleared on its own named claims per return; the claims that leave its count for another
# party are mostly about that party's open alert (an abusing seller's; a wrong or used item
# after an alerted QC agent's pass), which keeps them HIGH (`_about_another_open_alert`), and
# the rest fall to what they would be had the buyer never been alerted. What it lowers is
# sellers' claims HIGH only because the buyer they named was alerted, held from payment
# (SOP E5) on a suspicion the buyer's record has since answered.
LOWERED_ON_CLEARING = ("CLAIM_ABUSE", "WRONG_USED_RETURNS")


def lowers_on_clearing(pattern: str) -> bool:
    return pattern in LOWERED_ON_CLEARING


def lowers_claims_on_clearing(pattern: str) -> bool:
    """Whether a cleared alert of `pattern` lowers the sellers' claims it made HIGH though it
    lowers none of its own events: an agent's pilferage alert lifted the claims on the returns
    that came to harm after its pickups (`at_pilferer`) only to put the partner's alert in front
    of the desk; cleared, the agent reads as ordinary and the claim is paid on its facts. A
    claim another open alert is about stays HIGH on that one (`_about_another_open_alert`)."""
    return lifts_claims(pattern)


async def revise_after_clearing(
    session: AsyncSession,
    *,
    pattern: str,
    entity_type: str,
    entity_id: str,
    alert_id: UUID,
    at: datetime,
    window: timedelta,
    detail: str,
    raised_at: datetime | None = None,
) -> int:
    """When fraud clears an alert (its entity proved ordinary), publish a lowered revision of
    each event in the window before `at` that is HIGH on the alert's pattern about the entity:
    the evidence those events were HIGH on has been read again and no longer holds, and an
    undecided case should not be decided on it. SOP v1 keeps a decided case's decision (the
    desk sees the note). Returns how many were lowered.

    An agent's pilferage alert's claims (`lowers_claims_on_clearing`) are those it lifted, from
    the window before it was raised (`raised_at`, the alert's event time) on: an entity proves
    ordinary only once its honest days fill a window, by when the claims its alert revised lie
    before the window before `at`."""
    finding = Finding(
        code="ALERT_CLEARED",
        detail=detail,
        contribution=0.0,
        pattern=pattern,
        entity_type=entity_type,
        entity_id=entity_id,
    )
    rows: Sequence[Assessment]
    if lowers_claims_on_clearing(pattern):
        since = min(at, raised_at or at) - window
        rows = await _claims_at_pilferer(session, finding, since=since, until=at)
    else:
        selector = selector_for(finding)
        if selector is None or window <= timedelta(0) or not lowers_on_clearing(pattern):
            return 0
        await session.flush()
        rows = (await session.scalars(_latest_assessments(selector, at - window, at))).all()
    lowered = 0
    for row in rows:
        if row.band != FraudBand.HIGH.value:
            continue
        if await _about_another_open_alert(session, row, alert_id):
            # Its HIGH stands on that alert (a pilfering agent's incident at a hub just
            # cleared; whose own revision skipped it, being HIGH already).
            continue
        old = [ReasonCode.model_validate(r) for r in row.reasons]
        score, kept = lowered_score(old, pattern, entity_type, entity_id)
        band = band_of(score)
        if band is FraudBand.HIGH or len(kept) == len(old):
            continue
        cleared = ReasonCode(
            code="ALERT_CLEARED",
            detail=f"re-assessed when the alert on {entity_type} {entity_id} was cleared: {detail}"[
                :500
            ],
            contribution=0.0,
            numbers={
                "pattern": pattern,
                "entity": f"{entity_type}:{entity_id}",
                "alert_id": str(alert_id),
                "revised_on_event_time": at.isoformat(),
            },
        )
        publish_revision(session, row, score=score, band=band, reasons=[cleared, *kept])
        metrics.REVISIONS_LOWERED.labels(pattern).inc()
        lowered += 1
    return lowered


async def lower_outside_ring(
    session: AsyncSession,
    *,
    seller: str,
    ring_buyers: Collection[str],
    alert_id: UUID,
    at: datetime,
    window: timedelta,
) -> int:
    """When a seller-buyer collusion alert is raised on `seller`, publish a lowered revision of
    each of its claims in the window before `at` with a buyer outside the ring (`ring_buyers`)
    that is HIGH on the seller's claim-abuse evidence: that evidence is the ring's claims
    (`claim_band.in_ring`), and the claims the ring did not make carry nothing of their own.
    A claim HIGH on other direct evidence stays HIGH (`lowered_score`). Returns how many were
    lowered."""
    finding = Finding(
        code="RING_EXPLAINS",
        detail="",
        contribution=0.0,
        pattern="CLAIM_ABUSE",
        entity_type="seller",
        entity_id=seller,
    )
    lowered = 0
    for row in await _window_events(session, finding, at=at, window=window):
        if row.band != FraudBand.HIGH.value or (row.entities or {}).get("buyer_id") in ring_buyers:
            continue
        old = [ReasonCode.model_validate(r) for r in row.reasons]
        score, kept = lowered_score(old, "CLAIM_ABUSE", "seller", seller)
        band = band_of(score)
        if band is FraudBand.HIGH or len(kept) == len(old):
            continue
        why = ReasonCode(
            code="RING_EXPLAINS",
            detail=(
                f"re-assessed when seller {seller} was alerted for collusion with other buyers: "
                "its claim-abuse evidence is its ring's claims"
            ),
            contribution=0.0,
            numbers={
                "pattern": "CLAIM_ABUSE",
                "entity": f"seller:{seller}",
                "alert_id": str(alert_id),
                "revised_on_event_time": at.isoformat(),
            },
        )
        publish_revision(session, row, score=score, band=band, reasons=[why, *kept])
        metrics.REVISIONS_LOWERED.labels("CLAIM_ABUSE").inc()
        lowered += 1
    return lowered


async def lower_to_held(
    session: AsyncSession,
    held: Finding,
    *,
    alert_id: UUID,
    at: datetime,
    window: timedelta,
) -> int:
    """When a seller's claim-rate evidence falls back below a level its claims were HIGH on
    while its alert stays open (`service.follow_evidence`), publish a lowered revision of each
    of its claims in the window before `at` that is HIGH on that evidence (the alert's floor or
    revisions, or the live test at the level): `held`, the evidence as it reads now, held at
    MEDIUM (`claim_band.held`), takes its place, so the claim is MEDIUM, as a claim the alert
    lifts to MEDIUM is. A claim HIGH on other direct evidence stays HIGH (`lowered_score`).
    Returns how many were lowered."""
    lowered = 0
    entity = f"{held.entity_type}:{held.entity_id}"
    for row in await _window_events(session, held, at=at, window=window):
        if row.band != FraudBand.HIGH.value:
            continue
        old = [ReasonCode.model_validate(r) for r in row.reasons]
        _, kept = lowered_score(
            old, held.pattern, held.entity_type, held.entity_id, alert_id=str(alert_id)
        )
        if len(kept) == len(old):
            continue
        score, kept = revised_score(kept, held)
        reasons = [
            ReasonCode(
                code=held.code,
                detail=(
                    f"re-assessed when the evidence on {held.entity_type} {held.entity_id} fell "
                    f"below its claims' HIGH level: {held.detail}"
                )[:500],
                contribution=round(held.contribution, 4),
                numbers=held.numbers
                | {
                    "pattern": held.pattern,
                    "entity": entity,
                    "alert_id": str(alert_id),
                    "revised_on_event_time": at.isoformat(),
                },
            ),
            *kept,
        ]
        score = claim_band.kept_below_high(score, reasons)
        band = band_of(score)
        if band is FraudBand.HIGH:
            continue
        publish_revision(session, row, score=score, band=band, reasons=reasons)
        metrics.REVISIONS_LOWERED.labels(held.pattern).inc()
        lowered += 1
    return lowered


async def _about_another_open_alert(session: AsyncSession, row: Assessment, alert_id: UUID) -> bool:
    """Whether an open alert other than `alert_id` is about the event `row` assesses (on any of
    the return's parties and handlers), as `is_about` decides for an alert's floor."""
    facts = await features.get_facts(session, row.return_id)
    if facts is None:
        return False
    keys = {("hub", h) for h in facts.hubs or []} | {
        (etype, eid)
        for etype, eid in (
            ("seller", facts.seller_id),
            ("buyer", facts.buyer_id),
            ("agent", facts.pickup_agent_id),
            ("agent", facts.qc_agent_id),
            ("hub", facts.qc_hub_id),
        )
        if eid
    }
    for alert in (await risk_repo.standing(session, keys)).alerts:
        if alert.alert_id == alert_id:
            continue
        buyer = ((alert.evidence or {}).get("numbers") or {}).get("buyer_id")
        if is_about(
            alert.pattern,
            alert.entity_type,
            alert.entity_id,
            str(buyer) if buyer else None,
            facts,
            row.subject_type,
            terminal_scan=row.subject_type == SCAN_TYPE,
            numbers=(alert.evidence or {}).get("numbers") or {},
        ):
            return True
    return False


def publish_revision(
    session: AsyncSession,
    row: Assessment | assessments.ClaimAssessment,
    *,
    score: float,
    band: FraudBand,
    reasons: list[ReasonCode],
    entities: InvolvedEntities | None = None,
) -> None:
    """Record (and publish, through the outbox) the next revision of `row` (naming `entities`
    when the event's parties are better known now than at its first assessment)."""
    assessment = FraudAssessed(
        assessment_id=uuid4(),
        subject_event_id=row.subject_event_id,
        subject_type=row.subject_type,
        return_id=row.return_id,
        escalation_id=row.escalation_id,
        entities=entities or InvolvedEntities.model_validate(row.entities),
        score=score,
        band=band,
        reasons=reasons,
        model_version=row.model_version,
        assessed_at=datetime.now(UTC),
        revision=row.revision + 1,
        revises=row.assessment_id,
    )
    assessments.record(session, assessment, event_time=row.event_time)


def revise(
    session: AsyncSession,
    row: Assessment | assessments.ClaimAssessment,
    finding: Finding,
    *,
    why: str,
    at: datetime,
    alert_id: UUID | None,
    corroborate: bool = False,
) -> bool:
    """Publish the next revision of `row` with `finding` among its reasons, if that raises its
    band. `corroborate`: a finding that may be short of HIGH lifts the event to HIGH only
    where it, or another direct reason, is HIGH on its own (as at first assessment,
    `scoring.service.corroborated`): its noisy-OR with the hub's MEDIUM is no evidence that
    either alone holds."""
    if row.band == FraudBand.HIGH.value:
        return False
    old = [ReasonCode.model_validate(r) for r in row.reasons]
    score, kept = revised_score(old, finding)
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
    # A seller's claim-rate evidence short of its claims' HIGH level lifts them to MEDIUM at
    # most, whatever weak signs they carry beside it (`claim_band`).
    score = claim_band.kept_below_high(score, reasons)
    if (
        corroborate
        and score >= _HIGH_FLOOR
        and not any(
            r.contribution >= _HIGH_FLOOR for r in reasons if not r.code.endswith("_RISK_ELEVATED")
        )
    ):
        score = BELOW_HIGH
    band = band_of(score)
    if _SEVERITY[band.value] <= _SEVERITY[row.band]:
        return False
    publish_revision(session, row, score=score, band=band, reasons=reasons)
    metrics.REVISIONS.labels(finding.pattern).inc()
    return True
