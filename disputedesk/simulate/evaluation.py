"""`disputedesk fraud-eval`: simulated traffic with planted fraud through the real pipeline
(intake over HTTP → Kafka → fraud), then detection quality per pattern against ground truth.

Per pattern: precision and recall of the HIGH band per event and per entity, the false-positive
rate on honest sellers and buyers, and the median (simulated) time from a fraudster's first
planted event to the alert. Definitions:
- per event: the scored events are escalations and terminal partner scans (a parcel a planted
  hub or agent pilfered is two pilferage events: its terminal scan and the seller's claim on it,
  as an outside evaluation counts it). Recall = planted events of the pattern that were HIGH
  when assessed (in real time, on what was known then).
  Precision = HIGH events whose strongest reason belongs to the pattern that are planted fraud.
- per entity: an entity is flagged by an alert. Recall = planted entities (collusion: rings) with
  an alert of the pattern; precision = alerted entities of the pattern that are planted fraudsters.
- per event, the band is the event's latest assessment: fraud re-assesses the events an alert's
  finding rests on when the alert is raised, so a fraudster's first claims, which look like
  anyone's when they arrive, end up HIGH once the fraudster is found. Beside it: the band "by
  decision", the latest revision made within `CASE_HORIZON` of the event (SOP v1 decides on
  the latest band and a decision may be appealed for 7 days: the revisions that can still
  change a decision), and the band at arrival (revision 0).
- honest escalations: those not planted, and (stricter for the detector, fairer to it) those
  whose parties are all honest, since a fraudster's unplanted claims are still a fraudster's.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from disputedesk.simulate.driver import DriveResult, drive
from disputedesk.simulate.generator import PATTERNS, GroundTruth, World, generate
from disputedesk.simulate.marketplace import Marketplace
from disputedesk.simulate.partners import partner_time
from disputedesk.simulate.traffic import TrafficOptions

# How partners send a world through the pipeline: some messages delivered twice, some scans
# after the scan that followed them, rapidroute in batches of 50-500 (at least every six hours),
# desipost a snapshot per scan. `CLEAN_TRAFFIC` sends every scan once, in order, at its time.
PARTNER_TRAFFIC = TrafficOptions(
    redeliver_fraction=0.05,
    out_of_order_fraction=0.05,
    rapidroute_window=timedelta(hours=6),
    rapidroute_batch=(50, 500),
)
CLEAN_TRAFFIC = TrafficOptions()

ESCALATION_TYPE = "disputedesk.intake.seller_escalation_filed.v1"
CASE_HORIZON = timedelta(days=7)
# The event figures' views, as suffixes of their names: the latest assessment, the latest made
# within CASE_HORIZON of the event, the first.
VIEWS = ("", "_by_decision", "_at_arrival")
SCAN_TYPE = "disputedesk.intake.return_shipment_event.v1"


def pattern_of(code_pattern: str | None) -> str | None:
    if not code_pattern:
        return None
    p = code_pattern.upper()
    for prefix, name in (
        ("CLAIM_ABUSE", "claim_abuse"),
        ("EVIDENCE_REUSE", "evidence_reuse"),
        ("WRONG_USED", "wrong_used_returns"),
        ("PILFERAGE", "pilferage"),
        ("QC_CONTRADICTION", "qc_contradiction"),
        ("COLLUSION", "collusion"),
    ):
        if p.startswith(prefix):
            return name
    return None


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    subject_type: str
    return_id: str
    escalation_id: str | None
    band: str
    reasons: list[dict[str, Any]]
    event_time: datetime | None
    assessed_at: datetime
    revision: int = 0

    def revised_on(self) -> datetime | None:
        """The event time of the alert that made this revision (None at arrival)."""
        if not self.revision or not self.reasons:
            return None
        at = self.reasons[0].get("numbers", {}).get("revised_on_event_time")
        return datetime.fromisoformat(at) if at else None


@dataclass(frozen=True, slots=True)
class AlertRow:
    pattern: str
    entity_type: str
    entity_id: str
    evidence: dict[str, Any]
    event_time: datetime | None
    # open | acknowledged | closed; fraud closes a sequential alert itself when its entity
    # proves ordinary (cleared).
    status: str = "open"


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def event_keys(
    world: World,
    rows: Iterable[AssessmentRow],
    *,
    horizon: timedelta | None = None,
    at_arrival: bool = False,
) -> dict[tuple[str, str], AssessmentRow]:
    """The assessments of the events under evaluation, by ("escalation"|"terminal", return_id):
    each event's latest revision (made within `horizon` of it, if given), or with `at_arrival`
    its first assessment."""
    out: dict[tuple[str, str], AssessmentRow] = {}
    for r in rows:
        if at_arrival and r.revision:
            continue
        if r.subject_type == ESCALATION_TYPE:
            key = ("escalation", r.return_id)
        elif (
            r.subject_type == SCAN_TYPE
            and r.event_time is not None
            and world.terminal_at.get(r.return_id) == r.event_time
        ):
            key = ("terminal", r.return_id)
        else:
            continue
        revised_on = r.revised_on()
        if (
            horizon is not None
            and revised_on is not None
            and r.event_time is not None
            and revised_on > r.event_time + horizon
        ):
            continue
        if key not in out or r.revision > out[key].revision:
            out[key] = r
    return out


def top_pattern(row: AssessmentRow) -> str | None:
    best = max(row.reasons, key=lambda r: r.get("contribution", 0), default=None)
    return pattern_of((best or {}).get("numbers", {}).get("pattern")) if best else None


@dataclass(frozen=True, slots=True)
class EventParties:
    """Who an evaluated event involves, and when it happened."""

    at: datetime
    parties: tuple[tuple[str, str], ...]


def event_parties(world: World) -> dict[tuple[str, str], EventParties]:
    """Escalations with their seller, buyer, pickup agent and hubs; terminal scans that are
    incidents (loss, transit damage, a weight drop as SOP v1 defines it) with their hub and
    agent. Ordinary deliveries are no one's suspicious act."""
    returns: dict[str, dict[str, Any]] = {}
    scans: dict[str, list[dict[str, Any]]] = defaultdict(list)
    out: dict[tuple[str, str], EventParties] = {}
    for a in world.actions:
        if a.kind == "return":
            returns[a.return_id] = a.body
        elif a.kind == "scan":
            scans[a.return_id].append(a.body)
    for a in world.actions:
        body = returns.get(a.return_id, {})
        first = (scans.get(a.return_id) or [{}])[0]
        handlers = tuple(
            x for x in (("agent", first.get("agent")), ("hub", first.get("hub"))) if x[1]
        )
        if a.kind == "escalation":
            people = tuple(
                x
                for x in (("seller", body.get("seller_id")), ("buyer", body.get("buyer_id")))
                if x[1]
            )
            out[("escalation", a.return_id)] = EventParties(a.at, people + handlers)
        # terminal_at is the time as intake reads it back from the partner (its precision).
        elif a.kind == "scan" and world.terminal_at.get(a.return_id) == partner_time(
            a.partner_format, a.at
        ):
            # Scan bodies are partner-neutral: canonical type, grams (see generator.Action).
            picked = first.get("weight_g")
            delivered = a.body.get("weight_g")
            is_delivery = a.body["type"] == "DELIVERED_TO_SELLER"
            drop = (
                is_delivery
                and picked is not None
                and delivered is not None
                and delivered < picked - max(50, picked * 10 / 100)
            )
            if not is_delivery or drop:
                out[("terminal", a.return_id)] = EventParties(a.at, handlers)
    return out


