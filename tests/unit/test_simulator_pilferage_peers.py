"""A planted pilferer's intensity is a multiple of its peers' honest rate as the detector weighs
them (a hub: the other hubs; an agent: its hub-mates), not of the world's: where honest hubs
differ, a "3x" hub or agent must be 3x the entities it is compared with."""

from __future__ import annotations

from dataclasses import replace

from disputedesk.simulate.generator import _Generator
from disputedesk.simulate.marketplace import (
    FraudPlan,
    HonestBehaviour,
    Marketplace,
    PartnerNetwork,
)

INTENSITY = 3.0
# Hubs that differ widely, so that the world's rate and a peer's rate are far apart.
MARKET = Marketplace(
    days=28,
    sellers=40,
    buyers=600,
    partners=(PartnerNetwork("swiftship", 8, 3, "swiftship"),),
    honest=HonestBehaviour(hub_incident_factors=(0.4, 2.5)),
    fraud=replace(
        FraudPlan(),
        pilfering_hubs=2,
        pilfering_agents=3,
        pilferage_intensity=(INTENSITY, INTENSITY),
        pilferage_onset=(0.0, 0.0),
    ),
)


def _whole_rate(gen: _Generator, entity: tuple[str, str]) -> float:
    """What the entity's parcels end in an incident at: its pilferage, and its hub's honest
    incidents on the parcels it did not take (`journey`)."""
    hub = entity[1] if entity[0] == "hub" else next(h for h, a in gen.agents if a == entity[1])
    own = gen.m.honest.incident_rate * gen.hub_factor[hub]
    extra = gen.pilfer_rate[entity]
    return extra + (1 - extra) * own


def test_a_planted_agent_is_its_intensity_times_its_own_hubs_honest_rate() -> None:
    for seed in range(5):
        gen = _Generator(MARKET, seed, f"t{seed}")
        rate = gen.m.honest.incident_rate
        for hub, agent in gen.agents:
            if agent in gen.pilfering_agents:
                mates = rate * gen.hub_factor[hub]
                assert abs(_whole_rate(gen, ("agent", agent)) - INTENSITY * mates) < 1e-9


def test_a_planted_hub_is_its_intensity_times_the_other_hubs_honest_rate() -> None:
    seen_apart = False
    for seed in range(5):
        gen = _Generator(MARKET, seed, f"t{seed}")
        rate = gen.m.honest.incident_rate
        for hub in gen.pilfering_hubs:
            others = [h for h in gen.hubs if h != hub]
            weight = sum(gen.hub_share[h] for h in others)
            peers = rate * sum(gen.hub_share[h] * gen.hub_factor[h] for h in others) / weight
            assert abs(_whole_rate(gen, ("hub", hub)) - INTENSITY * peers) < 1e-9
            # The case this is about: the other hubs are not the world's rate.
            seen_apart |= abs(peers / rate - 1) > 0.1
    assert seen_apart


def test_hub_shares_follow_the_agents_workloads() -> None:
    gen = _Generator(replace(MARKET, agent_workload_spread=0.8), 3, "t3")
    assert abs(sum(gen.hub_share.values()) - 1) < 1e-9
    assert max(gen.hub_share.values()) > min(gen.hub_share.values())
