"""What the assessment of one event and each detector's inputs share: the scoring
configuration, the scored findings, and the assessor's state and common reads (peer
baselines, sequential tests). The detectors' I/O halves build on `AssessorBase`, each in its
own module beside the name of its detector; `service` assembles them into `Assessor`."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.detectors import pilferage
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import sequential_findings
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    SequentialTest,
    Thresholds,
    onset_sequential_test,
    peer_rate,
    sequential_test,
)
from services.fraud.scoring.baselines import BaselinePolicy, Counts, Rate, peer_baselines
from services.fraud.settings import FraudSettings
from shared.events import (
    AppealFiled,
    EventPayload,
    EvidenceAdded,
    ReasonCode,
    SellerEscalationFiled,
)


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    thresholds: Thresholds
    long_window: timedelta
    short_window: timedelta
    baseline: timedelta
    claim_window_h: float
    late_margin_h: float
    phash_max_distance: int
    revision_cap: timedelta | None
    baselines: BaselinePolicy
    sequential: Sequential
    # A seller's record speaks (alerts, HIGH) only after the deliveries in which an ordinary
    # seller of its category expects this many claims (`claim_abuse.min_deliveries`).
    seller_min_expected_claims: float = 1.0
    # The least share of peers' claims taken to carry a sign (see settings).
    seller_sign_floor: float = 0.05
    # The recent weeks a seller's claim-rate flag is read against (see settings).
    seller_recent_days: int = 14
    # Whether a seller's open claim windows are read as part-trials (see settings).
    seller_open_windows: bool = False
    # Whether a seller's returns of one order count as one trial (see settings).
    seller_order_trials: bool = False
    # Whether a leaning seller's returns delivered light leave its claim-rate test (see settings).
    seller_light_parcels: bool = True
    # The Bayes factor a seller's claim-rate sequential test alerts at is 1/this (see settings).
    seller_seq_alpha: float = 1e-2
    # The Bayes factor at which a seller's claim-rate evidence makes its claims HIGH is
    # 1/this (see settings, `scoring.claim_band`).
    seller_claim_high_alpha: float = 1e-2
    # The Bayes factor at which it makes its claims filed before its alert HIGH is 1/this, at
    # least 1/seller_claim_high_alpha; whether those levels are followed down (see settings).
    seller_claim_lift_alpha: float = 1e-2
    seller_claim_follow_down: bool = False
    # The Bayes factor a QC hub without named agents alerts at is 1/this (see settings).
    qc_unnamed_hub_seq_alpha: float = 1e-3
    # Whether a QC carrier reaches its hub's passes naming no agent (see settings).
    qc_unnamed_carrier_reach: bool = True
    # The Bayes factor a buyer's wrong/used sequential test alerts at is 1/this (see settings).
    buyer_seq_alpha: float = 1e-3
    # Days between a hub's or agent's candidate pilferage onsets (see settings).
    pilferage_onset_step_days: int = 7
    # Days of an entity's own record before each onset its record is weighed given (settings).
    pilferage_history_days: int = 28
    # Which deliveries are dear for their category (see settings and features.dear).
    dear_share: float = 0.1
    dear_window: timedelta = timedelta(days=28)
    dear_min_deliveries: int = 50

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
            claim_window_h=s.claim_window_h,
            late_margin_h=s.late_margin_h,
            phash_max_distance=s.phash_max_distance,
            revision_cap=(
                None if s.revision_window_days is None else timedelta(days=s.revision_window_days)
            ),
            baselines=BaselinePolicy(
                min_peers=s.peer_cache_min_peers,
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
            seller_min_expected_claims=s.seller_min_expected_claims,
            seller_sign_floor=s.seller_sign_floor,
            seller_recent_days=s.seller_recent_days,
            seller_open_windows=s.seller_open_windows,
            seller_order_trials=s.seller_order_trials,
            seller_light_parcels=s.seller_light_parcels,
            seller_seq_alpha=s.seller_seq_alpha,
            seller_claim_high_alpha=s.seller_claim_high_alpha,
            seller_claim_lift_alpha=s.seller_claim_lift_alpha,
            seller_claim_follow_down=s.seller_claim_follow_down,
            qc_unnamed_hub_seq_alpha=s.qc_unnamed_hub_seq_alpha,
            qc_unnamed_carrier_reach=s.qc_unnamed_carrier_reach,
            buyer_seq_alpha=s.buyer_seq_alpha,
            pilferage_onset_step_days=s.pilferage_onset_step_days,
            pilferage_history_days=s.pilferage_history_days,
            dear_share=s.dear_share,
            dear_window=timedelta(days=s.dear_window_days),
            dear_min_deliveries=s.dear_min_deliveries,
        )

    @property
    def seller_sequential(self) -> Sequential:
        """The sequential test of a seller's claim rate: the shared one, alerting (and HIGH)
        at 1/`seller_seq_alpha`."""
        return replace(self.sequential, alpha=self.seller_seq_alpha)

    @property
    def seller_claim_high_log_bf(self) -> float:
        """The log Bayes factor of a seller's claim-rate evidence that makes its claims HIGH."""
        return math.log(1 / self.seller_claim_high_alpha)

    @property
    def seller_claim_lift_log_bf(self) -> float:
        """The log Bayes factor of a seller's claim-rate evidence that makes its claims filed
        before its alert HIGH (never below `seller_claim_high_log_bf`)."""
        return max(math.log(1 / self.seller_claim_lift_alpha), self.seller_claim_high_log_bf)

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


