"""The simulator: deterministic by seed, every pattern planted, scoring of a perfect detector."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from disputedesk.simulate import Marketplace, World, generate
from disputedesk.simulate.direct import canonical_event
from disputedesk.simulate.evaluation import (
    AlertRow,
    AssessmentRow,
    EventParties,
    event_parties,
    missed_by_cause,
    report_of,
    score_world,
)
from disputedesk.simulate.generator import PATTERNS
from disputedesk.simulate.ranges import draw_market
from shared.events import ReturnShipmentEvent, SellerEscalationFiled

SMALL = Marketplace(days=21, sellers=30, buyers=400)


def test_same_seed_same_world_and_different_seed_different_world() -> None:
    a, b, c = generate(SMALL, 7), generate(SMALL, 7), generate(SMALL, 8)

    def story(world: World) -> list[tuple[object, ...]]:
        return [(x.at, x.kind, x.body) for x in world.actions]

    assert story(a) == story(b)
    assert [x.body for x in a.actions] != [x.body for x in c.actions]


def test_a_tagged_world_is_the_seeds_world_under_other_ids() -> None:
    """fraud-eval through the pipeline tags its ids (unique on a shared broker) and compares
    with --direct's untagged world of the same seed: only the ids may differ."""
    drawn = replace(draw_market(101), days=10)  # every side stream in use: shapes, dear, hubs

    def story(world: World, tag: str) -> str:
        told = [(x.at, x.kind, x.return_id, x.body) for x in world.actions]
        return repr(told).replace(f"-{tag}-", "-TAG-")

    assert story(generate(drawn, 101), "s101") == story(
        generate(drawn, 101, tag="e101x7"), "e101x7"
    )


def test_every_pattern_is_planted_with_ground_truth_and_actions_are_in_time_order() -> None:
    world = generate(Marketplace(), 1)
    for p in PATTERNS:
        assert world.truth.entities[p], p
        assert world.truth.events[p], p
    times = [a.at for a in world.actions]
    assert times == sorted(times)
    kinds = {a.kind for a in world.actions}
    assert kinds == {"return", "scan", "escalation"}
    assert world.truth.to_json()["entities"]["pilferage"]


def test_a_perfect_detector_scores_one() -> None:
    world = generate(SMALL, 3)
    fraud_events = world.truth.fraud_events()
    rows = []
    for kind, rid in {
        ("escalation", a.return_id) for a in world.actions if a.kind == "escalation"
    } | {("terminal", r) for r in world.terminal_at}:
        planted = [p for p, evs in world.truth.events.items() if (kind, rid) in evs]
        rows.append(
            AssessmentRow(
                subject_type=(
                    "disputedesk.intake.seller_escalation_filed.v1"
                    if kind == "escalation"
                    else "disputedesk.intake.return_shipment_event.v1"
                ),
                return_id=rid,
                escalation_id=None,
                band="HIGH" if (kind, rid) in fraud_events else "LOW",
                reasons=[{"contribution": 0.9, "numbers": {"pattern": planted[0].upper()}}]
                if planted
                else [],
                event_time=world.terminal_at.get(rid) if kind == "terminal" else None,
                assessed_at=datetime.now(UTC),
            )
        )
    alerts = [
        AlertRow(p.upper(), etype, eid, {}, world.truth.first_event.get((p, etype, eid)))
        for p, ents in world.truth.entities.items()
        for etype, eid in ents
    ]
    table = score_world(world, rows, alerts)
    for p in PATTERNS:
        assert table[p]["event_recall"] == 1.0, p
        assert table[p]["entity_recall"] == 1.0, p
        assert table[p]["entity_precision"] == 1.0, p
    assert table["_honest"]["sellers_flagged"] == 0


