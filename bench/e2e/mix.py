"""Traffic mixes: when each request of a step is sent and which scans it carries.

Pure: from the step's journeys (a feed entry's time, the partner's format, whether the seller
escalates) to a sorted list of sends. Every journey's three scans happen at the same offsets
from its feed entry in every mix (`SCAN_OFFSETS_S`); the mixes differ in when the partner
tells intake about them:

- `even`: every scan is sent the moment it happens, one request each (desipost's request is
  the shipment's history so far), so requests arrive as smoothly as the scans.
- `production`: the partners send as they do in production. swiftship sends single events as
  they happen; rapidroute collects events and sends a batch of 50–500 (the size drawn per
  batch) when it is full or when its first event has waited `batch_linger_s`; desipost sends,
  every `snapshot_every_s`, a cumulative snapshot of every shipment it carries (all scans so
  far), until a snapshot has carried the delivery. In production the snapshots come every few
  minutes over journeys of days; the benchmark scales the period to its step length so that
  several rounds fall in one step.

In both mixes a seller escalates `ESCALATION_AFTER_DELIVERY_S` after the request that
carried the delivery: a seller cannot complain of a parcel the desk does not know arrived, and
the escalation stays the case's last fact. The plan counts from the request's sending; the
generator (`traffic.run_step`) also waits for its acceptance.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bench.e2e.settings import ESCALATION_OFFSET_S, SCAN_OFFSETS_S

MIXES = ("even", "production")
# The pause between the delivery reaching intake and the seller's escalation (2.5 s: the even
# mix's escalation comes 4 s after the feed entry, the delivery 1.5 s after it).
ESCALATION_AFTER_DELIVERY_S = ESCALATION_OFFSET_S - SCAN_OFFSETS_S[-1]
DELIVERY = len(SCAN_OFFSETS_S) - 1


@dataclass(frozen=True)
class PlannedJourney:
    """A return as the plan sees it: its feed entry's time (s from the step's start)."""

    start: float
    partner_format: str
    escalate: bool


@dataclass(frozen=True)
class Send:
    """One request: `at` s from the step's start; `journey` is the return whose feed entry or
    escalation it is, or the first journey a partner request carries; `scans` are the
    (journey, scan index) pairs a partner request carries, history included for a snapshot."""

    at: float
    kind: str  # "return" | "scan" | "escalation"
    journey: int
    scans: tuple[tuple[int, int], ...] = ()
    # A partner request's shape: "event" (one scan), "batch" (rapidroute's) or "snapshot"
    # (desipost's history so far).
    form: str = ""


@dataclass(frozen=True)
class ProductionShape:
    batch_min: int = 50
    batch_max: int = 500
    batch_linger_s: float = 5.0
    snapshot_every_s: float = 5.0

    @classmethod
    def for_step(cls, step_s: float) -> ProductionShape:
        """A fifth of the step for rapidroute's linger and desipost's period: five snapshot
        rounds per step, each a burst of every shipment in flight."""
        return cls(batch_linger_s=step_s / 5, snapshot_every_s=step_s / 5)


def scan_time(journey: PlannedJourney, index: int) -> float:
    return journey.start + SCAN_OFFSETS_S[index]


def plan_step(
    journeys: Sequence[PlannedJourney],
    *,
    mix: str,
    shape: ProductionShape | None = None,
    rng: random.Random | None = None,
) -> list[Send]:
    """Every request of the step, sorted by send time (feed entries, partner requests,
    escalations)."""
    if mix not in MIXES:
        raise ValueError(f"unknown traffic mix {mix!r}; choose from {', '.join(MIXES)}")
    shape = shape or ProductionShape()
    rng = rng or random.Random(0)
    sends = [Send(j.start, "return", i) for i, j in enumerate(journeys)]
    partner: list[Send] = []
    for i, j in enumerate(journeys):
        if mix == "even" or j.partner_format == "swiftship":
            partner.extend(_as_they_happen(i, j))
    if mix == "production":
        partner.extend(_batches(journeys, "rapidroute", shape, rng))
        partner.extend(_snapshots(journeys, "desipost", shape))
    sends.extend(partner)
    delivered_at: dict[int, float] = {}
    for send in partner:
        for i, index in send.scans:
            if index == DELIVERY:
                delivered_at[i] = min(delivered_at.get(i, math.inf), send.at)
    sends.extend(
        Send(delivered_at[i] + ESCALATION_AFTER_DELIVERY_S, "escalation", i)
        for i, j in enumerate(journeys)
        if j.escalate and i in delivered_at
    )
    order = {"return": 0, "scan": 1, "escalation": 2}
    return sorted(sends, key=lambda s: (s.at, order[s.kind], s.journey))


def _as_they_happen(i: int, j: PlannedJourney) -> list[Send]:
    snapshot = j.partner_format == "desipost"
    return [
        Send(
            scan_time(j, index),
            "scan",
            i,
            tuple((i, k) for k in range(index + 1)) if snapshot else ((i, index),),
            "snapshot" if snapshot else "event",
        )
        for index in range(len(SCAN_OFFSETS_S))
    ]


def _batches(
    journeys: Sequence[PlannedJourney], fmt: str, shape: ProductionShape, rng: random.Random
) -> list[Send]:
    """rapidroute's batches: filled in the order the scans happen, sent when the drawn size
    is reached or the first event has waited the linger, whichever is first."""
    events = sorted(
        (scan_time(j, index), i, index)
        for i, j in enumerate(journeys)
        if j.partner_format == fmt
        for index in range(len(SCAN_OFFSETS_S))
    )
    out: list[Send] = []
    batch: list[tuple[float, int, int]] = []
    target = rng.randint(shape.batch_min, shape.batch_max)

    def flush(at: float) -> None:
        nonlocal batch, target
        out.append(Send(at, "scan", batch[0][1], tuple((i, k) for _, i, k in batch), "batch"))
        batch = []
        target = rng.randint(shape.batch_min, shape.batch_max)

    for event in events:
        if batch and event[0] > batch[0][0] + shape.batch_linger_s:
            flush(batch[0][0] + shape.batch_linger_s)
        batch.append(event)
        if len(batch) >= target:
            flush(event[0])
    if batch:
        flush(batch[0][0] + shape.batch_linger_s)
    return out


def _snapshots(journeys: Sequence[PlannedJourney], fmt: str, shape: ProductionShape) -> list[Send]:
    """desipost's rounds: at every multiple of the period, one snapshot per shipment that has
    a scan and whose delivery no snapshot has carried yet, holding every scan so far."""
    mine = [(i, j) for i, j in enumerate(journeys) if j.partner_format == fmt]
    out: list[Send] = []
    if not mine:
        return out
    period = shape.snapshot_every_s
    last = max(scan_time(j, DELIVERY) for _, j in mine)
    for tick in range(1, math.ceil(last / period) + 2):
        at = tick * period
        for i, j in mine:
            seen = [k for k in range(len(SCAN_OFFSETS_S)) if scan_time(j, k) <= at]
            if not seen:
                continue
            if scan_time(j, DELIVERY) <= at - period:
                continue  # an earlier round carried the delivery: the shipment is done
            out.append(Send(at, "scan", i, tuple((i, k) for k in seen), "snapshot"))
    return out


def describe(sends: Sequence[Send]) -> dict[str, object]:
    """What a plan offers: requests by kind, partner events, rapidroute batch sizes, desipost
    snapshots, and the plan's span (its last send, s from the step's start)."""
    partner = [s for s in sends if s.kind == "scan"]
    sizes = sorted(len(s.scans) for s in partner if s.form == "batch")
    events = {pair for s in partner for pair in s.scans}
    return {
        "requests": len(sends),
        "returns": sum(s.kind == "return" for s in sends),
        "partner_requests": len(partner),
        "escalations": sum(s.kind == "escalation" for s in sends),
        "partner_events": len(events),
        "batches": len(sizes),
        "snapshots": sum(s.form == "snapshot" for s in partner),
        "batch_sizes": (
            {"min": sizes[0], "median": sizes[len(sizes) // 2], "max": sizes[-1]} if sizes else {}
        ),
        "span_s": round(max((s.at for s in sends), default=0.0), 2),
    }
