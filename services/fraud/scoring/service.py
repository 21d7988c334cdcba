"""Assess one event: update the features, run the detectors that concern it, combine their
findings into a score and band, raise network alerts, record the assessment and publish it.

Per event this is a handful of indexed queries (the return's facts, two counter upserts, one or
two window reads, pair and identity reads, evidence candidates, watchlist and risk rows), so an
escalation's assessment follows it within milliseconds of its arrival.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud import SOURCE, metrics
from services.fraud.alerts import repository as alerts_repo
from services.fraud.detectors import claim_abuse, collusion, qc_contradiction, returns_abuse
from services.fraud.detectors.findings import Finding, band_of, combine
from services.fraud.detectors.sequential import clears
from services.fraud.detectors.stats import Thresholds, contribution_from_p, fisher_combined
from services.fraud.features import dear
from services.fraud.features import repository as features
from services.fraud.features.service import (
    TERMINAL,
    Increments,
    ScansRead,
    record_claim,
    record_return,
    record_scan,
)
from services.fraud.models import EntityRiskHistory, Outbox, ReturnFacts
from services.fraud.risk import repository as risk_repo
from services.fraud.risk.repository import OpenAlert, StoredRisk, Watch
from services.fraud.scoring import claim_band, revisions
from services.fraud.scoring import repository as assessments
from services.fraud.scoring.base import (
    Scored,
    ScoringConfig,
    default_config,
    event_time,
    indirect,
)
from services.fraud.scoring.claim_abuse import (
    CLAIM_METRICS,
    QC_METRICS,
    RECENT_METRICS,
    ClaimInputs,
    claim_pairs,
    claim_windows,
    qc_read,
    recent_read,
)
from services.fraud.scoring.pilferage import PilferageInputs, prefetch_days
from services.fraud.scoring.qc_contradiction import (
    CONTRADICTED_KINDS,
    NAMED_BY,
    contradicted_pairs,
)
from services.fraud.scoring.revisions import (
    is_about,
    publish_revision,
    revise_after_clearing,
    revise_claim,
    revise_for_alert,
)
from services.fraud.watchlists import repository as watch_repo
from shared.events import (
    AppealFiled,
    CaseEventBase,
    EventPayload,
    EvidenceAdded,
    EvidenceItem,
    FraudAlertRaised,
    FraudAssessed,
    FraudBand,
    InvolvedEntities,
    ReasonCode,
    RefundIssued,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)
from shared.outbox import enqueue
from shared.unit_of_work import unit_of

MODEL_VERSION = "stat-1"
# An open alert's finding carries at least the HIGH floor onto the events it is about.
ALERT_FLOOR = 0.8


def event_score(scored: list[Scored]) -> float:
    """Noisy-OR of the findings, where the indirect ones together count as much as the
    strongest of them: an ordinary event of a risky seller at a flagged hub is not suspicious
    twice over, and only evidence about the event itself can make it HIGH."""
    carried = combine([s.weight for s in scored if not s.direct])
    return combine(
        [s.weight for s in scored if s.direct]
        + [min(carried, max((s.weight for s in scored if not s.direct), default=0))]
    )


def corroborated(score: float, scored: list[Scored], t: Thresholds) -> float:
    """The event's score, held below HIGH unless one piece of direct evidence is HIGH on its own
    (a finding at its alert level, an open alert about the event, a red flag that is a fact)
    or the direct findings of one pattern together meet the alert's false-alarm rate (Fisher).

    The noisy-OR of a few weak findings (a seller's claim rate at MEDIUM, a claim filed near
    the window's end, an entity's elevated risk) easily passes 0.8; each of them is common
    among honest parties, and HIGH is what sends a case to an analyst as probable fraud. So
    weak findings add up to MEDIUM at most; the entity's sequential test must have crossed
    (or a rate test be HIGH alone) for the band to be HIGH."""
    if score < BAND_FLOOR[FraudBand.HIGH]:
        return score
    direct = [s for s in scored if s.direct]
    if any(s.weight >= BAND_FLOOR[FraudBand.HIGH] for s in direct):
        return score
    if combined_alert([s.finding for s in direct], t) is not None:
        return score
    return min(score, BELOW_HIGH)


class Assessor(PilferageInputs, ClaimInputs):
    """One event's assessment: the shared state and reads (`base`), each detector's inputs
    (`pilferage`, `claim_abuse`, `returns_abuse`, `qc_contradiction`, `evidence_reuse`) and the
    open alerts carried onto the event."""

    def open_alerts(
        self,
        facts: ReturnFacts,
        alerts: list[OpenAlert],
        *,
        terminal_scan: bool,
        subject_type: str | None = None,
    ) -> None:
        """An open alert's finding stands for the events of its pattern that follow it, as it
        does for those just before it (revisions), until an analyst closes it: the live test
        may weaken meanwhile (a hub's excess re-attributed to one of its agents, a window
        moving on), the finding does not. Where it is stronger, it replaces the live finding
        of the same code. `subject_type`: the event assessed, when not this assessor's own (a
        claim re-assessed on a late scan)."""
        self.colluding_sellers = {
            alert.entity_id
            for alert in alerts
            if alert.pattern == collusion.SELLER_BUYER and alert.entity_type == "seller"
        }
        subject = subject_type or self.payload.ce_type
        for alert in alerts:
            numbers = self._as_of_now(alert, dict((alert.evidence or {}).get("numbers") or {}))
            buyer = numbers.get("buyer_id")
            if not is_about(
                alert.pattern,
                alert.entity_type,
                alert.entity_id,
                str(buyer) if buyer else None,
                facts,
                subject,
                terminal_scan=terminal_scan,
                numbers=numbers,
            ):
                continue
            finding = self.standing_finding(alert, numbers)
            if subject != ReturnShipmentEvent.ce_type and revisions.lifts_claims(alert.pattern):
                # A claim (or another event of it) on a return that came to harm after the
                # alerted agent picked it up.
                finding = revisions.at_pilferer(finding)
            strength = finding.contribution
            self.scored = [
                s
                for s in self.scored
                if not (
                    s.finding.code == finding.code
                    and s.finding.entity_type == alert.entity_type
                    and s.finding.entity_id == alert.entity_id
                    and s.weight <= strength
                )
            ]
            self.scored.append(Scored(finding, strength))

    def standing_finding(self, alert: OpenAlert, numbers: dict[str, Any] | None = None) -> Finding:
        """An open alert's finding as it stands: at least the alert floor, or what its p-value
        was worth when raised. `numbers`: the alert's evidence as of this event (`_as_of_now`)."""
        if numbers is None:
            numbers = self._as_of_now(alert, dict((alert.evidence or {}).get("numbers") or {}))
        p = numbers.get("p_value")
        strength = max(
            ALERT_FLOOR,
            contribution_from_p(float(p), self.t) if isinstance(p, int | float) else 0.0,
        )
        since = alert.event_time.isoformat() if alert.event_time else "earlier"
        return Finding(
            code=str(alert.evidence.get("code") or alert.pattern),
            detail=f"open alert since {since}: {alert.summary}"[:500],
            contribution=strength,
            pattern=alert.pattern,
            entity_type=alert.entity_type,
            entity_id=alert.entity_id,
            numbers=numbers | {"alert_id": str(alert.alert_id)},
        )

    def _as_of_now(self, alert: OpenAlert, numbers: dict[str, Any]) -> dict[str, Any]:
        """An open hub alert's QC evidence with the agents it named ordinary narrowed to those
        the hub's live finding on this event still names: an agent ordinary when the alert
        was raised and telling since is the hub's to answer for again
        (`qc_contradiction.covers`). Without a live finding the alert's own list stands."""
        if alert.entity_type != "hub" or not alert.pattern.startswith(
            qc_contradiction.PATTERN_PREFIX
        ):
            return numbers
        live = [
            f
            for f in self.evaluated.get(("hub", alert.entity_id), [])
            if f.pattern == alert.pattern
        ]
        if not live:
            return numbers
        still = qc_contradiction.ordinary_agents(numbers) & frozenset().union(
            *(qc_contradiction.ordinary_agents(f.numbers) for f in live)
        )
        return numbers | {qc_contradiction.ORDINARY_AGENTS: ",".join(sorted(still))}


