"""The fraud latency benchmark's stream and figures: the goal's event rate, one return's events
as the pipeline would publish them, latencies matched by escalation, the promise's verdict."""

from __future__ import annotations

import uuid

import pytest

from bench.e2e import BacklogSample, latency_summary
from bench.fraud_latency import Seen, Stream, escalation_latencies, events_per_s, step_verdict
from services.fraud.scoring.handlers import handlers
from shared.events import (
    CaseDecided,
    CaseOpened,
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    topic_for,
)


def test_the_goal_stream_is_327_events_a_second() -> None:
    # 200 partner scans/s are 66.7 returns/s (three scans each, plus the feed entry), and each
    # of the 20 escalations/s brings its case's opening and decision.
    assert events_per_s(1.0) == pytest.approx(200 / 3 * 4 + 60)
    assert events_per_s(0.5) == pytest.approx(events_per_s(1.0) / 2)


def test_a_journey_is_what_intake_and_reconciliation_publish_in_order() -> None:
    stream = Stream(seed=1, tag="T")
    quiet = stream.journey(escalate=False)
    assert [type(p) for _, p in quiet] == [ReturnInitiated, *[ReturnShipmentEvent] * 3]
    claimed = stream.journey(escalate=True)
    kinds = [type(p) for _, p in claimed]
    assert kinds == [
        ReturnInitiated,
        *[ReturnShipmentEvent] * 3,
        SellerEscalationFiled,
        CaseOpened,
        CaseDecided,
    ]
    offsets = [o for o, _ in claimed]
    assert offsets == sorted(offsets)  # the escalation follows the delivery, the case follows it
    escalation = claimed[4][1]
    assert isinstance(escalation, SellerEscalationFiled) and len(escalation.evidence) == 3
    assert {p.return_id for _, p in claimed} == {escalation.return_id}
    assert quiet[0][1].return_id != escalation.return_id
    # Every event lands on a topic fraud consumes, and fraud scores all but the case's opening.
    assert {topic_for(p).name for _, p in claimed} == {
        "intake.returns.v1",
        "reconciliation.cases.v1",
    }
    assert [handlers.handler_for(p.ce_type) is not None for _, p in claimed].count(False) == 1


def test_latencies_are_matched_by_escalation_and_the_unassessed_counted() -> None:
    a, b, c, other_step = (uuid.uuid4() for _ in range(4))
    seen = Seen(
        escalations={a: (0, 100.0), b: (0, 100.5), c: (0, 101.0), other_step: (1, 100.0)},
        assessed={a: 100.25, b: 101.5, other_step: 100.1},
    )
    latencies, missing = escalation_latencies(seen, 0)
    assert sorted(latencies) == [0.25, 1.0] and missing == 1


def _lag(points: list[tuple[float, int]]) -> list[BacklogSample]:
    return [BacklogSample(t, {"fraud": lag}, {}) for t, lag in points]


def test_the_promise_holds_only_within_a_second_with_every_escalation_assessed() -> None:
    flat = _lag([(0, 10), (1, 12), (2, 9), (3, 11)])
    assert step_verdict(latency_summary([0.2, 0.3, 0.4]), flat, rate=300) == []
    slow = step_verdict(latency_summary([0.2, 1.5, 1.6, 1.7]), flat, rate=300)
    assert len(slow) == 1 and "p95" in slow[0]
    lost = step_verdict(latency_summary([0.2], missing=2), flat, rate=300)
    assert lost == ["2 escalations never assessed"]
    growing = step_verdict(latency_summary([0.2]), _lag([(0, 0), (1, 100), (2, 200)]), rate=300)
    assert len(growing) == 1 and "lag grew" in growing[0]


def test_a_step_may_be_given_the_time_to_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU per event compares two runs only when each handled every event: a loaded machine
    needs longer than the default drain for that."""
    from bench.fraud_latency import Settings

    assert Settings.from_env().max_drain_s == 45
    monkeypatch.setenv("BENCH_FRAUD_LATENCY_DRAIN_S", "150")
    assert Settings.from_env().max_drain_s == 150
