"""Assess one event: update the features, run the detectors that concern it, combine their
findings into a score and band, raise network alerts, record the assessment and publish it.

Per event this is a handful of indexed queries (the return's facts, two counter upserts, one or
two window reads, pair and identity reads, evidence candidates, watchlist and risk rows), so an
escalation's assessment follows it within milliseconds of its arrival.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache, partial
from typing import Any, cast
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud import SOURCE, metrics
from services.fraud.alerts import repository as alerts_repo
from services.fraud.detectors import (
    claim_abuse,
    collusion,
    evidence_reuse,
    pilferage,
    qc_contradiction,
    returns_abuse,
)
from services.fraud.detectors.findings import Finding, band_of, combine
from services.fraud.detectors.sequential import clears, sequential_findings, stronger_of
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    SequentialTest,
    Thresholds,
    contribution_from_p,
    fisher_combined,
    peer_rate,
    sequential_test,
)
from services.fraud.features import repository as features
from services.fraud.features.service import (
    NAMING_CLAIMS,
    NETWORK,
    QC_CONTRADICTING_CLAIMS,
    Increments,
    category_seller,
    hours_after_delivery,
    identity_entities,
    record_claim,
    record_return,
    record_scan,
    weight_drop,
)
from services.fraud.models import EntityRiskHistory, Outbox, ReturnFacts
from services.fraud.risk import repository as risk_repo
from services.fraud.risk.repository import OpenAlert, StoredRisk, Watch
from services.fraud.scoring import repository as assessments
from services.fraud.scoring.baselines import BaselinePolicy, Counts, Rate, peer_baselines
from services.fraud.scoring.revisions import is_about, revise_claim, revise_for_alert
from services.fraud.settings import FraudSettings
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
)
from shared.outbox import enqueue

MODEL_VERSION = "stat-1"
# Sellers whose claims are not evidence against the buyers they name, while alerted.
UNTRUSTED_CLAIMANTS = (claim_abuse.PATTERN, evidence_reuse.PATTERN)
# QC agents whose passes are not evidence that the buyer returned the item sold, while alerted.
UNTRUSTED_QC = (f"{qc_contradiction.PATTERN_PREFIX}AGENT",)
# An open alert's finding carries at least the HIGH floor onto the events it is about.
ALERT_FLOOR = 0.8


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    thresholds: Thresholds
    long_window: timedelta
    short_window: timedelta
    baseline: timedelta
    high_value_paise: int
    claim_window_h: float
    late_margin_h: float
    phash_max_distance: int
    revision_cap: timedelta | None
    baselines: BaselinePolicy
    sequential: Sequential

    @classmethod
    def from_settings(cls, s: FraudSettings) -> ScoringConfig:
        return cls(
            thresholds=Thresholds(
                alpha_high=s.alpha_high,
                alpha_medium=s.alpha_medium,
                tolerance_ratio=s.tolerance_ratio,
                min_excess=s.min_excess,
                prior_strength=s.prior_strength,
                max_concentration=s.seq_max_concentration,
            ),
            long_window=timedelta(days=s.long_window_days),
            short_window=timedelta(days=s.short_window_days),
            baseline=timedelta(days=s.baseline_days),
            high_value_paise=s.high_value_paise,
            claim_window_h=s.claim_window_h,
            late_margin_h=s.late_margin_h,
            phash_max_distance=s.phash_max_distance,
            revision_cap=(
                None if s.revision_window_days is None else timedelta(days=s.revision_window_days)
            ),
            baselines=BaselinePolicy(
                min_peers=s.peer_cache_min_peers,
                max_age=timedelta(seconds=s.peer_cache_max_age_s),
                max_drift=timedelta(hours=s.peer_cache_max_drift_h),
            ),
            sequential=Sequential(
                ratio=s.seq_ratio,
                stronger=s.seq_stronger,
                alpha=s.seq_alpha,
                alpha_medium=s.seq_alpha_medium,
                min_events=s.seq_min_events,
                clear_at=s.seq_clear_at,
                max_concentration=s.seq_max_concentration,
            ),
        )

    def revision_window(self, pattern: str) -> timedelta:
        """How far back an alert of `pattern` re-assesses its entity's events: the window its
        detector counted them over, at most `revision_cap`."""
        counted = (
            self.short_window if pattern.startswith(pilferage.PATTERN_PREFIX) else self.long_window
        )
        return counted if self.revision_cap is None else min(counted, self.revision_cap)


@lru_cache(maxsize=1)
def default_config() -> ScoringConfig:
    return ScoringConfig.from_settings(FraudSettings())


def event_time(payload: EventPayload) -> datetime:
    """The fact's own time: detectors reason in event time, never in arrival time."""
    for attr in ("filed_at", "occurred_at", "added_at", "issued_at", "initiated_at"):
        value = getattr(payload, attr, None)
        if isinstance(value, datetime):
            return value.astimezone(UTC)
    return datetime.now(UTC)


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