_FACT_TIME_FIELDS = ("filed_at", "occurred_at", "added_at", "issued_at", "initiated_at")
# Per payload model, those of the fields above it has, in that order: a missing attribute costs
# pydantic's __getattr__ an exception, and fraud's consumer reads the time of every event.
_fact_time_fields: dict[type[EventPayload], tuple[str, ...]] = {}


def fact_time(payload: EventPayload) -> datetime | None:
    """The time of the fact the event reports, when it carries one (a case's own events do
    not: they happen as they are published)."""
    model = type(payload)
    fields = _fact_time_fields.get(model)
    if fields is None:
        declared = getattr(model, "model_fields", _FACT_TIME_FIELDS)
        fields = tuple(f for f in _FACT_TIME_FIELDS if f in declared)
        _fact_time_fields[model] = fields
    for attr in fields:
        value = getattr(payload, attr, None)
        if isinstance(value, datetime):
            return value.astimezone(UTC)
    return None


# The facts intake stamps with its own clock as they arrive (`filed_at`, `added_at`): a claim,
# its evidence, an appeal. The others carry the time their sender gives the fact (the
# marketplace's feed, a partner's scan, reconciliation's case).
_STAMPED_ON_ARRIVAL = (SellerEscalationFiled, EvidenceAdded, AppealFiled)


def counted_time(payload: EventPayload) -> datetime | None:
    """How far in event time an event handled in offset order shows the consumer has counted
    (its partition's mark, `scoring.consumer`): its fact time, but None for a fact intake
    stamps on arrival. Such a stamp is where the partition stands in arrival time, not in the
    time the counts are kept in: behind a replay of days sent in minutes (or a partner's feed
    days late) a claim's evidence stamped now sits among scans of days ago, and a mark moved
    by it let every claim ahead, with its return's scans, of the other returns' scans of the
    days before: a hub's losses and damages, nearly all claimed, were counted days before the
    ordinary deliveries beside them, and honest hubs alerted on 12 incidents in 53 parcels."""
    if isinstance(payload, _STAMPED_ON_ARRIVAL):
        return None
    return fact_time(payload)


def event_time(payload: EventPayload) -> datetime:
    """The fact's own time: detectors reason in event time, never in arrival time."""
    return fact_time(payload) or datetime.now(UTC)


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


def _peer_spread(
    config: ScoringConfig, peers: tuple[int, int], spread: PeerSpread | None, prior_rate: float
) -> PeerSpread:
    """The peers' sequential baseline where it was read (moderate fraudsters left out), else
    their pooled rate at the widest spread a sequential test allows."""
    if spread is not None:
        return spread
    rate = peer_rate(*peers, prior_rate, config.thresholds.prior_strength)
    return PeerSpread(rate, config.sequential.max_concentration)


