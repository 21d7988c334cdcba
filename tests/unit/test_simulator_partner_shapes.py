"""Partners' published shapes in drawn worlds: rapidroute parcels that name no pickup agent,
desipost journeys that name a pickup area and pass an origin and a destination hub, weighed at
pickup and delivery only, their incident the ground truth's at the hub where it happened."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from typing import Any

from disputedesk.simulate.generator import World, generate
from disputedesk.simulate.partners import rapidroute_body
from disputedesk.simulate.ranges import DEV_SEEDS, draw_market
from services.fraud.features.custody import weight_drop


def _world(seed: int) -> World:
    market = draw_market(seed)
    return generate(replace(market, days=14), seed)


def _journeys(world: World, partner: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in world.actions:
        if a.kind == "scan" and a.partner_format == partner:
            out[a.return_id].append(a.body)
    return out


def test_every_drawn_world_draws_a_share_of_rapidroute_parcels_without_an_agent() -> None:
    shares = [draw_market(seed).rapidroute_agentless_share for seed in DEV_SEEDS]
    assert all(0.2 <= s <= 0.8 for s in shares)
    world = _world(101)
    journeys = _journeys(world, "rapidroute")
    unnamed = [rid for rid, scans in journeys.items() if all(s["agent"] is None for s in scans)]
    share = draw_market(101).rapidroute_agentless_share
    assert abs(len(unnamed) / len(journeys) - share) < 0.1
    # Rendered as rapidroute's sample is: no `agent` key at all.
    scan = journeys[unnamed[0]][0]
    event = json.loads(rapidroute_body([("evt-1", scan)]))["events"][0]
    assert "agent" not in event


def test_desipost_journeys_pass_a_pickup_area_and_two_hubs_weighed_at_both_ends() -> None:
    world = _world(101)
    hubs = world.truth.hubs
    for rid, scans in _journeys(world, "desipost").items():
        scans.sort(key=lambda s: s["at"])
        places = [s["hub"] for s in scans]
        assert places[0].startswith("PA-") and places[0] not in hubs, rid
        route = list(dict.fromkeys(places[1:]))
        assert 1 <= len(route) <= 2 and set(route) <= hubs, rid
        weighed = [s for s in scans if s["weight_g"] is not None]
        assert weighed[0] is scans[0]
        assert all(s["type"] == "DELIVERED_TO_SELLER" for s in weighed[1:]), rid


def test_a_desipost_incident_is_counted_for_one_hub_of_its_route() -> None:
    world = _world(101)
    truth = world.truth
    journeys = _journeys(world, "desipost")
    desipost_hubs = {s["hub"] for scans in journeys.values() for s in scans} & truth.hubs
    incidents = 0
    for scans in journeys.values():
        scans.sort(key=lambda s: s["at"])
        picked, end = scans[0]["weight_g"], scans[-1]
        if end["type"] != "DELIVERED_TO_SELLER" or weight_drop(picked, end["weight_g"]):
            incidents += 1
    counted = sum(truth.relevant[("pilferage", "hub", hub)] for hub in desipost_hubs)
    # Once each (a pilferer's incidents before its onset are not its practice's, so not
    # counted), where counting every hub named would count each twice.
    assert 0.8 * incidents <= counted <= incidents