# Why a planted event was not HIGH (by decision: within CASE_HORIZON), by its fraudster's first
# alert: it came more than the horizon before that alert (detection was too slow for it), no
# alert of the pattern came on its parties (the fraudster was not found), or otherwise (an
# alert came in time, the event stayed below HIGH).
MISSED_CAUSES = ("before_alert_horizon", "never_alerted", "otherwise")


def missed_by_cause(
    missed: set[tuple[str, str]],
    parties: Mapping[tuple[str, str], EventParties],
    first_alerts: Mapping[tuple[str, str], datetime | None],
    *,
    horizon: timedelta | None = CASE_HORIZON,
) -> dict[str, int]:
    out = dict.fromkeys(MISSED_CAUSES, 0)
    for key in missed:
        event = parties.get(key)
        times = [t for m in (event.parties if event else ()) if (t := first_alerts.get(m))]
        if not times:
            out["never_alerted"] += 1
        elif horizon is not None and event is not None and event.at < min(times) - horizon:
            out["before_alert_horizon"] += 1
        else:
            out["otherwise"] += 1
    return out


def score_world(
    world: World, assessments: list[AssessmentRow], alerts: list[AlertRow]
) -> dict[str, Any]:
    truth: GroundTruth = world.truth
    views = dict(
        zip(
            VIEWS,
            (
                event_keys(world, assessments),
                event_keys(world, assessments, horizon=CASE_HORIZON),
                event_keys(world, assessments, at_arrival=True),
            ),
            strict=True,
        )
    )
    highs = {v: {k for k, r in rows.items() if r.band == "HIGH"} for v, rows in views.items()}
    fraud_events = truth.fraud_events()
    fraud_entities = truth.fraud_entities()
    alerted: dict[str, dict[tuple[str, str], datetime | None]] = defaultdict(dict)
    for a in alerts:
        p = pattern_of(a.pattern)
        if p is None:
            continue
        members = [(a.entity_type, a.entity_id)]
        buyer = (a.evidence.get("numbers") or {}).get("buyer_id")
        if buyer:
            members.append(("buyer", str(buyer)))
        for m in members:
            prev = alerted[p].get(m)
            if prev is None or (a.event_time and a.event_time < prev):
                alerted[p][m] = a.event_time
    parties = event_parties(world)

    table: dict[str, Any] = {}
    for p in PATTERNS:
        planted = truth.events.get(p, set())
        # Per view: events flagged HIGH for this pattern, those that are planted, planted hits.
        counts: dict[str, int] = {}
        for v, rows in views.items():
            flagged = {k for k in highs[v] if top_pattern(rows[k]) == p}
            counts |= {
                f"ev_flagged{v}": len(flagged),
                f"ev_tp{v}": len(flagged & fraud_events),
                f"ev_hits{v}": len(planted & highs[v]),
            }
        ents = alerted.get(p, {})
        # Entity precision: the alerted subjects (by their primary entity) that are fraudsters.
        primary = {(a.entity_type, a.entity_id) for a in alerts if pattern_of(a.pattern) == p}
        en_tp = len(primary & fraud_entities)
        missed = missed_by_cause(planted - highs[""], parties, ents, horizon=None)
        missed_by_decision = missed_by_cause(planted - highs["_by_decision"], parties, ents)
        delays: list[float] = []
        if p == "collusion":
            units = [[tuple(m) for m in ring["members"]] for ring in truth.rings]
        else:
            units = [[e] for e in sorted(truth.entities.get(p, set()))]
        detected = 0
        for unit in units:
            times = [ents[m] for m in unit if m in ents]
            if not times:
                continue
            detected += 1
            firsts = [truth.first_event[(p, *m)] for m in unit if (p, *m) in truth.first_event]
            seen = [t for t in times if t is not None]
            if firsts and seen:
                delays.append((min(seen) - min(firsts)).total_seconds() / 86400)
        c: dict[str, Any] = counts | {
            "ev_planted": len(planted),
            "en_tp": en_tp,
            "en_alerted": len(primary),
            "en_detected": detected,
            "en_planted": len(units),
            "delays": delays,
            **{f"missed_{cause}": n for cause, n in missed.items()},
            **{f"missed_by_decision_{cause}": n for cause, n in missed_by_decision.items()},
        }
        table[p] = {**_pattern_figures(c), "_counts": c}
    any_alert = {(a.entity_type, a.entity_id) for a in alerts}
    for a in alerts:
        buyer = (a.evidence.get("numbers") or {}).get("buyer_id")
        if buyer:
            any_alert.add(("buyer", str(buyer)))
    still_open = {(a.entity_type, a.entity_id) for a in alerts if a.status != "closed"}
    for a in alerts:
        buyer = (a.evidence.get("numbers") or {}).get("buyer_id")
        if buyer and a.status != "closed":
            still_open.add(("buyer", str(buyer)))
    per_type: dict[str, int] = {}
    for etype, everyone in (
        ("seller", truth.sellers),
        ("buyer", truth.buyers),
        ("hub", truth.hubs),
        ("agent", truth.agents),
    ):
        honest = {(etype, e) for e in everyone} - fraud_entities
        per_type |= {
            f"{etype}s": len(honest),
            f"{etype}s_ever_flagged": len(honest & any_alert),
            f"{etype}s_flagged_at_end": len(honest & still_open),
        }
    for name in LOOKALIKES:
        cast_ = set(truth.lookalikes.get(name, set())) - fraud_entities
        per_type |= {
            f"lookalike_{name}": len(cast_),
            f"lookalike_{name}_ever_flagged": len(cast_ & any_alert),
            f"lookalike_{name}_flagged_at_end": len(cast_ & still_open),
        }
    honest_sellers = {("seller", s) for s in truth.sellers} - fraud_entities
    honest_buyers = {("buyer", b) for b in truth.buyers} - fraud_entities
    honest_escalations = {k for k in views[""] if k[0] == "escalation"} - fraud_events
    honest_parties = {
        k
        for k in honest_escalations
        if k in parties and not set(parties[k].parties) & fraud_entities
    }
    high = highs[""]  # honest figures are judged on each event's latest assessment
    table["_entities"] = planted_entities(truth, alerts)
    table["_honest"] = {
        **per_type,
        **honest_high_sources(views[""], honest_parties & high),
        # Every honest HIGH escalation's source, those with a planted party among them, and
        # which planted parties those are: the honest HIGH a change adds or takes, traced.
        **honest_high_sources(views[""], honest_escalations & high, "honest_any_high"),
        **_planted_parties(honest_escalations & high - honest_parties, parties, fraud_entities),
        "escalations_honest_parties": len(honest_parties),
        "escalations_honest_parties_high": len(honest_parties & high),
        "sellers": len(honest_sellers),
        "sellers_flagged": len(honest_sellers & any_alert),
        "buyers": len(honest_buyers),
        "buyers_flagged": len(honest_buyers & any_alert),
        "escalations": len(honest_escalations),
        "escalations_high": len(honest_escalations & high),
    }
    return table