def test_an_event_counts_by_its_latest_revision_and_by_decision_within_the_horizon() -> None:
    world = generate(SMALL, 3)
    claims = [a for a in world.actions if a.kind == "escalation"]
    planted = {
        rid: p for p, evs in world.truth.events.items() for kind, rid in evs if kind == "escalation"
    }

    def rows(revised_after: timedelta) -> list[AssessmentRow]:
        # LOW on arrival; planted claims re-assessed HIGH by an alert `revised_after` later.
        out = [
            AssessmentRow(
                "disputedesk.intake.seller_escalation_filed.v1",
                a.return_id,
                None,
                "LOW",
                [],
                a.at,
                datetime.now(UTC),
            )
            for a in claims
        ]
        out += [
            AssessmentRow(
                "disputedesk.intake.seller_escalation_filed.v1",
                a.return_id,
                None,
                "HIGH",
                [
                    {
                        "contribution": 0.9,
                        "numbers": {
                            "pattern": planted[a.return_id].upper(),
                            "revised_on_event_time": (a.at + revised_after).isoformat(),
                        },
                    }
                ],
                a.at,
                datetime.now(UTC),
                revision=1,
            )
            for a in claims
            if a.return_id in planted
        ]
        return out

    in_time = score_world(world, rows(timedelta(days=2)), [])
    late = score_world(world, rows(timedelta(days=12)), [])
    for p in PATTERNS:
        if p == "pilferage":  # incidents are terminal scans, not claims
            continue
        assert in_time[p]["event_recall_at_arrival"] == 0.0, p
        assert in_time[p]["event_recall"] == 1.0, p
        assert in_time[p]["event_recall_by_decision"] == 1.0, p
        assert in_time[p]["event_precision"] == 1.0, p
        # A revision long after the case could be revisited is the event's latest band, but
        # came too late for its decision.
        assert late[p]["event_recall"] == 1.0, p
        assert late[p]["event_recall_by_decision"] == 0.0, p
        assert late[p]["event_precision_by_decision"] is None, p
        # With no alert at all, every miss by decision is a fraudster never found.
        assert late[p]["events_missed_by_decision"]["never_alerted"] == late[p]["events_planted"], p
        assert sum(late[p]["events_missed"].values()) == 0, p


def test_a_missed_event_is_told_by_its_fraudsters_first_alert() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    seller, buyer = ("seller", "S-1"), ("buyer", "B-9")
    parties = {
        ("escalation", "R-1"): EventParties(t0, (seller, buyer)),
        ("escalation", "R-2"): EventParties(t0 + timedelta(days=10), (seller,)),
        ("escalation", "R-3"): EventParties(t0, (buyer,)),
    }
    alerted = {seller: t0 + timedelta(days=9)}  # R-1 came 9 days before it: too early
    assert missed_by_cause(set(parties), parties, alerted) == {
        "before_alert_horizon": 1,
        "never_alerted": 1,
        "otherwise": 1,
    }
    alerted = {seller: t0 + timedelta(days=6)}  # within the horizon: R-1 should have been HIGH
    assert missed_by_cause(set(parties), parties, alerted)["otherwise"] == 2
    # Judged by the latest band, an event is never too early for its alert's revisions.
    alerted = {seller: t0 + timedelta(days=9)}
    assert missed_by_cause(set(parties), parties, alerted, horizon=None) == {
        "before_alert_horizon": 0,
        "never_alerted": 1,
        "otherwise": 2,
    }


def test_direct_scoring_sees_the_events_intake_would_publish() -> None:
    world = generate(SMALL, 5)
    events = [canonical_event(world, i, a) for i, a in enumerate(world.actions)]
    assert len({event_id for event_id, _ in events}) == len(events)
    by_kind = {type(payload).__name__ for _, payload in events}
    assert by_kind == {"ReturnInitiated", "ReturnShipmentEvent", "SellerEscalationFiled"}
    scan = next(
        (a, p)
        for (_, p), a in zip(events, world.actions, strict=True)
        if isinstance(p, ReturnShipmentEvent)
        and a.body.get("weight_g")
        and a.partner_format != "desipost"
    )
    assert scan[1].weight_g == scan[0].body["weight_g"]
    assert scan[1].hub_id == scan[0].body["hub"] and scan[1].agent_id == scan[0].body["agent"]
    assert scan[1].partner_id == scan[0].partner_id
    # desipost never names the agent, so its canonical events carry none.
    assert all(
        p.agent_id is None
        for (_, p), a in zip(events, world.actions, strict=True)
        if isinstance(p, ReturnShipmentEvent) and a.partner_format == "desipost"
    )
    claim = next(p for _, p in events if isinstance(p, SellerEscalationFiled))
    assert claim.filed_at.tzinfo is not None and claim.evidence