@lru_cache(maxsize=65536)
def _telling(k: int, n: int, rate: float, concentration: float, s: Sequential) -> bool:
    """`AssessorBase.telling`'s test, kept by its numbers: a terminal scan asks it of every
    agent of every hub (which agents explain each hub, `pilferage.hubs_without_explaining`),
    against the same peers, and agents' counts repeat (most have no incident and a handful of
    parcels). The test is a pure function of these numbers, so the answer kept is the answer."""
    test = sequential_test(k, n, PeerSpread(rate, concentration), s)
    return test.log_bf >= math.log(1 / s.alpha_medium)


@lru_cache(maxsize=65536)
def _favours_peers(k: int, n: int, rate: float, concentration: float, s: Sequential) -> bool:
    """`AssessorBase.favours_peers`'s test, kept by its numbers as `_telling`'s is."""
    return sequential_test(k, n, PeerSpread(rate, concentration), s).log_bf <= 0


class AssessorBase:
    """One event's assessment; holds what the steps share."""

    def __init__(self, session: AsyncSession, payload: EventPayload, config: ScoringConfig):
        self.session = session
        self.payload = payload
        self.config = config
        self.t = config.thresholds
        self.at = event_time(payload)
        self.day = self.at.date()
        # The time an alert raised by this event is stamped with: the latest time its evidence
        # holds (a late scan's tests run as of its journey's end, `as_of`).
        self.alert_at = self.at
        self.scored: list[Scored] = []
        self.flags: list[ReasonCode] = []
        # Entities whose detectors ran on fresh counts: their stored risk is refreshed.
        self.evaluated: dict[tuple[str, str], list[Finding]] = {}
        # Alerts from an entity's combined risk (see refresh_risk).
        self.entity_alerts: list[Finding] = []
        # Sellers with an open seller-buyer collusion alert (`open_alerts`): their claim-rate
        # evidence is their ring's, and lifts none of their claims to HIGH (`claim_band`).
        self.colluding_sellers: set[str] = set()
        # Reuse of this claim's evidence by claims assessed before it: (escalation, finding).
        self.late_reuses: list[tuple[str, Finding]] = []
        # The sequential tests run for this event, by (pattern, entity type, entity id): what
        # decides whether an open alert of the pattern is cleared.
        self.sequential: dict[tuple[str, str, str], SequentialTest] = {}
        # The tests of `sequential` run as of an earlier time (`as_of`): they may raise an
        # alert, never clear one, since the entity's record since then is not in them.
        self.looked_back: set[tuple[str, str, str]] = set()

    def add(self, findings: list[Finding], *, direct: bool) -> None:
        for f in findings:
            self.scored.append(
                Scored(f, f.contribution if direct else indirect(f.contribution), direct)
            )

    def evaluated_entity(self, entity_type: str, entity_id: str | None) -> None:
        if entity_id:
            self.evaluated.setdefault((entity_type, entity_id), [])

    @contextmanager
    def as_of(self, at: datetime) -> Iterator[None]:
        """Run steps as of `at` (their windows and baselines end there), then return to the
        event's own time. The sequential tests run meanwhile are `looked_back`."""
        own = self.at
        self.at, self.day = at, at.date()
        self.alert_at = max(self.alert_at, at)
        before = dict(self.sequential)
        try:
            yield
        finally:
            self.at, self.day = own, own.date()
            self.looked_back |= {k for k, t in self.sequential.items() if before.get(k) is not t}

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
        leave_out: bool = False,
        by_information: bool = False,
        spread_of: Collection[str] | None = None,
        alike_level: float | None = None,
    ) -> dict[str, tuple[int, int]]:
        """The robust baseline of each rate among the population's other members (and, into
        `spreads`, how much those peers differ, for the rates of `spread_of` or all of them;
        `leave_out`: each peer of the spread weighed without itself; `by_information`: the
        spread's rate weighed by each peer's information, see `stats.sequential_peers`;
        `alike_level`: how alike the peers are read may go past the configured bound as far
        as their scatter shows at this confidence, `stats.proven_alike`)."""
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
            leave_out=leave_out,
            by_information=by_information,
            spread_of=spread_of,
            alike_level=alike_level,
        )

    def population(
        self, peers: tuple[int, int], spread: PeerSpread | None, *, prior_rate: float
    ) -> PeerSpread:
        """The honest population a sequential test of these peers weighs against: their
        spread where it was read, else their pooled rate at the widest spread allowed."""
        return _peer_spread(self.config, peers, spread, prior_rate)

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
        baseline = _peer_spread(self.config, peers, spread, prior_rate)
        return _telling(k, n, baseline.rate, baseline.concentration, self.config.sequential)

    def favours_peers(
        self,
        k: int,
        n: int,
        peers: tuple[int, int],
        spread: PeerSpread | None,
        *,
        prior_rate: float,
    ) -> bool:
        """Whether k of n is evidence for the peers' rate rather than against it (a Bayes factor
        of at most 1): a record that shows no excess at all, however few its events."""
        baseline = _peer_spread(self.config, peers, spread, prior_rate)
        return _favours_peers(k, n, baseline.rate, baseline.concentration, self.config.sequential)

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
        min_trials: float = 0.0,
        extra_log_bf: float = 0.0,
        s: Sequential | None = None,
        as_it_stands: Callable[[PeerSpread], float] | None = None,
    ) -> list[Finding]:
        """Run one entity's sequential test against its peers' robust rate (at least
        `floor_rate`) and their honest spread; keep the test for the clearing rule. No alert
        before the entity has `min_trials` trials (`sequential_findings`). `s` replaces the
        configured test (a seller's claim rate alerts at its own level). `as_it_stands`, given
        the honest population read, is the log Bayes factor of the record read with the trials
        whose event may still come (`claim_abuse.open_windows_log_bf`), which replaces the
        counts' own."""
        s = s or self.config.sequential
        baseline = _peer_spread(self.config, peers, spread, prior_rate)
        rate = max(baseline.rate, floor_rate)
        concentration = baseline.concentration
        if as_it_stands is not None:
            honest = PeerSpread(rate, concentration)
            extra_log_bf += as_it_stands(honest) - sequential_test(k, n, honest, s).log_bf
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
            min_trials=min_trials,
            extra_log_bf=extra_log_bf,
        )
        self.sequential[(pattern, *entity)] = test
        return found

    def onset_test(
        self,
        *,
        code: str,
        what: str,
        pattern: str,
        entity: tuple[str, str],
        records: list[tuple[int, int]],
        histories: list[tuple[int, int]] | None = None,
        looks: int,
        peers: tuple[int, int],
        spread: PeerSpread | None,
        prior_rate: float,
        action: str,
    ) -> list[Finding]:
        """The sequential test from the candidate onset that tells most (`records`: the counts
        from each onset on; `histories`: the entity's own record before each), charged for the
        `looks` onsets a window holds (`stats.onset_sequential_test`). Run after the whole
        window's `sequential_test`: the clearing rule keeps whichever of the two tells more."""
        s = self.config.sequential
        baseline = _peer_spread(self.config, peers, spread, prior_rate)
        best = onset_sequential_test(records, looks, baseline, s, histories=histories)
        if best is None:
            return []
        test, found = sequential_findings(
            code=code,
            what=what,
            pattern=pattern,
            entity_type=entity[0],
            entity_id=entity[1],
            k=best.k,
            n=best.n,
            spread=baseline,
            s=s,
            action=action,
            # The onsets' averaged factor over the record that tells most's own.
            extra_log_bf=best.log_bf
            - sequential_test(best.k, best.n, baseline, s, history=best.history).log_bf,
            history=best.history,
        )
        whole = self.sequential.get((pattern, *entity))
        if whole is None or test.log_bf > whole.log_bf:
            self.sequential[(pattern, *entity)] = test
        return found
