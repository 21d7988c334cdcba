"""The end-to-end benchmark's pure figures: percentiles, backlog slope, the sustained verdict,
and how a sink file is matched to its escalation."""

from __future__ import annotations

import json

import pytest

from bench import e2e
from bench.e2e import (
    classify_email,
    highest_sustained,
    latency_summary,
    percentile,
    slope_per_s,
    sustained_verdict,
)


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100, given unsorted below
    shuffled = values[50:] + values[:50]
    assert percentile(shuffled, 50) == pytest.approx(50.5)
    assert percentile(shuffled, 95) == pytest.approx(95.05)
    assert percentile(shuffled, 99) == pytest.approx(99.01)
    assert percentile(shuffled, 100) == 100.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) is None


def test_latency_summary_reports_milliseconds_and_the_missing() -> None:
    summary = latency_summary([0.1, 0.2, 0.3, 0.4, 2.0], missing=2)
    assert summary == {
        "count": 5,
        "missing": 2,
        "p50_ms": 300.0,
        "p95_ms": 1680.0,
        "p99_ms": 1936.0,
        "max_ms": 2000.0,
    }
    assert latency_summary([], missing=3)["p95_ms"] is None


def test_slope_of_a_growing_a_flat_and_a_draining_backlog() -> None:
    assert slope_per_s([(t, 10.0 * t + 5) for t in range(10)]) == pytest.approx(10.0)
    # A backlog that only jitters (40, 46, 40, ...) has a slope near zero: 15 / 82.5.
    assert slope_per_s([(t, 40.0 + (t % 2) * 6) for t in range(10)]) == pytest.approx(15 / 82.5)
    assert slope_per_s([(t, 100.0 - 4 * t) for t in range(10)]) == pytest.approx(-4.0)
    assert slope_per_s([(1.0, 5.0)]) == 0.0
    assert slope_per_s([(1.0, 5.0), (1.0, 9.0)]) == 0.0


def test_a_step_keeping_up_is_sustained() -> None:
    verdict = sustained_verdict(
        offered_per_s=287,
        achieved_per_s=283,
        backlog_slope_per_s=3.0,
        end_backlog=120,
        messages_per_s=574,
        completed_share=1.0,
    )
    assert verdict.sustained and verdict.reasons == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"achieved_per_s": 250.0}, "accepted 250.0/s of 287.0/s offered"),
        ({"backlog_slope_per_s": 40.0}, "backlog grew 40.0 messages/s"),
        ({"end_backlog": 2000.0}, "backlog 2000 messages at the end of the step"),
        ({"completed_share": 0.9}, "only 90.0% of escalations reached a decision email"),
        ({"backlog_samples": 1}, "backlog sampled 1 times only (machine too busy)"),
    ],
)
def test_each_way_of_falling_behind_is_named(change: dict[str, float], reason: str) -> None:
    figures = {
        "offered_per_s": 287.0,
        "achieved_per_s": 287.0,
        "backlog_slope_per_s": 0.0,
        "end_backlog": 0.0,
        "messages_per_s": 574.0,
        "completed_share": 1.0,
        "backlog_samples": 20,
    } | change
    verdict = sustained_verdict(**figures)
    assert not verdict.sustained
    assert verdict.reasons == [reason]


def test_highest_sustained_is_the_largest_multiplier_that_held() -> None:
    steps = [
        {"multiplier": 0.25, "sustained": True},
        {"multiplier": 0.5, "sustained": False},  # a noisy neighbour's burst
        {"multiplier": 1.0, "sustained": True},
        {"multiplier": 1.5, "sustained": False},
    ]
    assert highest_sustained(steps) == {"multiplier": 1.0, "sustained": True}
    assert highest_sustained([{"multiplier": 1.0, "sustained": False}]) is None