def honest_high_sources(
    rows: Mapping[tuple[str, str], AssessmentRow],
    keys: Iterable[tuple[str, str]],
    prefix: str = "honest_high",
) -> dict[str, int]:
    """Where honest HIGH escalations come from: counts by their strongest reason's code
    (`<prefix>_by_reason:<code>`) and by the entity it is about
    (`<prefix>_by_entity:<type>:<id>`), summed like the other honest counts when pooled."""
    out: dict[str, int] = defaultdict(int)
    for key in keys:
        best = max(rows[key].reasons, key=lambda r: r.get("contribution", 0), default=None)
        if best is None:
            continue
        out[f"{prefix}_by_reason:{best.get('code')}"] += 1
        entity = (best.get("numbers") or {}).get("entity")
        if entity:
            out[f"{prefix}_by_entity:{entity}"] += 1
    return dict(out)


def _planted_parties(
    keys: Iterable[tuple[str, str]],
    parties: Mapping[tuple[str, str], EventParties],
    fraud_entities: set[tuple[str, str]],
) -> dict[str, int]:
    """The planted parties of honest (not planted) escalations scored HIGH, each counted once
    per escalation (`honest_high_planted_party:<type>:<id>`): a planted party's own ordinary
    claims, HIGH on its evidence."""
    out: dict[str, int] = defaultdict(int)
    for key in keys:
        if key not in parties:
            continue
        for etype, eid in sorted(set(parties[key].parties) & fraud_entities):
            out[f"honest_high_planted_party:{etype}:{eid}"] += 1
    return dict(out)


