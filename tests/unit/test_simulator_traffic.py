"""The simulator's traffic: each partner's messages as intake's own adapters read and verify
them, cumulative desipost snapshots, true redeliveries, reordering, and determinism by seed."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from disputedesk.simulate import Marketplace, generate
from disputedesk.simulate.live import SimulationSettings, prepare, wall_clock_map
from disputedesk.simulate.marketplace import SWIFTSHIP_ONLY
from disputedesk.simulate.partners import desipost_weight, signed_request
from disputedesk.simulate.traffic import Send, TrafficOptions, plan_traffic
from services.intake.partners.adapter import AuthenticationFailed, PartnerCredential
from services.intake.partners.registry import ADAPTERS
from shared.auth import hash_key
from shared.weights import grams_from_text

SECRETS = {
    "SWIFTSHIP_SECRET": "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "RAPIDROUTE_SECRET": "rr_live_5f2c9a7e41d04b8a",
    "DESIPOST_API_KEY": "dp_live_test_key_0123456789",
}
CREDENTIALS = {
    "swiftship": [PartnerCredential(SECRETS["SWIFTSHIP_SECRET"], None, None)],
    "rapidroute": [PartnerCredential(SECRETS["RAPIDROUTE_SECRET"], None, None)],
    "desipost": [PartnerCredential(None, hash_key(SECRETS["DESIPOST_API_KEY"]), None)],
}
SMALL = Marketplace(days=10, sellers=20, buyers=300, full_lifecycle=True)
MESSY = TrafficOptions(redeliver_fraction=0.2, out_of_order_fraction=0.3, feedback_fraction=0.5)
SENT_AT = 1_795_690_005


@pytest.fixture(scope="module")
def plan() -> list[Send]:
    return plan_traffic(generate(SMALL, 4, tag="u"), MESSY, tag="u").sends


def _verify_and_parse(send: Send, sent_at: int = SENT_AT, arrives: int | None = None) -> list[str]:
    assert send.message is not None
    path, headers, body = signed_request(send.message, SECRETS, sent_at)
    assert path == f"/v1/webhooks/{send.partner_id}"
    adapter = ADAPTERS[send.message.partner_format]
    lowered = {k.lower(): v for k, v in headers.items()}
    adapter.authenticate(
        headers=lowered,
        body=body,
        credentials=CREDENTIALS[send.message.partner_format],
        now=datetime.fromtimestamp(arrives or sent_at + 5, UTC),
        tolerance_s=300,
    )
    scans = adapter.parse(headers=lowered, body=body)
    assert all(s.event_type is not None for s in scans)
    return [s.partner_event_id for s in scans]


def test_every_partner_message_verifies_and_parses_with_intakes_adapters(plan: list[Send]) -> None:
    formats = {s.message.partner_format for s in plan if s.message is not None}
    assert formats == {"swiftship", "rapidroute", "desipost"}
    for send in plan:
        if send.kind == "webhook":
            assert len(_verify_and_parse(send)) == len(send.partner_events)


def test_a_signature_made_too_long_before_arrival_is_refused(plan: list[Send]) -> None:
    for fmt in ("swiftship", "rapidroute"):
        send = next(s for s in plan if s.message and s.message.partner_format == fmt)
        with pytest.raises(AuthenticationFailed):
            _verify_and_parse(send, sent_at=SENT_AT - 400, arrives=SENT_AT)


def test_rapidroute_batches_several_returns_within_the_limit(plan: list[Send]) -> None:
    batches = [s for s in plan if s.partner_id == "rapidroute"]
    assert any(len(s.partner_events) > 1 for s in batches)
    assert all(1 <= len(s.partner_events) <= 500 for s in batches)


def test_desipost_snapshots_are_cumulative_and_new_scans_counted_once(plan: list[Send]) -> None:
    snapshots: dict[str, list[list[dict[str, str]]]] = defaultdict(list)
    for send in plan:
        if send.partner_id == "desipost" and not send.redelivery:
            assert send.message is not None
            snapshots[send.return_ids[0]].append(json.loads(send.message.body)["scans"])
    assert snapshots
    longest = 0
    for history in snapshots.values():
        # Ordered by what each snapshot knew: every one extends the one before it.
        ordered = sorted(history, key=len)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            assert later[: len(earlier)] == earlier
        longest = max(longest, len(ordered[-1]))
    assert longest >= 5
    seen: set[str] = set()
    for send in plan:
        if send.partner_id == "desipost":
            ids = _verify_and_parse(send)
            assert send.new_events == len(set(ids) - seen)
            seen |= set(ids)


def test_a_redelivery_is_the_same_message_id_and_bytes(plan: list[Send]) -> None:
    originals = {
        s.message.message_id: s for s in plan if s.message is not None and not s.redelivery
    }
    again = [s for s in plan if s.redelivery]
    assert {s.partner_id for s in again} == {"swiftship", "rapidroute", "desipost"}
    for s in again:
        assert s.message is not None
        first = originals[s.message.message_id]
        assert s.message == first.message and s.at > first.at
        assert s.new_events == 0


def test_out_of_order_scans_are_sent_after_the_scan_that_followed_them(plan: list[Send]) -> None:
    reordered = 0
    for send in plan:
        if send.kind == "webhook" and send.partner_id == "swiftship" and not send.redelivery:
            assert send.message is not None
            index = int(send.message.message_id.rsplit("_", 1)[1])
            later = [
                s
                for s in plan
                if s.kind == "webhook"
                and s.partner_id == "swiftship"
                and s.message is not None
                and not s.redelivery
                and s.return_ids == send.return_ids
                and int(s.message.message_id.rsplit("_", 1)[1]) == index + 1
            ]
            reordered += bool(later) and later[0].at < send.at
    assert reordered > 0


def test_escalations_and_feedback_follow_in_time_order(plan: list[Send]) -> None:
    times = [s.at for s in plan]
    assert times == sorted(times)
    feedback = [s for s in plan if s.kind == "feedback"]
    assert feedback and all(1 <= s.body["rating"] <= 5 for s in feedback if s.body)
    escalated = {s.return_ids[0]: s.at for s in plan if s.kind == "escalation"}
    assert all(s.at > escalated[s.return_ids[0]] for s in feedback)


def test_same_seed_same_traffic_other_seed_other_traffic() -> None:
    def fingerprint(seed: int) -> list[tuple[object, ...]]:
        sends = plan_traffic(generate(SMALL, seed, tag="d"), MESSY, tag="d").sends
        return [(s.at, s.kind, s.message, json.dumps(s.body, sort_keys=True)) for s in sends]

    assert fingerprint(5) == fingerprint(5)
    assert fingerprint(5) != fingerprint(6)


def test_a_plain_plan_sends_exactly_the_worlds_actions() -> None:
    world = generate(replace(SMALL, partners=SWIFTSHIP_ONLY, full_lifecycle=False), 2, tag="p")
    plan = plan_traffic(world)
    assert len(plan.sends) == len(world.actions) and plan.expected_duplicates == 0
    assert [s.kind for s in plan.sends] == [
        "webhook" if a.kind == "scan" else a.kind for a in world.actions
    ]


def test_agent_fraud_is_planted_only_where_scans_name_the_agent() -> None:
    world = generate(Marketplace(days=10), 3, tag="a")
    agents_of = {a.body["agent"]: a.partner_format for a in world.actions if a.kind == "scan"}
    planted = {eid for ents in world.truth.entities.values() for t, eid in ents if t == "agent"}
    assert planted and all(agents_of.get(a, "swiftship") != "desipost" for a in planted)


def test_live_times_are_in_the_past_when_sent_and_keep_each_claims_delay() -> None:
    settings = SimulationSettings(
        seed=3, days=10, sellers=20, buyers=300, rate=50, traffic=MESSY, tag="w"
    )
    start = datetime(2026, 11, 26, 9, tzinfo=UTC)
    run = prepare(settings, wall_start=start, market=SMALL)
    cmap = run.clock_map
    # One request every 1/rate seconds, and wall time never runs ahead of simulated time.
    sends = run.plan.sends
    assert abs(cmap.wall_seconds - len(sends) / 50) < len(sends) / 50 * 0.2
    walls = [cmap.wall(s.at) for s in sends]
    assert walls == sorted(walls)
    for a, b in zip(sends, sends[1:], strict=False):
        assert cmap.wall(b.at) - cmap.wall(a.at) <= b.at - a.at
    for send in run.plan.sends:
        if send.kind == "webhook":
            for scan_id in _verify_and_parse(send, int(cmap.wall(send.at).timestamp())):
                assert scan_id
        if send.kind == "return" and send.body:
            assert datetime.fromisoformat(send.body["initiated_at"]) <= cmap.wall(send.at)
    # A claim is filed (at the real time it is sent) as long after delivery as in the story.
    world = run.world
    delivered = {
        a.return_id: a.at
        for a in world.actions
        if a.kind == "scan" and a.body["type"] == "DELIVERED_TO_SELLER"
    }
    for a in world.actions:
        if a.kind == "escalation" and a.return_id in delivered:
            filed = cmap.wall(a.at)
            written = cmap(a.return_id, delivered[a.return_id])
            assert abs((filed - written) - (a.at - delivered[a.return_id])) < timedelta(seconds=1)
    draft = plan_traffic(world, MESSY, tag="w")
    assert wall_clock_map(world, draft, rate=50, wall_start=start) == cmap


def test_desipost_weights_read_back_exactly() -> None:
    for grams in (1, 45, 450, 453, 999, 1000, 1234, 4999):
        assert grams_from_text(desipost_weight(grams)) == grams


def test_the_demo_sends_its_history_quickly_so_the_first_claim_comes_within_a_minute() -> None:
    from disputedesk.simulate.live import demo_settings

    start = datetime(2026, 11, 26, 9, tzinfo=UTC)
    run = prepare(demo_settings(7, "demo"), wall_start=start)
    sends, cmap = run.plan.sends, run.clock_map
    first = next(i for i, s in enumerate(sends) if s.kind == "escalation")
    assert (cmap.wall(sends[first].at) - start).total_seconds() < 40
    # From the first claim on, the demo's own gentle pace (3 requests a second, on average).
    after = sends[first:]
    span = (cmap.wall(after[-1].at) - cmap.wall(after[0].at)).total_seconds()
    assert span >= 0.8 * (len(after) - 1) / 3.0
    # Wall time still never runs ahead of simulated time.
    for a, b in zip(sends, sends[1:], strict=False):
        assert cmap.wall(b.at) - cmap.wall(a.at) <= b.at - a.at


def test_rapidroute_as_in_production_sends_full_batches_or_after_the_wait() -> None:
    """fraud-eval's partner traffic: a batch leaves when it holds its drawn size, or when its
    first scan has waited the window; every scan goes exactly once, never before it happened."""
    world = generate(SMALL, 4, tag="u")
    wait = timedelta(hours=6)
    options = TrafficOptions(rapidroute_window=wait, rapidroute_batch=(5, 8))
    sends = [s for s in plan_traffic(world, options, tag="u").sends if s.partner_id == "rapidroute"]
    # Each scan by its partner event key (partner:return:index in the return's journey).
    journeys: dict[str, list[datetime]] = defaultdict(list)
    for a in world.actions:
        if a.kind == "scan" and a.partner_id == "rapidroute":
            journeys[a.return_id].append(a.at)
    scans = {f"rapidroute:{r}:{i}": at for r, ats in journeys.items() for i, at in enumerate(ats)}
    assert sends and scans
    sent = [e for s in sends for e in s.partner_events]
    assert sorted(sent) == sorted(scans)
    for s in sends:
        assert len(s.partner_events) <= 8
        happened = [scans[e] for e in s.partner_events]
        assert s.at >= max(happened)
        # Not full: it left because its first scan had waited the window.
        if len(s.partner_events) < 5:
            assert s.at - min(happened) <= wait + timedelta(seconds=1)
    assert any(len(s.partner_events) >= 5 for s in sends)