def test_sink_files_are_matched_to_their_return_and_kind() -> None:
    name = "20261126T123456.250000Z-6a1c0f5e-0000-4000-8000-000000000001.eml"
    ack = b"From: desk\nSubject: [CASE-1A] We have your claim about return RET-E2EAB12-0000042\n"
    decision = (
        b"From: desk\nSubject: [CASE-1A] Your claim about return RET-E2EAB12-0000042 is "
        b"=?utf-8?q?partly_approved=3A_=E2=82=B9450?=\n"
    )
    other = b"Subject: [ALERT] Hub H-01 stands out\n"
    rid, kind, arrived = classify_email(name, ack) or ("", "", 0.0)
    assert (rid, kind) == ("RET-E2EAB12-0000042", "ack")
    assert arrived == pytest.approx(1795696496.25)
    assert classify_email(name, decision)[:2] == ("RET-E2EAB12-0000042", "decision")  # type: ignore[index]
    assert classify_email(name, other) is None
    assert classify_email("not-a-stamp.eml", ack) is None


def test_fraud_latency_is_taken_from_the_records_own_timestamps() -> None:
    obs = e2e.Observations()
    obs.escalation_accepted["R-1"] = (100.0, 0)
    escalation = json.dumps(
        {"type": "disputedesk.intake.seller_escalation_filed.v1", "return_id": "R-1"}
    ).encode()
    assessment = json.dumps({"return_id": "R-1", "escalation_id": "E-1"}).encode()
    # The reader saw both late and together; the relays published them 0.3 s apart.
    e2e._note_event(obs, "intake.returns.v1", escalation, 105.0, published=100.2)
    e2e._note_event(obs, "fraud.assessments.v1", assessment, 105.0, published=100.5)
    figures = e2e.step_figures(
        obs, step=0, multiplier=1.0, seconds=10.0, window=(100.0, 110.0), samples=[], cpu={}
    )
    stage = figures["escalation_stages"]["escalation_event→assessment_published"]
    assert stage["count"] == 1 and abs(stage["p50_ms"] - 300.0) < 1e-6
    # Every stage is taken at its record's timestamp, not when this (starved) reader saw it.
    assert figures["escalation_stages"]["accepted→fraud_assessed"]["p50_ms"] == 500.0
    assert figures["escalation_stages"]["accepted→on_intake_topic"]["p50_ms"] == 200.0


def test_a_plan_is_judged_over_its_own_span_and_cpu_is_also_per_event() -> None:
    """The last escalation comes 4 s after the last feed entry (a production mix's last batch
    later still): a pipeline that answers every request on time accepts at the offered rate,
    not at step/span of it (25/29 = 86 % for an idle pipeline, before)."""
    obs = e2e.Observations()
    t0 = 1000.0
    for i in range(90):  # 90 requests, the last accepted when the plan sent it, at 14 s
        obs.accepted[("scan", 0)] += 1
        obs.scan_accepted[(f"R-{i // 3}", ("A", "B", "C")[i % 3])] = (t0 + i * 14 / 89, 0)
    obs.accepted[("return", 0)] = 30
    obs.accepted[("escalation", 0)] = 10
    plan = {"requests": 130, "span_s": 14.0, "partner_events": 90, "returns": 30, "escalations": 10}
    cpu = {"intake": 0.5, "elapsed_s": 20.0, "machine_busy_cores": 1.0}
    figures = e2e.step_figures(
        obs,
        step=0,
        multiplier=1.0,
        seconds=10.0,
        window=(t0, t0 + 14.0),
        samples=[],
        cpu={},
        cpu_whole_step=cpu,
        plan=plan,
    )
    assert figures["offered"]["requests_per_s"] == round(130 / 14, 1)
    assert figures["accepted"]["requests_per_s"] == round(130 / 14, 1)
    assert not any("accepted" in r for r in figures["not_sustained_because"])
    # 10 s of CPU: 76.9 ms per request, 76.9 per event here (one event per request).
    assert figures["cpu_ms_per_request"]["intake"] == round(10_000 / 130, 2)
    assert figures["events_accepted"] == 130
    assert figures["cpu_ms_per_event"]["intake"] == round(10_000 / 130, 2)