def involved(payload: EventPayload, facts: ReturnFacts) -> InvolvedEntities:
    hubs = facts.hubs or []
    return InvolvedEntities(
        seller_id=facts.seller_id or getattr(payload, "seller_id", None),
        buyer_id=facts.buyer_id,
        partner_id=facts.partner_id or getattr(payload, "partner_id", None),
        hub_id=getattr(payload, "hub_id", None) or (hubs[-1] if hubs else None),
        agent_id=getattr(payload, "agent_id", None) or facts.pickup_agent_id,
    )


def concerned_entities(facts: ReturnFacts, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The event's entities and the return's other handlers: every hub it passed, its pickup
    agent, and its QC agent and hub."""
    out = set(keys) | {("hub", h) for h in facts.hubs or []}
    for etype, eid in (
        ("agent", facts.pickup_agent_id),
        ("agent", facts.qc_agent_id),
        ("hub", facts.qc_hub_id),
    ):
        if eid:
            out.add((etype, eid))
    return out


def entity_keys(entities: InvolvedEntities) -> list[tuple[str, str]]:
    return [
        (t, i)
        for t, i in (
            ("seller", entities.seller_id),
            ("buyer", entities.buyer_id),
            ("partner", entities.partner_id),
            ("hub", entities.hub_id),
            ("agent", entities.agent_id),
        )
        if i
    ]


# The entities an event names itself, before its return has facts.
# The scans whose agent becomes the return's pickup agent (`record_scan`).
_PICKUP_SCANS = frozenset(
    {ShipmentEventType.PICKED_UP, ShipmentEventType.QC_PASSED, ShipmentEventType.QC_FAILED}
)
_NAMED_BY_PAYLOAD = (
    ("seller", "seller_id"),
    ("buyer", "buyer_id"),
    ("partner", "partner_id"),
    ("hub", "hub_id"),
    ("agent", "agent_id"),
)


async def prepare_batch(
    session: AsyncSession, payloads: Sequence[EventPayload], config: ScoringConfig | None = None
) -> None:
    """Read up front what a consumer batch's events will need, in two statements: their
    returns' facts, and the standing of the entities those facts and the events name. Each
    event then finds them in the session (`features.get_facts`, `risk_repo.standing`) instead
    of reading its own; what an event adds or changes reaches the next through the session.
    Inside `features.deferred_counters`, a third reads the days of the hubs and agents the
    batch's terminal scans weigh (`pilferage.prefetch_days`), and, when the batch holds claims,
    two more read what its claims weigh (`prefetch_claims`). When the batch delivers returns
    not claimed, one more reads those sellers' latest counted claims, where each delivery
    looks for a later claim to read its seller at (`read_at_latest_claim`)."""
    cfg = config or default_config()
    return_ids = [str(rid) for p in payloads if (rid := getattr(p, "return_id", None))]
    known = await features.prefetch_facts(session, return_ids)
    await features.prefetch_latest_counted_claims(session, _unclaimed_delivered(payloads, known))
    await prefetch_days(session, _terminal_scans(payloads, known), cfg)
    await prefetch_claims(session, payloads, known, cfg)
    keys: set[tuple[str, str]] = set()
    for p in payloads:
        facts = known.get(str(getattr(p, "return_id", "")))
        if facts is not None:
            keys |= concerned_entities(facts, entity_keys(involved(p, facts)))
        else:
            keys |= {
                (etype, str(v))
                for etype, attr in _NAMED_BY_PAYLOAD
                if (v := getattr(p, attr, None))
            }
    await risk_repo.standing(session, keys)


async def prefetch_claims(
    session: AsyncSession,
    payloads: Sequence[EventPayload],
    known: Mapping[str, ReturnFacts],
    cfg: ScoringConfig,
) -> None:
    """Read what a deferred batch's claims weigh, in two or three statements: their parties'
    window totals with their sellers' recent weeks (`features.prefetch_window_totals`), their
    pairs' counts with the lefts that named each buyer (`features.prefetch_pairs_and_lefts`),
    and, when the batch has QC-contradicting claims, the stored contradicting pairs with those
    its claims will contradict (`features.prefetch_contradicting`). Each claim then
    finds them kept for the batch, with the batch's pending increments added at its turn,
    instead of reading its own: the same numbers, three or four statements a claim fewer.
    The parties are those the batch's events will have given each return by its claim; one
    missed is read when the claim asks for it. Outside a deferred batch nothing is kept."""
    if not features.in_deferred_batch(session):
        return
    windows: list[features.Window] = []
    qc_windows: list[features.Window] = []
    recent: list[features.Window] = []
    contradicted: list[tuple[str, str, str]] = []
    pairs: list[tuple[str, str, str]] = []
    buyers: set[str] = set()
    # Each claim's seller's deliveries of a claim window back from its earliest claim, read
    # with the open claim windows on (`ClaimInputs.open_windows`).
    delivered_since: dict[str, datetime] = {}
    for facts, at, claim_type in _claims(payloads, known):
        if cfg.seller_open_windows and facts.seller_id:
            opened = at - timedelta(hours=cfg.claim_window_h)
            delivered_since[facts.seller_id] = min(
                opened, delivered_since.get(facts.seller_id, opened)
            )
        since, until = (at - cfg.long_window).date(), at.date()
        windows += [(e, since, until) for e in claim_windows(facts)]
        qc = qc_read(facts, claim_type)
        qc_windows += [(e, since, until) for e in qc]
        if qc:
            contradicted += contradicted_pairs(facts)
        recent += [
            (e, (at - timedelta(days=cfg.seller_recent_days)).date(), until)
            for e in recent_read(facts, cfg)
        ]
        pairs += claim_pairs(facts)
        if facts.buyer_id:
            buyers.add(facts.buyer_id)
    if not windows:
        return
    # One read for both kinds of entity: the QC entities' metrics ride along with the parties';
    # the sellers' recent weeks are a span of their own in the same statement.
    await features.prefetch_window_totals(
        session,
        windows + qc_windows,
        CLAIM_METRICS + (QC_METRICS if qc_windows else ()),
        shorter=(recent, RECENT_METRICS),
    )
    await features.prefetch_pairs_and_lefts(
        session, pairs, kind="seller_buyer", right_ids=buyers, metric="named"
    )
    # A leaning seller's record reads its open claim windows: the batch's claims' sellers'
    # last week of deliveries, in one statement (only with the setting on).
    await features.prefetch_deliveries(session, delivered_since)
    if contradicted:
        # The QC-contradicting claims' step reads the stored contradicting pairs, and each
        # pair its claim contradicts anew: all of them here, in one statement.
        await features.prefetch_contradicting(
            session, kinds=CONTRADICTED_KINDS, named_by=NAMED_BY, pairs=contradicted
        )


def _claims(
    payloads: Sequence[EventPayload], known: Mapping[str, ReturnFacts]
) -> list[tuple[ReturnFacts, datetime, str]]:
    """The batch's events that will weigh their return's claim (`claim_context`), each with
    its return's parties as the batch's earlier events leave them (a sketch, not the session's
    facts: nothing here is written), its time and its claim type."""
    sketches: dict[str, ReturnFacts] = {}
    out: list[tuple[ReturnFacts, datetime, str]] = []
    for p in payloads:
        return_id = getattr(p, "return_id", None)
        if not return_id:
            continue
        sketch = sketches.get(return_id)
        if sketch is None:
            facts = known.get(return_id)
            sketch = sketches[return_id] = ReturnFacts(
                return_id=return_id,
                # A copy: the sketch grows with the batch's scans, the session's facts do not.
                hubs=list(facts.hubs or []) if facts is not None else [],
                **{a: getattr(facts, a) if facts is not None else None for a in _PARTIES},
            )
        if isinstance(p, ReturnInitiated):
            sketch.seller_id, sketch.buyer_id = p.seller_id, p.buyer_id
            sketch.category = p.category
            sketch.contact_hash, sketch.address_hash = p.buyer_contact_hash, p.buyer_address_hash
        elif isinstance(p, ReturnShipmentEvent):
            # The hubs in the order first seen, as the facts keep them (`pickup_hub`).
            if p.hub_id and p.hub_id not in (sketch.hubs or []):
                sketch.hubs = [*(sketch.hubs or []), p.hub_id]
            if p.event_type in _PICKUP_SCANS and p.agent_id and not sketch.pickup_agent_id:
                sketch.pickup_agent_id = p.agent_id
            if p.event_type in _QC_SCANS and sketch.qc_result is None:
                passed = p.event_type == ShipmentEventType.QC_PASSED
                sketch.qc_result = "PASSED" if passed else "FAILED"
                sketch.qc_agent_id, sketch.qc_hub_id = p.agent_id, p.hub_id
        elif isinstance(p, SellerEscalationFiled):
            sketch.seller_id = sketch.seller_id or p.seller_id
            sketch.claim_type = sketch.claim_type or p.claim_type.value
            out.append((sketch, event_time(p), sketch.claim_type))
        elif isinstance(p, EvidenceAdded) and sketch.claim_type:
            # A case event or an appeal carries its claim's assessment (`carry_claim`): it
            # reads nothing of the claim's parties.
            out.append((sketch, event_time(p), sketch.claim_type))
    return out


def _unclaimed_delivered(
    payloads: Sequence[EventPayload], known: Mapping[str, ReturnFacts]
) -> set[str]:
    """The sellers of the batch's deliveries that may read their seller at its latest claim
    (`read_at_latest_claim`): a delivery scan of a return neither ended nor claimed by then,
    as its stored facts and the batch's earlier events leave it. The seller is the facts' or,
    for a return the batch begins, its feed entry's."""
    sellers: dict[str, str | None] = {}
    passed: set[str] = set()  # claimed or ended: its delivery reads nothing
    out: set[str] = set()
    for p in payloads:
        return_id = getattr(p, "return_id", None)
        if not return_id:
            continue
        if return_id not in sellers:
            facts = known.get(return_id)
            sellers[return_id] = facts.seller_id if facts is not None else None
            if facts is not None and (facts.escalation_id or facts.terminal):
                passed.add(return_id)
        if isinstance(p, ReturnInitiated):
            sellers[return_id] = sellers[return_id] or p.seller_id
        elif isinstance(p, SellerEscalationFiled):
            passed.add(return_id)
        elif isinstance(p, ReturnShipmentEvent) and return_id not in passed:
            if p.event_type == ShipmentEventType.DELIVERED_TO_SELLER and sellers[return_id]:
                out.add(cast(str, sellers[return_id]))
            if p.event_type in TERMINAL:
                passed.add(return_id)
    return out


# The facts a claim's reads are keyed by (`_claims`).
_PARTIES = (
    "seller_id",
    "buyer_id",
    "category",
    "contact_hash",
    "address_hash",
    "pickup_agent_id",
    "qc_agent_id",
    "qc_hub_id",
    "qc_result",
    "claim_type",
)
_QC_SCANS = frozenset({ShipmentEventType.QC_PASSED, ShipmentEventType.QC_FAILED})


def _terminal_scans(
    payloads: Sequence[EventPayload], known: Mapping[str, ReturnFacts]
) -> list[tuple[datetime, list[features.Entity]]]:
    """Each terminal scan of the batch, with the hubs and agent its return may have by then:
    those of its stored facts and of the return's scans in the batch up to it (`record_scan`
    adds the scans' hubs, and the pickup's agent)."""
    named: dict[str, list[features.Entity]] = {}
    out: list[tuple[datetime, list[features.Entity]]] = []
    for p in payloads:
        if not isinstance(p, ReturnShipmentEvent):
            continue
        entities = named.get(p.return_id)
        if entities is None:
            facts = known.get(p.return_id)
            entities = named[p.return_id] = (
                [("hub", h) for h in facts.hubs or []]
                + ([("agent", facts.pickup_agent_id)] if facts.pickup_agent_id else [])
                if facts is not None
                else []
            )
        if p.hub_id:
            entities.append(("hub", p.hub_id))
        if p.agent_id and p.event_type in _PICKUP_SCANS:
            entities.append(("agent", p.agent_id))
        if p.event_type in TERMINAL:
            out.append((event_time(p), list(entities)))
    return out


async def assess_event(
    session: AsyncSession,
    *,
    payload: EventPayload,
    subject_event_id: UUID,
    config: ScoringConfig | None = None,
) -> FraudAssessed:
    # Without autoflush, this event's new rows (facts, assessment, outbox, history) are written
    # once per consumer batch at commit instead of before every query of the next event; what
    # later events must read is written by statements or found in the session's caches.
    with session.no_autoflush:
        return await _assess(
            session,
            payload=payload,
            subject_event_id=subject_event_id,
            cfg=config or default_config(),
        )


async def _assess(
    session: AsyncSession, *, payload: EventPayload, subject_event_id: UUID, cfg: ScoringConfig
) -> FraudAssessed:
    return_id = str(cast(Any, payload).return_id)  # every scored event is about a return
    facts = await features.get_facts(session, return_id)
    if isinstance(payload, CaseEventBase | AppealFiled) and facts is not None and facts.claim_type:
        carried = await carry_claim(session, payload, facts, subject_event_id)
        if carried is not None:
            return carried
    a = Assessor(session, payload, cfg)
    if facts is None:
        facts = ReturnFacts(
            return_id=return_id,
            hubs=[],
            custody=[],
            incident=False,
            pair_counted=False,
            moved_on=False,
        )
        features.add_facts(session, facts)
    inc = Increments()
    escalation_id: str | None = getattr(payload, "escalation_id", None)
    claim_event = terminal_scan = False
    evidence: list[EvidenceItem] = []
    # Whether the return's refusal at pickup was counted for its buyer before this event (its
    # buyer's test runs on the event that counts it or takes it back, `count_refusal`).
    refused_before = facts.refusal_day is not None

    # What the return's claim, already assessed, read of the journey: a scan that changes it
    # re-assesses the claim (`reassess_claim`). Read only for a scan after a claim.
    claim_read = (
        ScansRead.of(facts)
        if isinstance(payload, ReturnShipmentEvent) and facts.escalation_id
        else None
    )
    if isinstance(payload, ReturnInitiated):
        claimed_first = facts.escalation_id is not None
        record_return(facts, payload, inc)
        if claimed_first:
            # The claim reached fraud ahead of the feed entry (intake emits it at once): its
            # evidence was recorded without the order, which would make the order's other
            # items' claims on the same invoice look like reuse.
            await features.order_evidence(session, return_id, payload.order_id)
    elif isinstance(payload, ReturnShipmentEvent):
        terminal = record_scan(
            facts, payload, inc, dear_from=await dear_from(session, facts, payload, cfg)
        )
        terminal_scan = terminal
        completed = inc.completed_end
        await flush(session, inc)
        if terminal:
            await a.pilferage(facts)
        elif completed and facts.terminal_at is not None:
            # A scan after the journey's end changed what the end was counted with: it runs
            # the tests the end ran, as of the end (its own time lies before the end's day,
            # outside the window), not the hub's or agent's next terminal scan hours or days
            # later.
            with a.as_of(facts.terminal_at):
                await a.pilferage(facts)
    elif isinstance(payload, SellerEscalationFiled):
        record_claim(
            facts,
            payload,
            inc,
            window_h=cfg.claim_window_h,
            late_margin_h=cfg.late_margin_h,
        )
        claim_event = True
        evidence = list(payload.evidence)
    elif isinstance(payload, EvidenceAdded | AppealFiled):
        # An appeal reaches here only when its claim has no assessment yet (`carry_claim`).
        claim_event = facts.claim_type is not None
        if isinstance(payload, EvidenceAdded):
            evidence = list(payload.evidence)
    elif isinstance(payload, CaseEventBase):
        # A case event of a claimed return reaches here only when its claim has no assessment
        # yet (`carry_claim`).
        escalation_id = escalation_id or facts.escalation_id
        claim_event = facts.claim_type is not None
    elif isinstance(payload, RefundIssued):
        pass
    await flush(session, inc)
    if claim_event and facts.claim_type:
        await a.claim_context(facts, facts.claim_type, evidence, escalation_id)
    elif refused_before != (facts.refusal_day is not None) and facts.buyer_id:
        await a.buyer_at_qc_failure(facts.buyer_id)

    entities = involved(payload, facts)
    keys = entity_keys(entities)
    known = await risk_repo.standing(
        session, set(keys) | set(a.evaluated) | concerned_entities(facts, keys)
    )
    stored, watched = known.risks, known.watches
    if terminal_scan and flagged_seller_delivered(facts, known.alerts):
        await a.reexamine_seller(facts)
    if terminal_scan and flagged_buyer_delivered(facts, known.alerts) and facts.buyer_id:
        await a.reexamine_buyer(facts.buyer_id)
    cleared = await clear_alerts(session, a, known.alerts)
    watched = [w for w in watched if (w.entity_type, w.entity_id) not in cleared.unwatched]
    still_open = [x for x in known.alerts if x.alert_id not in cleared.alert_ids]
    a.open_alerts(facts, still_open, terminal_scan=terminal_scan)
    score, band, reasons = scored_event(a, keys, stored, watched)

    await refresh_risk(session, a, stored, subject_event_id, still_open)
    alert_ids = await raise_alerts(session, a, subject_event_id)
    await follow_evidence(session, a, still_open)
    for escalation, finding in a.late_reuses:
        await revise_claim(
            session,
            escalation,
            finding,
            at=a.at,
            alert_id=alert_ids.get((finding.pattern, subject_key(finding))),
        )

    assessed_at = datetime.now(UTC)
    assessment = FraudAssessed(
        assessment_id=uuid4(),
        subject_event_id=subject_event_id,
        subject_type=payload.ce_type,
        return_id=return_id,
        escalation_id=escalation_id,
        entities=entities,
        score=score,
        band=band,
        reasons=reasons,
        model_version=MODEL_VERSION,
        assessed_at=assessed_at,
    )
    assessments.record(session, assessment, event_time=a.at)
    metrics.ASSESSMENTS.labels(band.value).inc()
    if (
        claim_read is not None
        and isinstance(payload, ReturnShipmentEvent)
        and ScansRead.of(facts) != claim_read
    ):
        await reassess_claim(session, payload, facts, cfg, before=claim_read)
    if (
        terminal_scan
        and isinstance(payload, ReturnShipmentEvent)
        and facts.escalation_id is None
        and not flagged_seller_delivered(facts, still_open)
    ):
        await read_at_latest_claim(session, payload, facts, cfg)
    return assessment


async def carry_claim(
    session: AsyncSession,
    payload: CaseEventBase | AppealFiled,
    facts: ReturnFacts,
    subject_event_id: UUID,
) -> FraudAssessed | None:
    """A case's transition or an appeal, assessed as its claim stands: the claim's latest
    assessment (band, score, reasons, its latest revision where there are revisions) with this
    event as its subject. None when the claim has no assessment to carry.

    Neither kind of event is new input to any detector: nothing is counted for them (no
    `record_*`), an appeal brings only the seller's words, and a transition is the desk's or
    the SOP's act on the claim. Reconciliation stamps a transition when it happens and intake
    an appeal when it arrives, after the claim and, in a replay, after the whole history: a
    fresh run of the claim's tests at that time read whatever fraud's consumer had counted by
    then, so the same claim took another band, stored other entity risks and raised or cleared
    other alerts depending on the consumer's lag (and cost a whole claim's test per
    transition). What fraud learns of the claim later reaches it through the revisions that
    exist for that (an alert's, a late scan's, a clearing's), each revising the claim's own
    assessment, which the next transition then carries. So nothing is stored of the entities
    and no alert is raised or cleared here. New evidence is new input and is tested
    (`EvidenceAdded`)."""
    # A transition names no escalation; it is its return's claim's. An appeal names the claim
    # it appeals (another escalation merged into the case has its own assessment).
    escalation_id = getattr(payload, "escalation_id", None) or facts.escalation_id
    if escalation_id is None:
        return None
    latest = await assessments.latest_of_claim(session, escalation_id)
    if latest is None and facts.escalation_id and escalation_id != facts.escalation_id:
        # An appeal under an id fraud holds no assessment of (an `APL-...` id) on a return a
        # claim was filed on: the return's claim stands for it.
        latest = await assessments.latest_of_claim(session, facts.escalation_id)
    if latest is None:
        # The claim is counted but has no assessment: not reached in practice (a claim's
        # counts and its assessment are written in one transaction, and this poll's are found
        # pending); the caller then tests the claim as its own assessment would, which is
        # better than a band made up without it.
        return None
    assessment = FraudAssessed(
        assessment_id=uuid4(),
        subject_event_id=subject_event_id,
        subject_type=payload.ce_type,
        return_id=facts.return_id,
        escalation_id=escalation_id,
        entities=involved(payload, facts),
        score=latest.score,
        band=FraudBand(latest.band),
        reasons=[ReasonCode.model_validate(r) for r in latest.reasons],
        model_version=MODEL_VERSION,
        assessed_at=datetime.now(UTC),
    )
    assessments.record(session, assessment, event_time=event_time(payload))
    metrics.ASSESSMENTS.labels(assessment.band.value).inc()
    return assessment


def hold(s: Scored, high_log_bf: float, ring_sellers: set[str]) -> Scored:
    finding, weight = claim_band.held(s.finding, s.weight, high_log_bf, ring_sellers)
    return s if finding is s.finding else Scored(finding, weight, s.direct)


def scored_event(
    a: Assessor,
    keys: list[tuple[str, str]],
    stored: Mapping[tuple[str, str], StoredRisk],
    watched: list[Watch],
) -> tuple[float, FraudBand, list[ReasonCode]]:
    """The event's score, band and reasons from its findings, the stored risk of its entities
    that no detector re-evaluated, and their watchlist entries."""
    # Entities not re-evaluated by this event still colour it through their stored risk.
    for key in keys:
        if key in a.evaluated or key not in stored:
            continue
        risk = stored[key]
        if risk.band != FraudBand.LOW.value:
            c = indirect(risk.score)
            a.scored.append(
                Scored(
                    Finding(
                        f"{key[0].upper()}_RISK_ELEVATED",
                        f"{key[0]} {key[1]} currently {risk.band} ({risk.score:.2f})",
                        c,
                        "ENTITY_RISK",
                        key[0],
                        key[1],
                        {"entity_score": round(risk.score, 4)},
                    ),
                    c,
                    direct=False,
                )
            )

    # A seller's claim-rate evidence short of its claims' HIGH level speaks at MEDIUM at most,
    # live or as its alert's floor (`claim_band`).
    a.scored = [hold(s, a.config.seller_claim_high_log_bf, a.colluding_sellers) for s in a.scored]
    score = corroborated(event_score(a.scored), a.scored, a.t)
    band = band_of(score)
    reasons = [
        ReasonCode(
            code=s.finding.code,
            detail=s.finding.detail,
            contribution=round(s.weight, 4),
            numbers=s.finding.numbers
            | {
                "pattern": s.finding.pattern,
                "entity": f"{s.finding.entity_type}:{s.finding.entity_id}",
            },
        )
        for s in sorted(a.scored, key=lambda s: -s.weight)
    ]
    watched = [w for w in watched if (w.entity_type, w.entity_id) in set(keys)]
    if watched:
        score, band, extra = apply_watchlist(score, band, watched)
        reasons += extra
    return score, band, reasons


def claim_entities(facts: ReturnFacts) -> InvolvedEntities:
    """A claim's entities as its return's facts name them (a claim names only its seller)."""
    hubs = facts.hubs or []
    return InvolvedEntities(
        seller_id=facts.seller_id,
        buyer_id=facts.buyer_id,
        partner_id=facts.partner_id,
        hub_id=hubs[-1] if hubs else None,
        agent_id=facts.pickup_agent_id,
    )


def newly_named(before: ScansRead, after: ScansRead) -> set[tuple[str, str]]:
    """The handlers a scan named that the journey's scans did not name before it: its QC agent
    and hub, its pickup agent, its pickup hub."""
    return {
        (etype, now)
        for etype, was, now in (
            ("agent", before.qc_agent, after.qc_agent),
            ("hub", before.qc_hub, after.qc_hub),
            ("agent", before.pickup_agent, after.pickup_agent),
            ("hub", before.hub, after.hub),
        )
        if now and now != was
    }


async def reassess_claim(
    session: AsyncSession,
    scan: ReturnShipmentEvent,
    facts: ReturnFacts,
    cfg: ScoringConfig,
    *,
    before: ScansRead,
) -> bool:
    """Score a return's claim again when a scan that reached fraud after the claim changed what
    the claim read of the journey (`ScansRead`: the delivery and whether the parcel came to
    harm, the weights, the QC pass with its agent and hub, the pickup agent and hub), and
    publish a revision when its band changes (`revisions.revised_claim`).

    Partners send late: a rapidroute batch hours after its scans, a desipost snapshot, a loss
    declared days on; and a claim goes ahead of a backlog. The claim is judged as of its own
    time, as its first assessment would have judged it with every scan in hand: the counts
    the scan changed are already recounted (`features.service.recount_late`), the alerts open
    now on the entities the scan named (its QC agent, its hub) carry their floor onto it, and
    an alert its detectors find due on a handler the scan newly named (a QC agent whose pass
    the claim contradicts) is raised as the claim would have raised it. So is an alert due on
    the claim's seller or buyer whose record ends at the claim (`record_ends_at_claim`): a
    claim filed before its delivery scan reached fraud counts for its seller only with that
    scan, so its first assessment read the seller without it, and an abuser whose alert-worthy
    evidence the claim completes would otherwise wait for its next claim, days on. No other
    alert is raised, and none is cleared here: a test run as of the claim's time does not see
    the entity's record since, and would raise again a seller's alert cleared since. A
    redelivered scan changes nothing read, so it revises nothing."""
    assert facts.escalation_id is not None and facts.claim_type and facts.claimed_at
    latest = await revisions.latest_claim_assessment(session, facts.escalation_id)
    if latest is None:
        return False
    a = Assessor(session, scan, cfg)
    with a.as_of(facts.claimed_at):
        await a.claim_context(facts, facts.claim_type, [], facts.escalation_id)
    entities = claim_entities(facts)
    # The hub the claim already named stays: the return's hubs are kept in the order their
    # scans arrived, so a late scan at the origin would otherwise become the claim's hub.
    named_hub = (latest.entities or {}).get("hub_id")
    if named_hub:
        entities = entities.model_copy(update={"hub_id": named_hub})
    keys = entity_keys(entities)
    known = await risk_repo.standing(
        session, set(keys) | set(a.evaluated) | concerned_entities(facts, keys)
    )
    a.open_alerts(
        facts, known.alerts, terminal_scan=False, subject_type=SellerEscalationFiled.ce_type
    )
    score, _, reasons = scored_event(a, keys, known.risks, known.watches)
    old = [ReasonCode.model_validate(r) for r in latest.reasons]
    revised = revisions.revised_claim(
        latest.band, old, score, reasons, {str(x.alert_id) for x in known.alerts}
    )
    if revised is not None:
        why = ReasonCode(
            code=revisions.LATE_SCAN,
            detail=(
                f"re-assessed when the return's {scan.event_type.value} scan of "
                f"{scan.occurred_at.isoformat()} reached fraud after the claim"
            )[:500],
            contribution=0.0,
            numbers={
                "pattern": "LATE_FACT",
                "entity": f"return:{facts.return_id}",
                "revised_on_event_time": a.at.isoformat(),
            },
        )
        publish_revision(
            session,
            latest,
            score=revised.score,
            band=revised.band,
            reasons=[why, *revised.reasons],
            entities=entities,
        )
    metrics.LATE_SCAN_REASSESSMENTS.labels(
        "unchanged"
        if revised is None
        else "raised"
        if BANDS.index(revised.band) > BANDS.index(FraudBand(latest.band))
        else "lowered"
    ).inc()
    # After the revision is recorded: an alert's own revisions read it as the claim's latest.
    named = newly_named(before, ScansRead.of(facts))
    # An alert open on the entity already stands for its finding (a pair's alert is per buyer):
    # no need to ask whether the entity's record ends at the claim.
    standing = {(x.pattern, x.entity_type, x.entity_id) for x in known.alerts}
    due = [
        s
        for s in a.scored
        if (s.finding.entity_type, s.finding.entity_id) in named
        or (
            s.finding.alert
            and (
                "buyer_id" in s.finding.numbers
                or (s.finding.pattern, s.finding.entity_type, s.finding.entity_id) not in standing
            )
            and await record_ends_at_claim(session, facts, s.finding)
        )
    ]
    a.scored = due
    if a.scored:
        await raise_alerts(session, a, latest.subject_event_id)
    await raise_at_latest_claims(
        session, scan, facts, cfg, before=before, standing=standing, subject=latest
    )
    return revised is not None


async def raise_at_latest_claims(
    session: AsyncSession,
    scan: ReturnShipmentEvent,
    facts: ReturnFacts,
    cfg: ScoringConfig,
    *,
    before: ScansRead,
    standing: set[tuple[str, str, str]],
    subject: assessments.ClaimAssessment,
) -> None:
    """The claim's seller read as of its latest counted claim when a late scan moved what the
    seller's rates count of this claim and the seller's record goes on after it.

    The claim's own re-run reads the seller as of the claim's time, and may raise only when
    nothing of the seller's record lies after it (`record_ends_at_claim`). Otherwise the
    seller's later claims were each tested without this claim's counts (a claim counts for its
    seller once its delivery is known, `count_claim_scans`), and the evidence the scan
    completes stood at the seller's latest counted claim, not at this one: read there, with
    every scan in hand, as that claim would have read it, its alert is raised there (stamped at
    its time, `as_of`) instead of waiting for the seller's next claim, days on, as late
    refusals read a buyer as of its latest claim (`returns_abuse.buyer_at_qc_failure`). To
    raise only: the reading is looked back, so it clears nothing, and an alert of the pattern
    closed at or after that claim's time (cleared by fraud since, or by a person) keeps it from
    raising again.

    Not the named buyer: a late scan never adds to a buyer's wrong/used evidence. The buyer's
    named claims count on the claim itself, whatever its scans (`count_claim_scans`); a scan
    adds a delivered return (a trial, and never fewer trials than named claims are read,
    `stats.rate_test`) or takes a named claim away (a parcel that came to harm), so the buyer's
    latest claim already read at least the evidence the scan leaves."""
    after = ScansRead.of(facts)
    seller = facts.seller_id
    assert facts.claimed_at is not None
    # The seller's rates count the claim once delivered, with its weight's verdict.
    moved = before.seller_claim != after.seller_claim or (
        after.seller_claim and before.drop != after.drop
    )
    if not seller or not moved or (claim_abuse.PATTERN, "seller", seller) in standing:
        return
    later = await features.latest_counted_claim(session, seller)
    if later is None or later.claimed_at is None or later.claimed_at <= facts.claimed_at:
        return
    ahead, found = await seller_alerts_at(session, scan, cfg, seller, later, later.claimed_at)
    await raise_ahead(session, ahead, found, later.escalation_id, subject)


async def seller_alerts_at(
    session: AsyncSession,
    scan: ReturnShipmentEvent,
    cfg: ScoringConfig,
    seller: str,
    later: ReturnFacts,
    at: datetime,
) -> tuple[Assessor, list[Finding]]:
    """The seller read as of its later claim `later`, at that claim's time `at` (`as_of`: looked
    back, with everything counted since), and its claim-abuse findings due an alert there: the
    one reading both late paths make (a claimed return's late scan, a late delivery of an
    unclaimed one)."""
    ahead = Assessor(session, scan, cfg)
    with ahead.as_of(at):
        await ahead.reexamine_seller(later)
    found = [
        f
        for f in ahead.evaluated.get(("seller", seller), [])
        if f.alert and f.pattern == claim_abuse.PATTERN
    ]
    return ahead, found


@dataclass(slots=True)
class _ReadAtLatestClaim:
    """The sellers this transaction (a consumer batch) has read as of their latest counted
    claim on a delivery that reached fraud after it (`read_at_latest_claim`)."""

    sellers: set[str] = field(default_factory=set)


async def read_at_latest_claim(
    session: AsyncSession,
    scan: ReturnShipmentEvent,
    facts: ReturnFacts,
    cfg: ScoringConfig,
) -> None:
    """The seller read as of its latest counted claim when a delivery of an unclaimed return
    reaches fraud after that claim (its time before the claim's), and the alert raised there if
    its record, with the delivery in hand, is due one.

    A seller's claims are read against the deliveries fraud has counted when each is scored.
    Behind a backlog (a marketplace's history sent in minutes, partners' late batches) the
    claims of a seller, taken with their own returns' scans, are scored while much of the
    market's deliveries before them still waits: every seller then reads a rate of claims per
    delivery well above its own, by how far its deliveries lag, and the sellers' spread reads
    wide (a + b of 9-60 where honest shops scatter as binomial chance; on the specification's
    worlds through the product, 4242's abusers read 14 claims in 33 deliveries at their last
    claim where 91 were theirs). No later event of the seller read it again, so the abuser
    whose full record is due an alert was never alerted. Its late deliveries are those events:
    each reads the seller at its latest claim with what has been counted since, as
    `raise_at_latest_claims` does for a claimed return's late scan, once per seller per
    transaction. To raise only: the reading is looked back, so it clears nothing, and an
    alert of the pattern closed at or after that claim's time keeps it from raising again
    (`raise_ahead`). A seller under an open alert is read on each delivery anyway
    (`reexamine_seller`)."""
    seller = facts.seller_id
    delivered_at = facts.terminal_at
    read = unit_of(session).get(_ReadAtLatestClaim).sellers
    if (
        not seller
        or facts.terminal != ShipmentEventType.DELIVERED_TO_SELLER.value
        or delivered_at is None
        or seller in read
    ):
        return
    later = await features.latest_counted_claim(session, seller)
    if later is None or later.claimed_at is None or later.claimed_at <= delivered_at:
        return
    read.add(seller)
    subject = (
        await assessments.latest_of_claim(session, later.escalation_id)
        if later.escalation_id
        else None
    )
    if subject is None:
        return
    ahead, found = await seller_alerts_at(session, scan, cfg, seller, later, later.claimed_at)
    if found:
        await raise_ahead(session, ahead, found, later.escalation_id, subject)


async def raise_ahead(
    session: AsyncSession,
    ahead: Assessor,
    found: list[Finding],
    escalation_id: str | None,
    subject: assessments.ClaimAssessment,
) -> None:
    """Raise the alerts `found` on a party read as of its latest claim (`ahead.at` is back at
    the scan's time; `ahead.alert_at` holds that claim's), unless an alert of the pattern on
    the party was closed at or after that time. The alert names that claim's assessment as
    its subject where it has one, else the re-assessed claim's."""
    due = [
        f
        for f in found
        if not await alerts_repo.closed_since(
            session, f.pattern, f.entity_type, f.entity_id, ahead.alert_at
        )
    ]
    if not due:
        return
    named = (
        await assessments.latest_of_claim(session, escalation_id) if escalation_id else None
    ) or subject
    ahead.scored = [Scored(f, f.contribution, True) for f in due]
    await raise_alerts(session, ahead, named.subject_event_id)


async def record_ends_at_claim(session: AsyncSession, facts: ReturnFacts, f: Finding) -> bool:
    """Whether the alert-worthy finding `f` of a claim re-assessed on a late scan may raise its
    alert: it is about the claim's seller or named buyer, and nothing of that entity's record
    lies after the claim's time. For the seller, no claim of its filed later counts in its
    rates (a later claim's own test read the seller at its time, and its next test will read
    this claim too); for the buyer, no later claim on a return of its. And no alert of the
    pattern on the entity was closed at or after the claim's time (`alerts_repo.closed_since`):
    the test, run as of the claim's time, does not see what cleared the entity since, nor an
    analyst's close. Then the claim's first assessment, had its scans been in hand, would have
    raised the alert at the claim's time, as the late scan now does (stamped there, `as_of`)."""
    at = facts.claimed_at
    assert at is not None
    if f.entity_type == "seller" and f.entity_id == facts.seller_id:
        if await features.counted_claim_after(session, f.entity_id, at):
            return False
    elif f.entity_type == "buyer" and f.entity_id == facts.buyer_id:
        latest = await features.latest_claim_naming(session, f.entity_id)
        if latest is not None and latest > at:
            return False
    else:
        return False
    return not await alerts_repo.closed_since(session, f.pattern, f.entity_type, f.entity_id, at)


def flagged_seller_delivered(facts: ReturnFacts, alerts: list[OpenAlert]) -> bool:
    """Whether this terminal scan delivered a return to a seller under an open claim-abuse
    alert: a flag raised on a few claims is re-examined on the deliveries that follow, so that
    a small seller whose later returns go unclaimed is cleared without waiting for its next
    claim (which may never come). Only then: an unflagged seller's deliveries read nothing."""
    if facts.terminal != ShipmentEventType.DELIVERED_TO_SELLER.value or not facts.seller_id:
        return False
    return any(
        x.pattern == claim_abuse.PATTERN
        and x.entity_type == "seller"
        and x.entity_id == facts.seller_id
        for x in alerts
    )


def flagged_buyer_delivered(facts: ReturnFacts, alerts: list[OpenAlert]) -> bool:
    """Whether this terminal scan delivered to its seller a return of a buyer under an open
    wrong/used alert: the buyer's ordinary returns are those that reach the seller and are not
    claimed as wrong, used or missing, and nothing else of the buyer's happens on them, so its
    flag is re-examined on their deliveries (`reexamine_buyer`). A return lost or damaged in
    transit never reached the seller and says nothing of the buyer. Only then: an unflagged
    buyer's deliveries read nothing."""
    if facts.terminal != ShipmentEventType.DELIVERED_TO_SELLER.value or not facts.buyer_id:
        return False
    return any(
        x.pattern == returns_abuse.PATTERN
        and x.entity_type == "buyer"
        and x.entity_id == facts.buyer_id
        for x in alerts
    )


@dataclass(frozen=True, slots=True)
class Cleared:
    alert_ids: set[UUID]
    # Entities whose automatic watch went with their last open alert.
    unwatched: set[tuple[str, str]]


async def clear_alerts(session: AsyncSession, a: Assessor, alerts: list[OpenAlert]) -> Cleared:
    """Close the open alerts that this event's sequential tests no longer support (see
    `detectors.sequential.clears`): a flag raised on a few early events is re-examined as the
    entity's events accumulate, and cleared when it proves ordinary. An acknowledged alert is
    in an analyst's hands and stays. The entity's automatic watch goes with its last open
    alert, and the events the alert made HIGH are revised down (`revise_after_clearing`)."""
    ids: set[UUID] = set()
    unwatched: set[tuple[str, str]] = set()
    for alert in alerts:
        key = (alert.pattern, alert.entity_type, alert.entity_id)
        if key in a.looked_back:
            # A late scan's test ends at its journey's end, days before the entity's latest
            # record, which the open alert may rest on: it can add to the alert, not clear it.
            continue
        test = a.sequential.get(key)
        findings = a.evaluated.get((alert.entity_type, alert.entity_id), [])
        if not clears(alert.pattern, test, findings, a.config.sequential):
            continue
        assert test is not None  # clears() is False without a test
        why = {
            "cleared": {
                "event_time": a.at.isoformat(),
                "numbers": test.numbers(),
                "detail": f"the entity's record now looks ordinary: {test.detail()}",
            }
        }
        if not await alerts_repo.clear(session, alert.alert_id, at=datetime.now(UTC), why=why):
            continue
        ids.add(alert.alert_id)
        metrics.ALERTS_CLEARED.labels(alert.pattern).inc()
        # What the alert made HIGH goes with it: its entity's events in the detector's window
        # that were HIGH on the alert's pattern alone are revised down.
        await revise_after_clearing(
            session,
            pattern=alert.pattern,
            entity_type=alert.entity_type,
            entity_id=alert.entity_id,
            alert_id=alert.alert_id,
            at=a.at,
            window=a.config.revision_window(alert.pattern),
            detail=str(why["cleared"]["detail"]),
            raised_at=alert.event_time,
        )
        entity = (alert.entity_type, alert.entity_id)
        risk_repo.forget_alert(session, alert.alert_id, entity)
        if not (await risk_repo.standing(session, [entity])).alerts:
            await watch_repo.remove_automatic(
                session, entity_type=entity[0], entity_id=entity[1], at=datetime.now(UTC)
            )
            risk_repo.forget_automatic_watch(session, entity)
            unwatched.add(entity)
    return Cleared(ids, unwatched)


async def dear_from(
    session: AsyncSession, facts: ReturnFacts, scan: ReturnShipmentEvent, cfg: ScoringConfig
) -> int | None:
    """The lowest value bin that is dear in the return's category (`features.dear`), read from
    the category's deliveries of the last `cfg.dear_window` when this scan delivers the return
    to its seller; None otherwise (nothing to label), so other scans cost no query. A consumer
    batch reads a category's stored days once (`features.kept_window_totals`)."""
    if (
        scan.event_type != ShipmentEventType.DELIVERED_TO_SELLER
        or facts.terminal is not None
        or not facts.category
        or facts.item_value is None
    ):
        return None
    day = scan.occurred_at.date()
    counts = await features.kept_window_totals(
        session,
        ("category", facts.category),
        dear.VALUE_METRICS,
        (scan.occurred_at - cfg.dear_window).date(),
        day,
    )
    return dear.dear_from(counts, share=cfg.dear_share, min_deliveries=cfg.dear_min_deliveries)


async def flush(session: AsyncSession, inc: Increments) -> None:
    await features.add_counts(session, inc.counts)
    await features.add_pairs(session, inc.pairs)
    await features.link_identity(session, inc.identities)
    inc.counts.clear()
    inc.pairs.clear()
    inc.identities.clear()


BANDS = [FraudBand.LOW, FraudBand.MEDIUM, FraudBand.HIGH]
BAND_FLOOR = {FraudBand.LOW: 0.0, FraudBand.MEDIUM: 0.5, FraudBand.HIGH: 0.8}
# The highest MEDIUM score: where uncorroborated weak findings stop.
BELOW_HIGH = 0.79


def apply_watchlist(
    score: float, band: FraudBand, watched: list[Watch]
) -> tuple[float, FraudBand, list[ReasonCode]]:
    """A manual entry raises the band by one; an automatic one (from an alert) to MEDIUM at
    least."""
    reasons = []
    new_band = band
    for entry in watched:
        if entry.source == "manual":
            candidate = BANDS[min(BANDS.index(band) + 1, 2)]
        else:
            candidate = FraudBand.MEDIUM
        if BANDS.index(candidate) > BANDS.index(new_band):
            new_band = candidate
        reasons.append(
            ReasonCode(
                code=f"WATCHLIST_{entry.source.upper()}",
                detail=f"{entry.entity_type} {entry.entity_id} on the watchlist: {entry.reason}"[
                    :500
                ],
                contribution=0.0,
                numbers={
                    "entity": f"{entry.entity_type}:{entry.entity_id}",
                    "pattern": "WATCHLIST",
                },
            )
        )
    if new_band != band:
        score = max(score, BAND_FLOOR[new_band])
    return score, new_band, reasons


async def refresh_risk(
    session: AsyncSession,
    a: Assessor,
    stored: dict[tuple[str, str], StoredRisk],
    subject_event_id: UUID,
    still_open: Sequence[OpenAlert],
) -> None:
    """Store the risk of each entity a detector evaluated on this event (`entity_score`) and
    note the combined findings that make an alert (`combined_alert`).

    `still_open`: the open alerts of the event's entities. Each stands in its entity's risk
    until it is closed, whatever this event evaluated: the tests an event runs are the event's
    (a missing-item claim reads an agent's losses, not its QC passes), so without them an agent
    alerted on its QC contradictions read LOW on its next missing-item claim while its alert
    stood open, and the risk API said the opposite of the alert queue."""
    standing: dict[tuple[str, str], list[Finding]] = {}
    for alert in still_open:
        key = (alert.entity_type, alert.entity_id)
        if key in a.evaluated:
            standing.setdefault(key, []).append(a.standing_finding(alert))
    upserts = []
    for (etype, eid), found in a.evaluated.items():
        # Per entity, the strongest finding of each code counts once.
        best: dict[str, Finding] = {}
        for f in found:
            if f.code not in best or f.contribution > best[f.code].contribution:
                best[f.code] = f
        # An alert combines only the findings of this event's tests (`combined_alert` below).
        live = list(best.values())
        for f in standing.get((etype, eid), []):
            if f.code not in best or f.contribution > best[f.code].contribution:
                best[f.code] = f
        score = entity_score(best.values(), a.t, under_alert=(etype, eid) in standing)
        band = band_of(score).value
        reasons = [
            f.reason().model_dump(mode="json")
            for f in sorted(best.values(), key=lambda f: -f.contribution)
        ]
        old = stored.get((etype, eid))
        if old is None and score == 0:
            continue
        upserts.append(
            {
                "entity_type": etype,
                "entity_id": eid,
                "score": score,
                "band": band,
                "reasons": reasons,
                "as_of": a.at,
            }
        )
        together = combined_alert(live, a.t)
        if together is not None:
            top = max(together, key=lambda f: f.contribution)
            a.entity_alerts.append(
                Finding(
                    code=top.code,
                    detail=f"combined risk {score:.2f}: "
                    + "; ".join(f"{f.code} {f.detail}" for f in together)[:800],
                    contribution=score,
                    pattern=top.pattern,
                    entity_type=etype,
                    entity_id=eid,
                    numbers={k: v for k, v in top.numbers.items() if k != "buyer_id"},
                    alert=True,
                    suggested_action=top.suggested_action,
                )
            )
        if old is None or old.band != band or abs(old.score - score) >= 0.05:
            session.add(
                EntityRiskHistory(
                    entity_type=etype,
                    entity_id=eid,
                    score=score,
                    band=band,
                    reasons=reasons,
                    as_of=a.at,
                    subject_event_id=subject_event_id,
                )
            )
    await risk_repo.upsert_risks(session, upserts)


def entity_score(findings: Iterable[Finding], t: Thresholds, *, under_alert: bool = False) -> float:
    """An entity's risk from its strongest finding per code: their noisy-OR, held at MEDIUM
    (`BELOW_HIGH`) unless the alert rules would raise on them: a finding HIGH alone or alerting,
    or one pattern's findings that together meet an alert's false-alarm rate
    (`combined_alert`). An entity under an open alert (`under_alert`) has had the rules raise
    on it, and its noisy-OR stands as it was until the alert is closed.

    The noisy-OR of findings the alert rules will not combine (a test on too few events to
    speak, a sequential test beside its own rate test, findings of different patterns that
    rest on the same claims) passed 0.8 for honest sellers no alert was raised on: a seller
    whose claims all fell on one buyer read MEDIUM on the pair and MEDIUM on its claim rate,
    the same few claims twice, and its risk read HIGH. HIGH is what the risk API and an
    analyst read as probable fraud, so it needs what an alert needs; below that, weak
    findings lift the score within MEDIUM. An event's band is held the same way
    (`corroborated`)."""
    found = list(findings)
    score = combine([f.contribution for f in found])
    if score < BAND_FLOOR[FraudBand.HIGH] or under_alert:
        return score
    if any(f.alert or f.contribution >= BAND_FLOOR[FraudBand.HIGH] for f in found):
        return score
    if combined_alert(found, t) is not None:
        return score
    return min(score, BELOW_HIGH)


def combined_alert(findings: Iterable[Finding], t: Thresholds) -> list[Finding] | None:
    """Several findings of one entity, none HIGH alone, that together are a network-level
    finding: those of one pattern that together make the entity HIGH, when their p-values
    together (Fisher) meet the same false-alarm rate as one finding alone. Fisher's method
    needs independent tests, and findings of different patterns often rest on the same claims
    (a seller's claim rate and its claims on one buyer), so only one pattern's findings are
    combined."""
    # A sequential test alerts on its own, and reads the same counts as its pattern's rate
    # test: it is no independent witness to combine. A test on too few events to speak
    # (detectors.claim_abuse) would make the alert it may not raise alone.
    found = [
        f
        for f in findings
        if f.numbers.get("test") != "sequential" and not f.numbers.get("too_few_events")
    ]
    if any(f.alert for f in found):
        return None
    by_pattern: dict[str, list[Finding]] = {}
    for f in found:
        by_pattern.setdefault(f.pattern, []).append(f)
    for group in sorted(by_pattern.values(), key=lambda g: -max(f.contribution for f in g)):
        high = band_of(combine([f.contribution for f in group])) == FraudBand.HIGH
        if high and combined_p(group) <= t.alpha_high:
            return group
    return None


def combined_p(findings: Iterable[Finding]) -> float:
    """Fisher's combination of the findings' p-values; a finding without one (a rule, not a
    test) makes the combination unknown, and the scores' noisy-OR decides alone (0.0)."""
    ps = [f.numbers.get("p_value") for f in findings]
    if any(not isinstance(p, int | float) for p in ps):
        return 0.0
    return fisher_combined([float(cast(float, p)) for p in ps])


def subject_key(f: Finding) -> str:
    buyer = f.numbers.get("buyer_id")
    base = f"{f.entity_type}:{f.entity_id}"
    return f"{base}|buyer:{buyer}" if buyer else base


async def raise_alerts(
    session: AsyncSession, a: Assessor, subject_event_id: UUID
) -> dict[tuple[str, str], UUID]:
    """Raise an alert for each network-level finding unless one is open for its subject;
    returns the new alerts' ids by (pattern, subject)."""
    raised: dict[tuple[str, str], UUID] = {}
    seen: set[tuple[str, str]] = set()
    for f in [s.finding for s in a.scored] + a.entity_alerts + [f for _, f in a.late_reuses]:
        if not f.alert:
            continue
        key = (f.pattern, subject_key(f))
        if key in seen:
            continue
        seen.add(key)
        raised_at = datetime.now(UTC)
        alert_id = uuid4()
        summary = f"{f.pattern} on {f.entity_type} {f.entity_id}: {f.code} {f.detail}"[:1000]
        evidence = {
            "code": f.code,
            "detail": f.detail,
            "numbers": f.numbers,
            "event_time": a.alert_at.isoformat(),
            "subject_event_id": str(subject_event_id),
        }
        inserted = await alerts_repo.insert_if_none_open(
            session,
            {
                "alert_id": alert_id,
                "pattern": f.pattern,
                "entity_type": f.entity_type,
                "entity_id": f.entity_id,
                "subject_key": key[1],
                "status": "open",
                "severity": FraudBand.HIGH.value,
                "summary": summary,
                "evidence": evidence,
                "suggested_action": f.suggested_action,
                "raised_at": raised_at,
                "event_time": a.alert_at,
                "subject_event_id": subject_event_id,
            },
        )
        if inserted is None:
            continue
        raised[key] = alert_id
        risk_repo.remember_alert(
            session,
            OpenAlert(
                alert_id, f.pattern, f.entity_type, f.entity_id, summary, evidence, a.alert_at
            ),
        )
        reason = f"alert {f.pattern}: {f.code}"
        if (
            await watch_repo.add_once(
                session,
                entity_type=f.entity_type,
                entity_id=f.entity_id,
                source="automatic",
                reason=reason,
                added_by="system",
                added_at=raised_at,
            )
            is not None
        ):
            risk_repo.remember_watch(
                session, Watch(f.entity_type, f.entity_id, "automatic", reason)
            )
        enqueue(
            session,
            Outbox,
            FraudAlertRaised(
                alert_id=alert_id,
                pattern=f.pattern,
                entity_type=f.entity_type,
                entity_id=f.entity_id,
                severity=FraudBand.HIGH,
                summary=summary,
                evidence=evidence,
                suggested_action=f.suggested_action,
                raised_at=raised_at,
            ),
            source=SOURCE,
            subject=f.entity_id,
        )
        metrics.ALERTS.labels(f.pattern).inc()
        # A seller's claim-rate evidence short of its claims' HIGH level lifts them to MEDIUM.
        # A seller's claim-rate evidence lifts its claims filed before the alert to HIGH only
        # at the lift level, and to MEDIUM short of it (`follow_evidence`).
        held, _ = claim_band.held(
            f, f.contribution, a.config.seller_claim_lift_log_bf, await ring_sellers(session, f)
        )
        await revise_for_alert(
            session,
            held,
            alert_id=alert_id,
            at=a.alert_at,
            window=a.config.revision_window(f.pattern),
        )
        if f.pattern == collusion.SELLER_BUYER and f.entity_type == "seller":
            await revisions.lower_outside_ring(
                session,
                seller=f.entity_id,
                ring_buyers=await ring_buyers(session, f),
                alert_id=alert_id,
                at=a.alert_at,
                window=a.config.revision_window(claim_abuse.PATTERN),
            )
    return raised


async def follow_evidence(session: AsyncSession, a: Assessor, alerts: list[OpenAlert]) -> None:
    """What a seller's open claim-abuse alert makes of the seller's claims follows the seller's
    claim-rate evidence as it is read again on this event (its claim, or a delivery of a
    flagged seller) (`claim_band.stage`): below the claims' HIGH level they are MEDIUM; from
    there the claims filed since the alert are HIGH (its floor); from the lift level on, those
    filed before it too (its revisions). When the evidence crosses a level upwards the alert
    takes the reading as its evidence (so that its floor follows, and it acts once per
    crossing) and raises the claims of the range the level governs to HIGH
    (`revise_for_alert`). At the default levels (both the alert's) this is the alert lifting
    its window once its evidence reaches the claims' level.

    With `seller_claim_follow_down` it follows the evidence down too: a crossing downwards
    lowers the claims of the range to MEDIUM (`revisions.lower_to_held`) while the alert stays
    open (until the seller proves ordinary, `clear_alerts`). Why one might: the claims' HIGH
    says the seller's evidence is at a level few honest sellers ever reach, and a run of luck
    reaches a maximum and falls back. Why it is not the default: a moderate abuser's evidence
    hovers about the alert as an honest seller's does, and its claims went down with it (see
    settings). A rate test's finding (p at most 1e-4) is past every level and is left alone,
    as is a seller in a collusion ring (`claim_band.in_ring`)."""
    high, lift = a.config.seller_claim_high_log_bf, a.config.seller_claim_lift_log_bf
    for alert in alerts:
        if alert.pattern != claim_abuse.PATTERN or alert.entity_type != "seller":
            continue
        key = (alert.pattern, alert.entity_type, alert.entity_id)
        was = claim_band.stage((alert.evidence or {}).get("numbers") or {}, high, lift)
        test = a.sequential.get(key)
        sure = [
            f
            for f in a.evaluated.get((alert.entity_type, alert.entity_id), [])
            if f.pattern == alert.pattern and f.alert
        ]
        if was is None or (test is None and not sure):
            continue
        # A live rate-test finding is past every level (stage None: taken as the top one).
        readings = [claim_band.stage(f.numbers, high, lift) for f in sure]
        now = max(2 if r is None else r for r in readings) if readings else None
        if test is not None:
            now = max(now or 0, claim_band.stage(test.numbers(), high, lift) or 0)
        if now is None or now == was or (now < was and not a.config.seller_claim_follow_down):
            continue
        if now > was:
            # Raised on an alert-worthy finding of the pattern at the level reached.
            at_level = [f for f in sure if (claim_band.stage(f.numbers, high, lift) or 2) >= now]
            if not at_level:
                continue
            f = max(at_level, key=lambda f: f.contribution)
        elif key in a.looked_back:
            # A late scan's test ends at its journey's end, days before the seller's latest
            # record: it can lift, not lower (as it can add to an alert, not clear it).
            continue
        elif test is not None:
            f = Finding(
                claim_band.SEQUENTIAL_CODE,
                f"the seller's claim-rate evidence now: {test.detail()}",
                claim_band.BELOW_HIGH,
                *key,
                numbers=test.numbers(),
            )
        else:
            f = max(sure, key=lambda f: f.contribution)
        if await ring_sellers(session, f):
            continue
        strength = max(f.contribution, _HIGH)
        since_alert, _ = claim_band.held(f, strength, high)
        before_alert, _ = claim_band.held(f, strength, lift)
        evidence = alert.evidence | {
            "code": since_alert.code,
            "detail": since_alert.detail,
            "numbers": since_alert.numbers,
        }
        await alerts_repo.update_evidence(session, alert.alert_id, evidence)
        risk_repo.refresh_alert(session, dataclass_replace(alert, evidence=evidence))
        # The claims filed since the alert, then those before it in the detector's window;
        # each range is revised when the evidence crossed its level.
        raised = min(alert.event_time or a.alert_at, a.alert_at)
        window = a.config.revision_window(alert.pattern)
        moved_since, moved_before = claim_band.crossed(was, now)
        ranges = [
            (since_alert, a.alert_at, a.alert_at - raised, moved_since),
            (before_alert, raised - _JUST_BEFORE, window - (a.alert_at - raised), moved_before),
        ]
        for finding, at, span, crossed in ranges:
            if not crossed:
                continue
            if now > was:
                await revise_for_alert(
                    session, finding, alert_id=alert.alert_id, at=at, window=span
                )
            else:
                await revisions.lower_to_held(
                    session, finding, alert_id=alert.alert_id, at=at, window=span
                )


# A seller's claim-rate evidence at an alert speaks at HIGH strength before it is held.
_HIGH = 0.8
# The claims before an alert end just before it: the claim that raised it is the alert's own.
_JUST_BEFORE = timedelta(microseconds=1)


async def ring_sellers(session: AsyncSession, f: Finding) -> set[str]:
    """The finding's seller, when its finding is claim abuse and the seller is in a seller-buyer
    collusion ring (`claim_band.in_ring`)."""
    if f.pattern != claim_abuse.PATTERN or f.entity_type != "seller":
        return set()
    standing = await risk_repo.standing(session, {("seller", f.entity_id)})
    ringed = any(x.pattern == collusion.SELLER_BUYER for x in standing.alerts)
    return {f.entity_id} if ringed else set()


async def ring_buyers(session: AsyncSession, f: Finding) -> set[str]:
    """The buyers of a seller's open seller-buyer collusion alerts, the one `f` raises too."""
    standing = await risk_repo.standing(session, {("seller", f.entity_id)})
    buyers = {
        str(((x.evidence or {}).get("numbers") or {}).get("buyer_id"))
        for x in standing.alerts
        if x.pattern == collusion.SELLER_BUYER
    }
    return buyers | {str(f.numbers.get("buyer_id"))}