def indirect(contribution: float) -> float:
    """An entity's risk carried onto an event that is not itself the suspicious act (a flagged
    hub's ordinary scans): enough for MEDIUM, never HIGH on its own."""
    return min(0.6, 0.6 * contribution)


@dataclass(slots=True)
class Scored:
    finding: Finding
    weight: float  # the contribution this finding makes to this event's score
    # False when the finding is about an entity of the event, not about the event itself.
    direct: bool = True


class Assessor:
    """One event's assessment; holds what the steps share."""

    def __init__(self, session: AsyncSession, payload: EventPayload, config: ScoringConfig):
        self.session = session
        self.payload = payload
        self.config = config
        self.t = config.thresholds
        self.at = event_time(payload)
        self.day = self.at.date()
        self.scored: list[Scored] = []
        self.flags: list[ReasonCode] = []
        # Entities whose detectors ran on fresh counts: their stored risk is refreshed.
        self.evaluated: dict[tuple[str, str], list[Finding]] = {}
        # Alerts from an entity's combined risk (see refresh_risk).
        self.entity_alerts: list[Finding] = []
        # Reuse of this claim's evidence by claims assessed before it: (escalation, finding).
        self.late_reuses: list[tuple[str, Finding]] = []
        # The sequential tests run for this event, by (pattern, entity type, entity id): what
        # decides whether an open alert of the pattern is cleared.
        self.sequential: dict[tuple[str, str, str], SequentialTest] = {}

    def add(self, findings: list[Finding], *, direct: bool) -> None:
        for f in findings:
            self.scored.append(
                Scored(f, f.contribution if direct else indirect(f.contribution), direct)
            )

    def evaluated_entity(self, entity_type: str, entity_id: str | None) -> None:
        if entity_id:
            self.evaluated.setdefault((entity_type, entity_id), [])

    def window(self, length: timedelta) -> tuple[date, date]:
        return (self.at - length).date(), self.day

    async def peers(
        self,
        population: tuple[str, ...],
        rates: list[Rate],
        *,
        own_id: str,
        own: Counts,
        load: Callable[[], Awaitable[Mapping[str, Counts]]],
        spreads: dict[str, PeerSpread] | None = None,
    ) -> dict[str, tuple[int, int]]:
        """The robust baseline of each rate among the population's other members (and, into
        `spreads`, how much those peers differ)."""
        return await peer_baselines(
            self.session,
            population=population,
            rates=rates,
            own_id=own_id,
            own=own,
            at=self.at,
            t=self.t,
            policy=self.config.baselines,
            load=load,
            spreads=spreads,
        )

    def telling(
        self,
        k: int,
        n: int,
        peers: tuple[int, int],
        spread: PeerSpread | None,
        *,
        prior_rate: float,
    ) -> bool:
        """Whether k of n is MEDIUM sequential evidence against peers (without recording it):
        enough to say a part explains its place's excess."""
        s = self.config.sequential
        rate = (
            spread.rate
            if spread is not None
            else peer_rate(*peers, prior_rate, self.t.prior_strength)
        )
        concentration = spread.concentration if spread is not None else s.max_concentration
        test = sequential_test(k, n, PeerSpread(rate, concentration), s)
        return test.log_bf >= math.log(1 / s.alpha_medium)

    def sequential_test(
        self,
        *,
        code: str,
        what: str,
        pattern: str,
        entity: tuple[str, str],
        k: int,
        n: int,
        peers: tuple[int, int],
        spread: PeerSpread | None,
        prior_rate: float,
        action: str,
        floor_rate: float = 0.0,
    ) -> list[Finding]:
        """Run one entity's sequential test against its peers' robust rate (at least
        `floor_rate`) and their honest spread; keep the test for the clearing rule."""
        s = self.config.sequential
        # The peers' sequential baseline (moderate fraudsters left out) where it was read.
        rate = (
            spread.rate
            if spread is not None
            else peer_rate(*peers, prior_rate, self.t.prior_strength)
        )
        rate = max(rate, floor_rate)
        concentration = spread.concentration if spread is not None else s.max_concentration
        test, found = sequential_findings(
            code=code,
            what=what,
            pattern=pattern,
            entity_type=entity[0],
            entity_id=entity[1],
            k=k,
            n=n,
            spread=PeerSpread(rate, concentration),
            s=s,
            action=action,
        )
        self.sequential[(pattern, *entity)] = test
        return found

    # --- detectors -------------------------------------------------------------------------

    async def pilferage(self, facts: ReturnFacts) -> None:
        # The agent first: its peers' baseline also tells which agents explain a hub.
        entities = [("agent", facts.pickup_agent_id)] if facts.pickup_agent_id else []
        entities += [("hub", h) for h in (facts.hubs or [])]
        if not entities:
            return
        since, until = self.window(self.config.short_window)
        base_since = (self.at - self.config.short_window - self.config.baseline).date()
        days = await features.window_days(
            self.session, entities, ["handled", "incidents"], base_since, until
        )
        # Each hub of this return with its agents' counts in the window.
        at_hub: dict[str, dict[str, pilferage.DayCount]] = {}
        for hub in facts.hubs or []:
            rows = await features.entity_totals(
                self.session,
                "hub_agent",
                ["handled", "incidents"],
                since,
                until,
                id_prefix=f"{hub}|",
            )
            at_hub[hub] = {
                key.split("|", 1)[1]: pilferage.DayCount(v.get("handled", 0), v.get("incidents", 0))
                for key, v in rows.items()
            }

        # At each hub, the agents whose incidents stand out against the hub's ordinary agents.
        standing_out = {
            hub: pilferage.agents_standing_out(agents, self.t) for hub, agents in at_hub.items()
        }

        def total(counts: list[pilferage.DayCount]) -> pilferage.DayCount:
            return pilferage.DayCount(
                sum(c.handled for c in counts), sum(c.incidents for c in counts)
            )

        agent_peers: tuple[tuple[int, int], PeerSpread | None] | None = None
        for etype, eid in entities:
            mates = excluded = None
            if etype == "agent":
                # The hub's ordinary agents: another agent standing out at the same hub is no
                # yardstick for this one.
                mates = total(
                    [
                        c
                        for h, agents in at_hub.items()
                        for a, c in agents.items()
                        if a != eid and a not in standing_out[h]
                    ]
                )
            else:
                # Agents whose own evidence against all agents is telling (MEDIUM) explain
                # their share of the hub too: several moderately bad agents at one hub do not
                # stand out against each other, and must not brand their hub.
                if agent_peers is not None:
                    standing_out[eid] = standing_out.get(eid, set()) | {
                        a
                        for a, c in at_hub.get(eid, {}).items()
                        if self.telling(
                            c.incidents, c.handled, *agent_peers, prior_rate=pilferage.PRIOR_RATE
                        )
                    }
                excluded = total(
                    [c for a, c in at_hub.get(eid, {}).items() if a in standing_out.get(eid, set())]
                )
            own_days = days.get((etype, eid), {})
            recent = {
                d: pilferage.DayCount(v.get("handled", 0), v.get("incidents", 0))
                for d, v in own_days.items()
                if d >= since
            }
            base = [v for d, v in own_days.items() if d < since]
            baseline = pilferage.DayCount(
                sum(v.get("handled", 0) for v in base), sum(v.get("incidents", 0) for v in base)
            )
            # Peers are every other hub (agent) in the window, outliers left out.
            spreads: dict[str, PeerSpread] = {}
            k, n = (
                await self.peers(
                    (etype, "", "short"),
                    [("incidents", "handled", pilferage.PRIOR_RATE)],
                    own_id=eid,
                    own={
                        "incidents": sum(c.incidents for c in recent.values()),
                        "handled": sum(c.handled for c in recent.values()),
                    },
                    load=partial(
                        features.entity_totals,
                        self.session,
                        etype,
                        ["handled", "incidents"],
                        since,
                        until,
                    ),
                    spreads=spreads,
                )
            )["incidents"]
            peers = pilferage.DayCount(handled=n, incidents=k)
            if etype == "agent":
                agent_peers = ((k, n), spreads.get("incidents"))
            found = pilferage.pilferage_findings(
                etype, eid, recent, peers, baseline, self.t, mates=mates, excluded=excluded
            )
            own_k, own_n = pilferage.counted(recent, excluded, self.t)
            found += self.sequential_test(
                code=f"{etype.upper()}_PILFERAGE_SEQUENTIAL",
                what="incident rate",
                pattern=f"{pilferage.PATTERN_PREFIX}{etype.upper()}",
                entity=(etype, eid),
                k=own_k,
                n=own_n,
                peers=(k, n),
                spread=spreads.get("incidents"),
                prior_rate=pilferage.PRIOR_RATE,
                action=pilferage.ACTION[etype],
                floor_rate=pilferage.mates_rate(mates, self.t),
            )
            found = stronger_of(
                found,
                f"{etype.upper()}_PILFERAGE_RATE_HIGH",
                f"{etype.upper()}_PILFERAGE_SEQUENTIAL",
            )
            self.evaluated_entity(etype, eid)
            self.evaluated[(etype, eid)].extend(found)
            self.add(found, direct=facts.incident)

    async def claim_context(
        self,
        facts: ReturnFacts,
        claim_type: str,
        new_evidence: list[EvidenceItem],
        escalation_id: str | None,
    ) -> None:
        """Everything that bears on a claim: the seller, the buyer, their pair, the agent's QC,
        shared identities, the claim's own red flags and its evidence."""
        cfg, t = self.config, self.t
        seller, buyer, agent = facts.seller_id, facts.buyer_id, facts.pickup_agent_id
        naming = claim_type in NAMING_CLAIMS
        since, until = self.window(cfg.long_window)
        idents = identity_entities(facts)
        long_keys: list[tuple[str, str]] = [(NETWORK, "buyer"), (NETWORK, "agent_buyer")]
        if seller:
            long_keys.append(("seller", seller))
        own_key = category_seller(facts.category, seller)
        if facts.category:
            long_keys.append(("category", facts.category))
        if own_key:
            long_keys.append(("category_seller", own_key))
        if buyer:
            long_keys.append(("buyer", buyer))
        for kind, value in idents:
            long_keys += [(kind, value), (NETWORK, kind)]
        totals = await features.window_totals(
            self.session,
            long_keys,
            [
                "delivered",
                "delivered_high_value",
                "claims",
                "claims_high_value",
                "claims_missing_intact",
                "claims_late",
                "named_claims",
                "handled",
                "disputed",
            ],
            since,
            until,
        )
        category = totals.get(("category", facts.category or ""), {})
        peers: dict[str, tuple[int, int]] | None = None
        spreads: dict[str, PeerSpread] = {}
        if seller:
            if facts.category and own_key:
                # The category's other sellers one by one, outliers left out: a claim abuser in
                # the category does not raise the bar for the next one.
                peers = await self.peers(
                    ("category_seller", f"{facts.category}|", "long"),
                    [(num, den, prior) for _, _, num, den, prior in claim_abuse.RATES],
                    own_id=own_key,
                    own=totals.get(("category_seller", own_key), {}),
                    load=partial(
                        features.entity_totals,
                        self.session,
                        "category_seller",
                        sorted({m for _, _, num, den, _ in claim_abuse.RATES for m in (num, den)}),
                        since,
                        until,
                        id_prefix=f"{facts.category}|",
                    ),
                    spreads=spreads,
                )
            found = claim_abuse.seller_findings(
                seller, totals.get(("seller", seller), {}), category, t, peers=peers
            )
            if peers is not None and own_key:
                mine = totals.get(("category_seller", own_key), {})
                found += self.sequential_test(
                    code="SELLER_CLAIM_RATE_SEQUENTIAL",
                    what="claim rate in the category",
                    pattern=claim_abuse.PATTERN,
                    entity=("seller", seller),
                    k=mine.get("claims", 0),
                    n=mine.get("delivered", 0),
                    peers=peers["claims"],
                    spread=spreads.get("claims"),
                    prior_rate=claim_abuse.RATES[0][4],
                    action=claim_abuse.ACTION,
                )
                found = stronger_of(found, "SELLER_CLAIM_RATE_HIGH", "SELLER_CLAIM_RATE_SEQUENTIAL")
            self.evaluated_entity("seller", seller)
            self.evaluated[("seller", seller)].extend(found)
            # A claim on a parcel the partner lost, damaged or delivered light has its own
            # explanation: the seller's record colours it, as any entity's risk does, but does
            # not make it HIGH.
            self.add(found, direct=not facts.incident)
        # The claim's own red flags.
        drop = weight_drop(facts.pickup_weight_g, facts.delivered_weight_g)
        claim = claim_abuse.ClaimFacts(
            claim_type=claim_type,
            item_value=facts.item_value,
            weight_intact=None if drop is None else not drop,
            hours_after_delivery=(
                hours_after_delivery(facts, facts.claimed_at) if facts.claimed_at else None
            ),
            high_value=(facts.item_value or 0) >= cfg.high_value_paise,
        )
        for code, detail, c, numbers in claim_abuse.claim_flags(
            claim, window_h=cfg.claim_window_h, late_margin_h=cfg.late_margin_h
        ):
            self.scored.append(
                Scored(
                    Finding(code, detail, c, claim_abuse.PATTERN, "seller", seller or "", numbers),
                    c,
                )
            )
        pair_keys = []
        if seller and buyer:
            pair_keys.append(("seller_buyer", seller, buyer))
        if agent and buyer:
            pair_keys += [("agent_buyer", agent, buyer), ("qc_agent_buyer", agent, buyer)]
        pairs = await features.pair_counts(self.session, pair_keys)
        if buyer:
            abusers, explained = await self.explained_naming()
            distinct = await features.distinct_lefts(
                self.session,
                kind="seller_buyer",
                right_id=buyer,
                metric="named",
                except_lefts=abusers,
            )

            def unexplained(buyer_id: str, counts: Counts) -> dict[str, int]:
                less = explained.get(buyer_id, {})
                return {
                    "named_claims": max(0, counts.get("named_claims", 0) - less.get("named", 0)),
                    "delivered": max(0, counts.get("delivered", 0) - less.get("delivered", 0)),
                }

            async def every_buyer() -> Mapping[str, Counts]:
                rows = await features.entity_totals(
                    self.session, "buyer", ["named_claims", "delivered"], since, until
                )
                return {other: unexplained(other, v) for other, v in rows.items()}

            own = unexplained(buyer, totals.get(("buyer", buyer), {}))
            k, n = (
                await self.peers(
                    ("buyer", "", "long", "unexplained"),
                    [("named_claims", "delivered", returns_abuse.PRIOR_RATE)],
                    own_id=buyer,
                    own=own,
                    load=every_buyer,
                )
            )["named_claims"]
            found = returns_abuse.buyer_findings(
                buyer,
                own,
                {"named_claims": k, "delivered": n},
                distinct,
                t,
            )
            self.evaluated_entity("buyer", buyer)
            self.evaluated[("buyer", buyer)].extend(found)
            # A naming claim on a parcel that lost weight in transit names the partner's
            # handling: the buyer's record colours it but does not make it HIGH.
            self.add(found, direct=naming and not facts.incident)
        if seller and buyer:
            pc = pairs.get(("seller_buyer", seller, buyer), {})
            # The yardstick is the category's ordinary sellers (robust baseline), not the pooled
            # category that the abusers and rings in it drag up.
            peer_claims, peer_delivered = (peers or {}).get("claims") or (
                category.get("claims", 0) - pc.get("claims", 0),
                category.get("delivered", 0) - pc.get("delivered", 0),
            )
            network = totals.get((NETWORK, "buyer"), {}).get("delivered", 0)
            seller_delivered = totals.get(("seller", seller), {}).get("delivered", 0)

            def pair_findings(elsewhere: tuple[int, int] | None) -> list[Finding]:
                return collusion.seller_buyer_findings(
                    seller,
                    buyer,
                    pc.get("claims", 0),
                    max(pc.get("delivered", 0), pc.get("claims", 0)),
                    peer_claims,
                    peer_delivered,
                    t,
                    loyalty=collusion.Loyalty(
                        pair_delivered=pc.get("delivered", 0),
                        buyer_delivered=totals.get(("buyer", buyer), {}).get("delivered", 0),
                        seller_share=seller_delivered / network,
                    )
                    if network
                    else None,
                    buyer_elsewhere=elsewhere,
                )

            found = pair_findings(None)
            if found:
                # The buyer's claims and deliveries with every seller (lifetime pair counts, as
                # the pair's own), less this pair's: the buyer's record elsewhere. Read only
                # when the pair stands out, so an ordinary claim costs no query.
                everywhere = await features.right_totals(
                    self.session,
                    kind="seller_buyer",
                    right_id=buyer,
                    metrics=["claims", "delivered"],
                )
                found = pair_findings(
                    (
                        max(0, everywhere.get("claims", 0) - pc.get("claims", 0)),
                        max(0, everywhere.get("delivered", 0) - pc.get("delivered", 0)),
                    )
                )
            self.evaluated[("seller", seller)].extend(found)
            self.add(found, direct=True)
        if agent and buyer and naming:
            pc = pairs.get(("agent_buyer", agent, buyer), {})
            net = totals.get((NETWORK, "agent_buyer"), {})
            own = totals.get(("buyer", buyer), {})
            found = collusion.agent_buyer_findings(
                agent,
                buyer,
                pc.get("disputed", 0),
                max(pc.get("handled", 0), pc.get("disputed", 0)),
                net.get("disputed", 0) - pc.get("disputed", 0),
                net.get("handled", 0) - pc.get("handled", 0),
                t,
                buyer_elsewhere=(
                    max(0, own.get("named_claims", 0) - pc.get("disputed", 0)),
                    max(0, own.get("delivered", 0) - pc.get("handled", 0)),
                ),
                vouched=pairs.get(("qc_agent_buyer", agent, buyer), {}).get("named", 0),
            )
            self.evaluated_entity("agent", agent)
            self.evaluated[("agent", agent)].extend(found)
            self.add(found, direct=True)
        if idents and buyer:
            sharing = await features.buyers_sharing(self.session, idents)
            for kind, value in idents:
                if sharing.get((kind, value), 1) < 2:
                    continue
                own = totals.get((kind, value), {})
                # Every other contact (address) one by one, outliers left out: other rings do
                # not raise the bar for this one.
                peer_k, peer_n = (
                    await self.peers(
                        (kind, "", "long"),
                        [("claims", "delivered", collusion.PRIOR_RATE)],
                        own_id=value,
                        own=own,
                        load=partial(
                            features.entity_totals,
                            self.session,
                            kind,
                            ["claims", "delivered"],
                            since,
                            until,
                        ),
                    )
                )["claims"]
                found = collusion.shared_identity_findings(
                    kind,
                    value,
                    buyer,
                    sharing.get((kind, value), 1),
                    own.get("claims", 0),
                    max(own.get("delivered", 0), own.get("claims", 0)),
                    peer_k,
                    peer_n,
                    t,
                )
                self.evaluated_entity("buyer", buyer)
                self.evaluated[("buyer", buyer)].extend(found)
                self.add(found, direct=True)
        if claim_type in QC_CONTRADICTING_CLAIMS and facts.qc_result == "PASSED":
            await self.qc(facts)
        await self.evidence(facts, new_evidence, escalation_id)

    def open_alerts(
        self, facts: ReturnFacts, alerts: list[OpenAlert], *, terminal_scan: bool
    ) -> None:
        """An open alert's finding stands for the events of its pattern that follow it, as it
        does for those just before it (revisions), until an analyst closes it: the live test
        may weaken meanwhile (a hub's excess re-attributed to one of its agents, a window
        moving on), the finding does not. Where it is stronger, it replaces the live finding
        of the same code."""
        for alert in alerts:
            numbers = dict((alert.evidence or {}).get("numbers") or {})
            buyer = numbers.get("buyer_id")
            if not is_about(
                alert.pattern,
                alert.entity_type,
                alert.entity_id,
                str(buyer) if buyer else None,
                facts,
                self.payload.ce_type,
                terminal_scan=terminal_scan,
            ):
                continue
            p = numbers.get("p_value")
            strength = max(
                ALERT_FLOOR,
                contribution_from_p(float(p), self.t) if isinstance(p, int | float) else 0.0,
            )
            code = str(alert.evidence.get("code") or alert.pattern)
            since = alert.event_time.isoformat() if alert.event_time else "earlier"
            finding = Finding(
                code=code,
                detail=f"open alert since {since}: {alert.summary}"[:500],
                contribution=strength,
                pattern=alert.pattern,
                entity_type=alert.entity_type,
                entity_id=alert.entity_id,
                numbers=numbers | {"alert_id": str(alert.alert_id)},
            )
            self.scored = [
                s
                for s in self.scored
                if not (
                    s.finding.code == code
                    and s.finding.entity_type == alert.entity_type
                    and s.finding.entity_id == alert.entity_id
                    and s.weight <= strength
                )
            ]
            self.scored.append(Scored(finding, strength))

    async def explained_naming(self) -> tuple[list[str], dict[str, dict[str, int]]]:
        """The claims that say nothing of the buyers they name: those of sellers under a claim
        abuse or evidence reuse alert, and those on parcels passed by a QC agent under a QC
        contradiction alert. They leave each buyer's counts, and the baseline they would lift.
        Returns the alerted sellers and, per buyer, the named claims and deliveries to leave
        out (pair counts are lifetime, so they may exceed a window's: callers clamp at 0)."""
        abusers = await alerts_repo.alerted(self.session, "seller", UNTRUSTED_CLAIMANTS)
        passers = await alerts_repo.alerted(self.session, "agent", UNTRUSTED_QC)
        explained: dict[str, dict[str, int]] = {}
        for kind, lefts in (("seller_buyer", abusers), ("qc_agent_buyer", passers)):
            by_buyer = await features.pair_totals_by_right(
                self.session, kind=kind, lefts=lefts, metrics=["named", "delivered"]
            )
            for buyer, counts in by_buyer.items():
                mine = explained.setdefault(buyer, {})
                for metric, n in counts.items():
                    mine[metric] = mine.get(metric, 0) + n
        return abusers, explained

    async def qc(self, facts: ReturnFacts) -> None:
        entities = [
            (e, i) for e, i in (("agent", facts.qc_agent_id), ("hub", facts.qc_hub_id)) if i
        ]
        # QC contradictions are rare events: they need the long window to gather evidence.
        since, until = self.window(self.config.long_window)
        totals = await features.window_totals(
            self.session,
            entities,
            ["qc_passed", "qc_contradictions"],
            since,
            until,
        )
        metrics = ["qc_passed", "qc_contradictions"]
        rates: list[Rate] = [("qc_contradictions", "qc_passed", qc_contradiction.PRIOR_RATE)]

        spreads: dict[str, PeerSpread] = {}

        async def baseline(etype: str, eid: str) -> tuple[int, int]:
            return (
                await self.peers(
                    (etype, "", "long"),
                    rates,
                    own_id=eid,
                    own=totals.get((etype, eid), {}),
                    load=partial(
                        features.entity_totals, self.session, etype, metrics, since, until
                    ),
                    spreads=spreads,
                )
            )["qc_contradictions"]

        # Contradictions beyond each buyer's first, per QC entity (lifetime pair counts: in a
        # window shorter than the record they may exceed it, and the counts are clamped).
        repeats = await features.repeats_by_left(
            self.session,
            lefts=[(f"qc_{etype}_buyer", eid) for etype, eid in entities],
            metric="contradicted",
        )
        for etype, eid in entities:
            own = dict(totals.get((etype, eid), {}))
            if etype == "hub":
                # The agents that explain the hub's excess: their passes leave its counts.
                at_hub = await features.entity_totals(
                    self.session, "hub_agent", metrics, since, until, id_prefix=f"{eid}|"
                )
                agents_baseline = await baseline("agent", "")
                agents_spread = spreads.get("qc_contradictions")
                explaining = qc_contradiction.agents_explaining_hub(
                    {
                        a: (v.get("qc_contradictions", 0), v.get("qc_passed", 0))
                        for a, v in at_hub.items()
                    },
                    agents_baseline,
                    self.t,
                )
                # And those whose own sequential evidence against all agents is telling.
                explaining |= {
                    a
                    for a, v in at_hub.items()
                    if self.telling(
                        v.get("qc_contradictions", 0),
                        v.get("qc_passed", 0),
                        agents_baseline,
                        agents_spread,
                        prior_rate=qc_contradiction.PRIOR_RATE,
                    )
                }
                for a in explaining:
                    k_a, n_a = at_hub[a].get("qc_contradictions", 0), at_hub[a].get("qc_passed", 0)
                    own["qc_contradictions"] = max(0, own.get("qc_contradictions", 0) - k_a)
                    own["qc_passed"] = max(0, own.get("qc_passed", 0) - n_a)
            own = qc_contradiction.one_per_buyer(own, repeats.get((f"qc_{etype}_buyer", eid), 0))
            k, n = await baseline(etype, eid)
            found = qc_contradiction.qc_findings(
                etype, eid, own, {"qc_contradictions": k, "qc_passed": n}, self.t
            )
            found += self.sequential_test(
                code=f"{etype.upper()}_QC_CONTRADICTION_SEQUENTIAL",
                what="QC passes later contradicted by claims",
                pattern=f"{qc_contradiction.PATTERN_PREFIX}{etype.upper()}",
                entity=(etype, eid),
                k=own.get("qc_contradictions", 0),
                n=own.get("qc_passed", 0),
                peers=(k, n),
                spread=spreads.get("qc_contradictions"),
                prior_rate=qc_contradiction.PRIOR_RATE,
                action=qc_contradiction.ACTION[etype],
            )
            found = stronger_of(
                found,
                f"{etype.upper()}_QC_CONTRADICTION_RATE_HIGH",
                f"{etype.upper()}_QC_CONTRADICTION_SEQUENTIAL",
            )
            self.evaluated_entity(etype, eid)
            self.evaluated[(etype, eid)].extend(found)
            self.add(found, direct=True)

    async def evidence(
        self, facts: ReturnFacts, items: list[EvidenceItem], escalation_id: str | None
    ) -> None:
        if not items or not facts.seller_id:
            return
        prints = [
            evidence_reuse.EvidenceFingerprint(
                sha256=i.sha256,
                phash=int(i.perceptual_hash, 16) if i.perceptual_hash else None,
                return_id=facts.return_id,
                seller_id=facts.seller_id,
                order_id=facts.order_id,
            )
            for i in items
        ]
        rows = await features.evidence_candidates(
            self.session,
            shas=[p.sha256 for p in prints],
            phashes=[p.phash for p in prints if p.phash is not None],
        )

        def fingerprint(r: Any) -> evidence_reuse.EvidenceFingerprint:
            return evidence_reuse.EvidenceFingerprint(
                sha256=r.sha256,
                phash=features.from_signed64(r.phash) if r.phash is not None else None,
                return_id=r.return_id,
                seller_id=r.seller_id,
                order_id=r.order_id,
            )

        found = evidence_reuse.reuse_findings(
            seller_id=facts.seller_id,
            return_id=facts.return_id,
            items=prints,
            earlier=[fingerprint(r) for r in rows if r.filed_at <= self.at],
            max_distance=self.config.phash_max_distance,
        )
        # Evidence filed after this claim in event time, but assessed first (claims travel on
        # different partitions): that claim reused this one's evidence, not the reverse.
        for r in rows:
            if r.filed_at > self.at and r.escalation_id and r.return_id != facts.return_id:
                theirs = evidence_reuse.reuse_findings(
                    seller_id=r.seller_id,
                    return_id=r.return_id,
                    items=[fingerprint(r)],
                    earlier=prints,
                    max_distance=self.config.phash_max_distance,
                )
                self.late_reuses += [(r.escalation_id, f) for f in theirs]
        self.evaluated_entity("seller", facts.seller_id)
        self.evaluated[("seller", facts.seller_id)].extend(found)
        self.add(found, direct=True)
        await features.add_evidence(
            self.session,
            [
                {
                    "sha256": i.sha256,
                    "phash": features.to_signed64(p.phash) if p.phash else None,
                    **{
                        f"b{k}": ((p.phash >> (8 * k)) & 0xFF) if p.phash is not None else None
                        for k in range(8)
                    },
                    "kind": i.kind.value,
                    "seller_id": facts.seller_id,
                    "return_id": facts.return_id,
                    "order_id": facts.order_id,
                    "escalation_id": escalation_id or "",
                    "filed_at": self.at,
                }
                for i, p in zip(items, prints, strict=True)
            ],
        )


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
_NAMED_BY_PAYLOAD = (
    ("seller", "seller_id"),
    ("buyer", "buyer_id"),
    ("partner", "partner_id"),
    ("hub", "hub_id"),
    ("agent", "agent_id"),
)