# The honest look-alikes a world may cast (generator.GroundTruth.lookalikes).
LOOKALIKES = (
    "large_seller",
    "early_claims_seller",
    "multi_item_order",
    "household",
    "small_town_agent",
    "bad_weeks_seller",
)
# The patterns whose planted entities have an intensity and a count of relevant events.
RATE_PATTERNS = ("claim_abuse", "pilferage", "qc_contradiction", "wrong_used_returns")
INTENSITY_BINS = ((0.0, 2.5), (2.5, 3.0), (3.0, 4.0), (4.0, float("inf")))
EVENT_BINS = ((0, 15), (15, 30), (30, 1_000_000))
# A wrong/used buyer returns a handful of items, never 15: its curve is read by fewer events.
PATTERN_EVENT_BINS = {"wrong_used_returns": ((0, 3), (3, 5), (5, 10), (10, 1_000_000))}


def planted_entities(truth: GroundTruth, alerts: list[AlertRow]) -> list[dict[str, Any]]:
    """Each planted entity of a rate pattern: its intensity, its relevant events over the
    world, whether an alert of its pattern came, and how many days after its first planted
    event."""
    first_alert: dict[tuple[str, str, str], datetime | None] = {}
    for a in alerts:
        p = pattern_of(a.pattern)
        if p not in RATE_PATTERNS:
            continue
        key = (p, a.entity_type, a.entity_id)
        prev = first_alert.get(key)
        if key not in first_alert or (a.event_time and (prev is None or a.event_time < prev)):
            first_alert[key] = a.event_time
    out = []
    for p in RATE_PATTERNS:
        for etype, eid in sorted(truth.entities.get(p, set())):
            key = (p, etype, eid)
            found = key in first_alert
            first = truth.first_event.get(key)
            at = first_alert.get(key)
            out.append(
                {
                    "pattern": p,
                    "entity": f"{etype}:{eid}",
                    # Binned by what the entity showed against its honest peers; the drawn
                    # intensity beside it.
                    "intensity": truth.realized.get(key) if truth.intensity.get(key) else None,
                    "drawn_intensity": truth.intensity.get(key),
                    "events": truth.relevant.get(key, 0),
                    "detected": found,
                    "days_to_alert": (
                        round((at - first).total_seconds() / 86400, 2)
                        if found and at and first
                        else None
                    ),
                }
            )
    return out


