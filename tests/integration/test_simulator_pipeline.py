"""A small simulated marketplace through the running pipeline, as `disputedesk simulate` sends
it: all three partner formats, redeliveries, out-of-order scans, escalations and feedback, each
partner event accepted exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from disputedesk.simulate.live import SimulationSettings, prepare, send_plan
from disputedesk.simulate.marketplace import FraudPlan, HonestBehaviour, Marketplace
from disputedesk.simulate.outbound import Tally
from disputedesk.simulate.traffic import TrafficOptions
from tests.conftest import Harness
from tests.support.db import scalar

TINY = Marketplace(
    days=4,
    sellers=16,
    buyers=200,
    full_lifecycle=True,
    honest=HonestBehaviour(returns_per_day=5.0),
    fraud=FraudPlan(
        planted_seller_returns=6,
        wrong_used_buyers=1,
        wrong_used_returns_each=3,
        seller_buyer_rings=1,
        seller_buyer_returns=3,
        agent_buyer_rings=1,
        agent_buyer_returns=2,
        identity_rings=1,
        identity_ring_buyers=2,
        identity_ring_returns_each=1,
    ),
)


async def test_simulated_traffic_is_accepted_once_in_every_partner_format(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    tag = f"it{uuid.uuid4().hex[:6]}"
    settings = SimulationSettings(
        seed=11,
        rate=10_000,
        tag=tag,
        traffic=TrafficOptions(
            redeliver_fraction=0.25, out_of_order_fraction=0.3, feedback_fraction=0.5
        ),
    )
    # The plan's wall times all lie just behind us: every request leaves at once, and every
    # time it carries is in the past, as intake's real clock requires.
    run = prepare(settings, market=TINY, wall_start=datetime.now(UTC) - timedelta(seconds=5))
    plan = run.plan
    partners = {s.partner_id for s in plan.sends if s.kind == "webhook"}
    assert partners == {"swiftship", "rapidroute", "desipost"}
    assert {s.partner_id for s in plan.sends if s.redelivery} == partners
    assert plan.expected_duplicates > 0 and plan.by_kind["feedback"] > 0

    tally = Tally()
    await send_plan(run, intake.client, harness.secrets, tally=tally, concurrency=6)

    assert not tally.rejected and tally.unreachable == 0
    # Honest traffic feeds each return before its scans and escalations: nothing held or refused.
    assert not +tally.held and not +tally.refused
    assert tally.total_accepted == len(plan.sends)
    # Every partner event became one canonical event; everything sent again was a duplicate.
    assert sum(tally.events_accepted.values()) == plan.scans
    assert sum(tally.duplicates.values()) == plan.expected_duplicates
    for partner in partners:
        name = f"webhook/{partner}"
        assert tally.events_accepted[name] == tally.expected_new[name] > 0, name
        assert tally.duplicates[name] > 0, name
    like = f"RET-{tag}-%"
    stored = await scalar(
        intake, "SELECT count(*) FROM shipment_events WHERE return_id LIKE :p", p=like
    )
    distinct = await scalar(
        intake,
        "SELECT count(DISTINCT (partner_id, partner_event_id)) FROM shipment_events "
        "WHERE return_id LIKE :p",
        p=like,
    )
    assert stored == distinct == plan.scans
    assert (
        await scalar(intake, "SELECT count(*) FROM returns WHERE return_id LIKE :p", p=like)
        == plan.by_kind["return"]
    )
    assert (
        await scalar(
            intake,
            "SELECT count(*) FROM escalations WHERE return_id LIKE :p AND state = 'filed'",
            p=like,
        )
        == plan.by_kind["escalation"]
    )
    assert (
        await scalar(intake, "SELECT count(*) FROM held_scans WHERE return_id LIKE :p", p=like) == 0
    )
    assert (
        await scalar(intake, "SELECT count(*) FROM seller_feedback WHERE return_id LIKE :p", p=like)
        == plan.by_kind["feedback"]
    )