def test_honest_high_escalations_are_told_by_their_strongest_reason() -> None:
    # Where the honest HIGH escalations come from, per reason code and per entity: what the
    # figures of the honest goal need to be acted on.
    world = generate(SMALL, 3)
    parties = event_parties(world)
    fraudsters = world.truth.fraud_entities()
    honest = sorted(
        k
        for k in parties
        if k[0] == "escalation"
        and k not in world.truth.fraud_events()
        and not set(parties[k].parties) & fraudsters
    )[:3]
    assert len(honest) == 3
    rows = [
        AssessmentRow(
            subject_type="disputedesk.intake.seller_escalation_filed.v1",
            return_id=rid,
            escalation_id=None,
            band="HIGH",
            reasons=[
                {"code": "WEAK", "contribution": 0.3, "numbers": {"entity": "buyer:B-x"}},
                {
                    "code": "SELLER_CLAIM_RATE_SEQUENTIAL",
                    "contribution": 0.81,
                    "numbers": {"pattern": "CLAIM_ABUSE", "entity": "seller:S-x"},
                },
            ],
            event_time=None,
            assessed_at=datetime.now(UTC),
        )
        for _, rid in honest
    ]
    table = score_world(world, rows, []) | {"_run": {"seed": 3}}
    h = table["_honest"]
    assert h["escalations_honest_parties_high"] == 3
    assert h["honest_high_by_reason:SELLER_CLAIM_RATE_SEQUENTIAL"] == 3
    assert h["honest_high_by_entity:seller:S-x"] == 3
    pooled = report_of([3, 3], [table, table], seconds=0.0)["pooled"]["honest"]
    assert pooled["honest_high_by_reason:SELLER_CLAIM_RATE_SEQUENTIAL"] == 6


def test_a_claim_on_a_pilfered_parcel_is_a_pilferage_event_whoever_the_seller() -> None:
    # fraud.md's evaluation counts the seller's claim on a parcel a planted hub or agent
    # pilfered as pilferage; the simulator planted only the incident's terminal scan, so such a
    # claim counted as an honest escalation (and a pilferage alert on it as a false one).
    world = generate(Marketplace(), 1)
    pilferage = world.truth.events["pilferage"]
    claimed = {a.return_id for a in world.actions if a.kind == "escalation"}
    pilfered = {rid for kind, rid in pilferage if kind == "terminal"}
    assert pilfered & claimed
    assert {("escalation", rid) for rid in pilfered & claimed} <= pilferage
    # Nothing else: an intact parcel's claim is no pilferage event.
    assert {rid for kind, rid in pilferage if kind == "escalation"} <= pilfered
    # The planted sellers' claims on pilfered parcels are among them (an abuser's too).
    sellers = {a.return_id: a.body["seller_id"] for a in world.actions if a.kind == "escalation"}
    planted_sellers = {e for t, e in world.truth.fraud_entities() if t == "seller"}
    assert any(sellers[rid] in planted_sellers for rid in pilfered & claimed)
    rows = [
        AssessmentRow(
            subject_type="disputedesk.intake.seller_escalation_filed.v1",
            return_id=rid,
            escalation_id=None,
            band="HIGH",
            reasons=[{"contribution": 0.9, "numbers": {"pattern": "PILFERAGE_AGENT"}}],
            event_time=None,
            assessed_at=datetime.now(UTC),
        )
        for rid in pilfered & claimed
    ]
    table = score_world(world, rows, [])
    assert table["_honest"]["escalations_high"] == 0
    assert table["pilferage"]["_counts"]["ev_tp"] == len(rows)