def power_curves(entities: list[dict[str, Any]]) -> dict[str, Any]:
    """Per rate pattern: entity recall by intensity and number of relevant events, and the
    goal's figure (intensity >= 2.5, >= 15 events)."""
    out: dict[str, Any] = {}
    for p in RATE_PATTERNS:
        mine = [e for e in entities if e["pattern"] == p and e["intensity"] is not None]
        cells = []
        for lo, hi in INTENSITY_BINS:
            for elo, ehi in PATTERN_EVENT_BINS.get(p, EVENT_BINS):
                cell = [e for e in mine if lo <= e["intensity"] < hi and elo <= e["events"] < ehi]
                found = [e for e in cell if e["detected"]]
                delays = [e["days_to_alert"] for e in found if e["days_to_alert"] is not None]
                cells.append(
                    {
                        "intensity": f"{lo:g}-{hi:g}",
                        "events": f"{elo}-{ehi - 1}",
                        "planted": len(cell),
                        "detected": len(found),
                        "recall": _ratio(len(found), len(cell)),
                        "median_days_to_alert": (
                            round(statistics.median(delays), 1) if delays else None
                        ),
                    }
                )
        goal = [e for e in mine if e["intensity"] >= 2.5 and e["events"] >= 15]
        found = [e for e in goal if e["detected"]]
        delays = [e["days_to_alert"] for e in found if e["days_to_alert"] is not None]
        out[p] = {
            "cells": cells,
            "goal_planted": len(goal),
            "goal_detected": len(found),
            "goal_recall": _ratio(len(found), len(goal)),
            "goal_median_days_to_alert": (round(statistics.median(delays), 1) if delays else None),
        }
    return out


