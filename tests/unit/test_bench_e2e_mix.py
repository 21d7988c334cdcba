"""The end-to-end benchmark's traffic mixes: when each request is sent and what it carries."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bench.e2e.mix import (
    ESCALATION_AFTER_DELIVERY_S,
    PlannedJourney,
    ProductionShape,
    describe,
    plan_step,
)
from bench.e2e.settings import SCAN_OFFSETS_S

FORMATS = ("desipost", "rapidroute", "swiftship")


def _journeys(n: int, rate: float, *, escalate_every: int = 3) -> list[PlannedJourney]:
    return [
        PlannedJourney(i / rate, FORMATS[i % 3], escalate=i % escalate_every == 0) for i in range(n)
    ]


def _partner(sends, fmt, journeys):  # type: ignore[no-untyped-def]
    return [s for s in sends if s.kind == "scan" and journeys[s.journey].partner_format == fmt]


def test_even_mix_sends_every_scan_as_it_happens() -> None:
    journeys = _journeys(30, rate=10.0)
    sends = plan_step(journeys, mix="even")
    assert [s.at for s in sends] == sorted(s.at for s in sends)
    for fmt in ("rapidroute", "swiftship"):
        for s in _partner(sends, fmt, journeys):
            ((i, index),) = s.scans
            assert s.at == pytest.approx(journeys[i].start + SCAN_OFFSETS_S[index])
    # desipost's request is the history so far, one per scan.
    desi = _partner(sends, "desipost", journeys)
    assert Counter(len(s.scans) for s in desi) == {1: 10, 2: 10, 3: 10}
    assert all(s.form == "snapshot" for s in desi)
    # The escalation comes 4 s after the feed entry, 2.5 s after the delivery.
    escalations = [s for s in sends if s.kind == "escalation"]
    assert len(escalations) == 10
    for s in escalations:
        assert s.at == pytest.approx(journeys[s.journey].start + 4.0)
    summary = describe(sends)
    assert summary["requests"] == 30 + 90 + 10
    assert summary["partner_events"] == 90
    assert summary["batches"] == 0


def test_production_rapidroute_batches_hold_50_to_500_events_within_the_linger() -> None:
    journeys = _journeys(3000, rate=67.0)  # 1,000 rapidroute journeys, 3,000 events
    shape = ProductionShape(batch_linger_s=5.0, snapshot_every_s=5.0)
    sends = plan_step(journeys, mix="production", shape=shape, rng=random.Random(3))
    batches = _partner(sends, "rapidroute", journeys)
    assert all(s.form == "batch" for s in batches)
    carried = Counter(pair for s in batches for pair in s.scans)
    expected = {
        (i, k) for i, j in enumerate(journeys) if j.partner_format == "rapidroute" for k in range(3)
    }
    assert set(carried) == expected and set(carried.values()) == {1}  # each event once
    sizes = [len(s.scans) for s in batches]
    assert max(sizes) <= 500
    assert all(size >= 50 for size in sizes[:-1])  # the step's last batch may be short
    assert len(set(sizes)) > 3  # drawn per batch, not one size
    for s in batches:
        times = [journeys[i].start + SCAN_OFFSETS_S[k] for i, k in s.scans]
        assert max(times) <= s.at + 1e-9  # nothing sent before it happened
        assert s.at <= min(times) + shape.batch_linger_s + 1e-9  # nor held past the linger


def test_production_rapidroute_at_a_low_rate_is_sent_by_the_linger() -> None:
    journeys = _journeys(60, rate=3.0)  # 20 rapidroute journeys: 60 events over 20 s
    shape = ProductionShape(batch_min=50, batch_max=50, batch_linger_s=5.0)
    sends = plan_step(journeys, mix="production", shape=shape)
    batches = _partner(sends, "rapidroute", journeys)
    assert len(batches) >= 4 and all(len(s.scans) < 50 for s in batches)


def test_production_desipost_sends_cumulative_snapshots_each_period_until_delivered() -> None:
    journeys = _journeys(90, rate=9.0)  # 30 desipost journeys over 10 s
    shape = ProductionShape(snapshot_every_s=2.0)
    sends = plan_step(journeys, mix="production", shape=shape)
    snaps = _partner(sends, "desipost", journeys)
    assert all(s.form == "snapshot" for s in snaps)
    assert {s.at for s in snaps} <= {2.0 * k for k in range(1, 10)}  # on the rounds only
    by_journey: dict[int, list] = {}
    for s in snaps:
        by_journey.setdefault(s.journey, []).append(s)
    assert len(by_journey) == 30
    for i, own in by_journey.items():
        j = journeys[i]
        for s in own:
            # The history so far: every scan that had happened by the round, in order.
            seen = [k for k in range(3) if j.start + SCAN_OFFSETS_S[k] <= s.at]
            assert [k for _, k in s.scans] == seen
        # Sent until a snapshot carried the delivery, then no more.
        assert [len(s.scans) for s in own][-1] == 3
        assert sum(len(s.scans) == 3 for s in own) == 1


def test_production_swiftship_sends_single_events_and_escalations_follow_the_delivery() -> None:
    journeys = _journeys(300, rate=30.0)
    sends = plan_step(journeys, mix="production", shape=ProductionShape.for_step(10.0))
    swift = _partner(sends, "swiftship", journeys)
    assert len(swift) == 300 and all(len(s.scans) == 1 for s in swift)
    delivered = {i: s.at for s in sends if s.kind == "scan" for i, k in s.scans if k == 2}
    escalations = [s for s in sends if s.kind == "escalation"]
    assert len(escalations) == 100
    for s in escalations:
        assert s.at == pytest.approx(delivered[s.journey] + ESCALATION_AFTER_DELIVERY_S)
    summary = describe(sends)
    assert summary["partner_events"] == 900
    assert summary["requests"] < 300 + 900 + 100  # fewer requests than events
    assert summary["span_s"] >= 10.0


def test_an_unknown_mix_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown traffic mix"):
        plan_step(_journeys(3, 1.0), mix="bursty")