async def prepare_batch(session: AsyncSession, payloads: Sequence[EventPayload]) -> None:
    """Read up front what a consumer batch's events will need, in two statements: their
    returns' facts, and the standing of the entities those facts and the events name. Each
    event then finds them in the session (`features.get_facts`, `risk_repo.standing`) instead
    of reading its own; what an event adds or changes reaches the next through the session."""
    return_ids = [str(rid) for p in payloads if (rid := getattr(p, "return_id", None))]
    known = await features.prefetch_facts(session, return_ids)
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
    a = Assessor(session, payload, cfg)
    return_id = str(cast(Any, payload).return_id)  # every scored event is about a return
    facts = await features.get_facts(session, return_id)
    if facts is None:
        facts = ReturnFacts(return_id=return_id, hubs=[], incident=False, pair_counted=False)
        features.add_facts(session, facts)
    inc = Increments()
    escalation_id: str | None = getattr(payload, "escalation_id", None)
    claim_event = terminal_scan = False
    evidence: list[EvidenceItem] = []

    if isinstance(payload, ReturnInitiated):
        record_return(facts, payload, inc)
    elif isinstance(payload, ReturnShipmentEvent):
        terminal = record_scan(facts, payload, inc, high_value=cfg.high_value_paise)
        terminal_scan = terminal
        await flush(session, inc)
        if terminal:
            await a.pilferage(facts)
    elif isinstance(payload, SellerEscalationFiled):
        record_claim(
            facts,
            payload,
            inc,
            high_value=cfg.high_value_paise,
            window_h=cfg.claim_window_h,
            late_margin_h=cfg.late_margin_h,
        )
        claim_event = True
        evidence = list(payload.evidence)
    elif isinstance(payload, EvidenceAdded | AppealFiled):
        claim_event = facts.claim_type is not None
        if isinstance(payload, EvidenceAdded):
            evidence = list(payload.evidence)
    elif isinstance(payload, CaseEventBase):
        escalation_id = escalation_id or facts.escalation_id
        claim_event = facts.claim_type is not None
    elif isinstance(payload, RefundIssued):
        pass
    await flush(session, inc)
    if claim_event and facts.claim_type:
        await a.claim_context(facts, facts.claim_type, evidence, escalation_id)

    entities = involved(payload, facts)
    keys = entity_keys(entities)
    known = await risk_repo.standing(
        session, set(keys) | set(a.evaluated) | concerned_entities(facts, keys)
    )
    stored, watched = known.risks, known.watches
    cleared = await clear_alerts(session, a, known.alerts)
    watched = [w for w in watched if (w.entity_type, w.entity_id) not in cleared.unwatched]
    a.open_alerts(
        facts,
        [x for x in known.alerts if x.alert_id not in cleared.alert_ids],
        terminal_scan=terminal_scan,
    )
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

    await refresh_risk(session, a, stored, subject_event_id)
    alert_ids = await raise_alerts(session, a, subject_event_id)
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
    return assessment


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
    alert."""
    ids: set[UUID] = set()
    unwatched: set[tuple[str, str]] = set()
    for alert in alerts:
        key = (alert.pattern, alert.entity_type, alert.entity_id)
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
        entity = (alert.entity_type, alert.entity_id)
        risk_repo.forget_alert(session, alert.alert_id, entity)
        if not (await risk_repo.standing(session, [entity])).alerts:
            await watch_repo.remove_automatic(
                session, entity_type=entity[0], entity_id=entity[1], at=datetime.now(UTC)
            )
            risk_repo.forget_automatic_watch(session, entity)
            unwatched.add(entity)
    return Cleared(ids, unwatched)


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
) -> None:
    upserts = []
    for (etype, eid), found in a.evaluated.items():
        # Per entity, the strongest finding of each code counts once.
        best: dict[str, Finding] = {}
        for f in found:
            if f.code not in best or f.contribution > best[f.code].contribution:
                best[f.code] = f
        score = combine([f.contribution for f in best.values()])
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
        together = combined_alert(best.values(), a.t)
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


def combined_alert(findings: Iterable[Finding], t: Thresholds) -> list[Finding] | None:
    """Several findings of one entity, none HIGH alone, that together are a network-level
    finding: those of one pattern that together make the entity HIGH, when their p-values
    together (Fisher) meet the same false-alarm rate as one finding alone. Fisher's method
    needs independent tests, and findings of different patterns often rest on the same claims
    (a seller's claim rate and its claims on one buyer), so only one pattern's findings are
    combined."""
    # A sequential test alerts on its own, and reads the same counts as its pattern's rate
    # test: it is no independent witness to combine.
    found = [f for f in findings if f.numbers.get("test") != "sequential"]
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
            "event_time": a.at.isoformat(),
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
                "event_time": a.at,
                "subject_event_id": subject_event_id,
            },
        )
        if inserted is None:
            continue
        raised[key] = alert_id
        risk_repo.remember_alert(
            session,
            OpenAlert(alert_id, f.pattern, f.entity_type, f.entity_id, summary, evidence, a.at),
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
        await revise_for_alert(
            session, f, alert_id=alert_id, at=a.at, window=a.config.revision_window(f.pattern)
        )
    return raised