def _pattern_figures(c: Mapping[str, Any]) -> dict[str, Any]:
    """One pattern's figures from its counts (one seed's, or several seeds' summed)."""
    delays = c["delays"]
    events: dict[str, float | None] = {}
    for view in VIEWS:  # event_precision, event_recall, and the same _by_decision, _at_arrival
        events[f"event_precision{view}"] = _ratio(c[f"ev_tp{view}"], c[f"ev_flagged{view}"])
        events[f"event_recall{view}"] = _ratio(c[f"ev_hits{view}"], c["ev_planted"])
    return {
        "events_planted": c["ev_planted"],
        "events_flagged": c["ev_flagged"],
        **events,
        "entities_planted": c["en_planted"],
        "entities_alerted": c["en_alerted"],
        "entity_precision": _ratio(c["en_tp"], c["en_alerted"]),
        "entity_recall": _ratio(c["en_detected"], c["en_planted"]),
        "median_days_to_alert": round(statistics.median(delays), 2) if delays else None,
        "events_missed": {cause: c[f"missed_{cause}"] for cause in MISSED_CAUSES},
        "events_missed_by_decision": {
            cause: c[f"missed_by_decision_{cause}"] for cause in MISSED_CAUSES
        },
    }


def pool(tables: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the counts of several seeds and recompute the ratios."""
    out: dict[str, Any] = {}
    for p in PATTERNS:
        c: dict[str, Any] = defaultdict(int, delays=[])
        for t in tables:
            for k, v in t[p]["_counts"].items():
                c[k] += v
        out[p] = _pattern_figures(c)
    h: dict[str, int] = defaultdict(int)
    for t in tables:
        for k, v in t["_honest"].items():
            h[k] += v
    out["power"] = power_curves([e for t in tables for e in t.get("_entities", [])])
    out["honest"] = {
        **h,
        **{
            f"{e}_fp_rate_ever": _ratio(h[f"{e}s_ever_flagged"], h[f"{e}s"])
            for e in ("seller", "buyer", "hub", "agent")
            if f"{e}s" in h
        },
        **{
            f"{e}_fp_rate_at_end": _ratio(h[f"{e}s_flagged_at_end"], h[f"{e}s"])
            for e in ("seller", "buyer", "hub", "agent")
            if f"{e}s" in h
        },
        "seller_fp_rate": _ratio(h["sellers_flagged"], h["sellers"]),
        "buyer_fp_rate": _ratio(h["buyers_flagged"], h["buyers"]),
        "escalation_fp_rate": _ratio(h["escalations_high"], h["escalations"]),
        "honest_party_escalation_fp_rate": _ratio(
            h["escalations_honest_parties_high"], h["escalations_honest_parties"]
        ),
    }
    return out


# --- running it ------------------------------------------------------------------------------


async def read_results(sessionmaker: Any) -> tuple[list[AssessmentRow], list[AlertRow]]:
    """What a fraud database holds that `score_world` scores: every assessment and alert."""
    from sqlalchemy import select

    from services.fraud.models import Alert, Assessment

    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(
                    Assessment.subject_type,
                    Assessment.return_id,
                    Assessment.escalation_id,
                    Assessment.band,
                    Assessment.reasons,
                    Assessment.event_time,
                    Assessment.assessed_at,
                    Assessment.revision,
                )
            )
        ).all()
        alerts = (
            await session.execute(
                select(
                    Alert.pattern,
                    Alert.entity_type,
                    Alert.entity_id,
                    Alert.evidence,
                    Alert.event_time,
                    Alert.status,
                )
            )
        ).all()
    return [AssessmentRow(*r) for r in rows], [AlertRow(*a) for a in alerts]


async def _count_assessments(fraud: Any) -> int:
    from sqlalchemy import func, select

    from services.fraud.models import Assessment

    async with fraud.runtime.sessionmaker() as session:
        # Events assessed on arrival; revisions are extra assessments of the same events.
        return int(
            await session.scalar(
                select(func.count()).select_from(Assessment).where(Assessment.revision == 0)
            )
            or 0
        )


def _latency(drive_result: DriveResult, rows: list[AssessmentRow]) -> dict[str, float | None]:
    lat = sorted(
        r.assessed_at.timestamp() - drive_result.escalation_posted[r.escalation_id]
        for r in rows
        if r.subject_type == ESCALATION_TYPE
        and r.revision == 0
        and r.escalation_id in drive_result.escalation_posted
    )
    if not lat:
        return {"p50_s": None, "p95_s": None, "max_s": None}
    return {
        "p50_s": round(lat[len(lat) // 2], 3),
        "p95_s": round(lat[int(len(lat) * 0.95)], 3),
        "max_s": round(lat[-1], 3),
    }


async def run_seed(
    seed: int,
    market: Marketplace,
    *,
    secrets: dict[str, str],
    out_dir: Path,
    rate: float | None = None,
    traffic: TrafficOptions = PARTNER_TRAFFIC,
) -> dict[str, Any]:
    import httpx
    from fastapi import FastAPI

    from services.fraud.app import create_app as fraud_app
    from services.fraud.settings import FraudSettings
    from services.intake.app import create_app as intake_app
    from shared.clock import ManualClock

    await _start_at_the_end(os.environ["KAFKA_BOOTSTRAP_SERVERS"], EVALUATION_GROUP)
    world = generate(market, seed, tag=f"e{seed}x{int(time.time()) % 100000}")
    (out_dir / f"ground-truth-seed{seed}.json").write_text(
        json.dumps(world.truth.to_json(), indent=1)
    )
    clock = ManualClock(market.start)
    intake: FastAPI = intake_app(clock=clock)
    fraud: FastAPI = fraud_app(FraudSettings(consumer_group=EVALUATION_GROUP))
    started = time.monotonic()
    cpu_started = time.process_time()
    async with intake.router.lifespan_context(intake), fraud.router.lifespan_context(fraud):
        for app in (intake, fraud):
            await app.state.runtime.producer_ready.wait()
        for consumer in fraud.state.runtime.consumers:
            await consumer.ready.wait()

        class _Svc:
            runtime = fraud.state.runtime

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=intake), base_url="http://intake.eval"
        ) as client:
            result = await drive(
                world, client, secrets=secrets, clock=clock, rate=rate, traffic=traffic
            )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if await _count_assessments(_Svc) >= result.accepted_events:
                break
            await asyncio.sleep(0.5)
        assessments, alerts = await read_results(fraud.state.runtime.sessionmaker)
    table = score_world(world, assessments, alerts)
    table["_run"] = {
        "seed": seed,
        "actions": len(world.actions),
        "events_accepted": result.accepted_events,
        "assessments": len(assessments),
        "rejected": result.rejected[:5],
        "traffic": result.tally.to_json(),
        "drive_seconds": round(result.wall_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu_started, 1),
        "escalation_assessment_latency": _latency(result, assessments),
    }
    return table


# The evaluation's fraud reads as a group of its own: starting it at the end of the topics must
# never skip the backlog of a fraud service on the same broker (its group is "fraud").
EVALUATION_GROUP = "fraud-eval"


async def _start_at_the_end(bootstrap: str, group: str) -> None:
    """Fraud's consumer group resumes where it stopped, and the broker keeps earlier runs'
    events: those an interrupted run published but never scored would be scored into this
    world's fresh database (other ids, but the same categories and network baselines). The
    group starts at the end of the topics it reads."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    from shared.events import INTAKE_RETURNS, RECONCILIATION_CASES

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([INTAKE_RETURNS.name, RECONCILIATION_CASES.name])
    finally:
        await admin.close()
    parts = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    if not parts:
        return
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.commit(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


async def _no_sync_commit(url: str, database: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
    finally:
        await conn.close()


def prepare_stack(state_dir: Path) -> tuple[dict[str, str], dict[str, str], Any]:
    """Bring the stack up (idempotent), make the eval databases and credentials."""
    from disputedesk import credentials
    from disputedesk.stack import Stack
    from services.intake.partners.seeding import seed_dev_partners
    from shared.migrations import upgrade

    environ = dict(os.environ)
    environ.setdefault("DISPUTEDESK_STATE_DIR", str(state_dir))
    stack = Stack.from_env(environ)
    env = dict(stack.up())
    stack.apply_topics(env)
    creds = Path(environ["DISPUTEDESK_STATE_DIR"]) / "eval-credentials"
    credentials.ensure(creds)
    secrets = credentials.read_env(creds / credentials.CREDENTIALS_FILE)
    env["DISPUTEDESK_KEYRING_FILE"] = str(creds / credentials.KEYRING_FILE)
    env.update(credentials.at_rest_environment(environ, secrets))
    env["INTAKE_DATABASE_URL"] = stack.postgres.database_url("eval_intake")
    env["FRAUD_DATABASE_URL"] = stack.postgres.database_url("eval_fraud")
    env.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(env)

    def prepare_databases() -> None:
        for svc in ("intake", "fraud"):
            stack.postgres.drop_database(f"eval_{svc}")
            stack.postgres.create_database(f"eval_{svc}")
            # The eval's throwaway databases need no fsync per commit; the code under test is
            # unchanged (commit order and visibility are the same), only crash durability goes.
            asyncio.run(_no_sync_commit(env[f"{svc.upper()}_DATABASE_URL"], f"eval_{svc}"))
            upgrade(svc, env[f"{svc.upper()}_DATABASE_URL"])
        # Runs in a worker thread (migrations drive their own event loop), so asyncio.run is fine.
        asyncio.run(seed_dev_partners(env["INTAKE_DATABASE_URL"], secrets))

    return env, secrets, prepare_databases


async def evaluate(
    seeds: list[int],
    market: Marketplace | Callable[[int], Marketplace],
    *,
    out_dir: Path,
    state_dir: Path,
    progress: Callable[[int, dict[str, Any]], None] | None = None,
    rate: float | None = None,
    traffic: TrafficOptions = PARTNER_TRAFFIC,
) -> dict[str, Any]:
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    _, secrets, prepare = await asyncio.to_thread(prepare_stack, state_dir)
    started = time.monotonic()
    per_seed = []
    for seed in seeds:
        # Fresh databases per seed, made in a worker thread (migrations run their own loop).
        await asyncio.to_thread(prepare)
        from disputedesk.simulate.ranges import describe

        drawn = market(seed) if callable(market) else market
        table = await run_seed(
            seed, drawn, secrets=secrets, out_dir=out_dir, rate=rate, traffic=traffic
        )
        table["_world"] = describe(drawn)
        per_seed.append(table)
        if progress is not None:
            progress(seed, table)
    report = report_of(seeds, per_seed, seconds=time.monotonic() - started)
    (out_dir / "fraud-eval.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def report_of(
    seeds: list[int], per_seed: list[dict[str, Any]], *, seconds: float, mode: str | None = None
) -> dict[str, Any]:
    """The evaluation's report: the seeds pooled, and each seed's table without its counts."""
    report: dict[str, Any] = {
        "seeds": seeds,
        "pooled": pool(per_seed),
        "entities": [
            e | {"seed": t["_run"]["seed"]} for t in per_seed for e in t.get("_entities", [])
        ],
        "per_seed": [
            {k: v for k, v in t.items() if not k.startswith("_")}
            | {"run": t["_run"], "honest": t["_honest"]}
            | ({"world": t["_world"]} if "_world" in t else {})
            for t in per_seed
        ],
        "seconds": round(seconds, 1),
    }
    if mode:
        report["mode"] = mode
    for t in report["per_seed"]:
        for p in PATTERNS:
            t[p] = {k: v for k, v in t[p].items() if k != "_counts"}
    return report
