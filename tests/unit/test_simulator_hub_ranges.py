"""The simulator's hubs as the independent world has them: honest hubs whose loss rates differ
(a careful city hub, a rural hub on bad roads), and pilferage that starts partway through the
world rather than on its first day."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from disputedesk.simulate import Marketplace, World, generate
from disputedesk.simulate.marketplace import FraudPlan, HonestBehaviour, PartnerNetwork
from disputedesk.simulate.ranges import draw_market

TERMINAL = ("DELIVERED_TO_SELLER", "LOST", "DAMAGED_IN_TRANSIT")

# Many parcels over few hubs, so that each hub's honest rate is measured closely; no bad day,
# so that only the hubs' own rates set them apart.
BUSY = Marketplace(
    days=42,
    sellers=40,
    buyers=900,
    partners=(PartnerNetwork("swiftship", 10, 2, "swiftship"),),
    honest=HonestBehaviour(returns_per_day=120.0, bad_day_incident_rate=0.0),
)


def _honest_hub_rates(world: World) -> dict[str, float]:
    """Every hub untouched by planted pilferage (neither pilfering nor holding a pilfering
    agent): its incidents per handled parcel."""
    planted = {eid for etype, eid in world.truth.entities.get("pilferage", set())}
    handled: Counter[str] = Counter()
    touched: set[str] = set(planted)
    for a in world.actions:
        if a.kind == "scan" and a.body["type"] in TERMINAL:
            handled[a.body["hub"]] += 1
            if a.body.get("agent") in planted:
                touched.add(a.body["hub"])
    incidents = {
        eid: n
        for (pattern, etype, eid), n in world.truth.relevant.items()
        if pattern == "pilferage" and etype == "hub"
    }
    return {h: incidents.get(h, 0) / n for h, n in handled.items() if h not in touched}


def test_honest_hubs_loss_rates_differ_when_drawn_so() -> None:
    alike = _honest_hub_rates(generate(BUSY, 11))
    unalike_market = replace(BUSY, honest=replace(BUSY.honest, hub_incident_factors=(0.4, 2.5)))
    unalike = _honest_hub_rates(generate(unalike_market, 11))
    assert len(alike) >= 3 and len(unalike) >= 3
    spread = max(alike.values()) / min(alike.values())
    assert max(unalike.values()) / min(unalike.values()) > max(2.0, 1.5 * spread)


def test_pilferage_that_starts_midway_plants_nothing_before_it_starts() -> None:
    plan = replace(FraudPlan(), pilferage_intensity=(3.0, 3.0), pilferage_onset=(0.5, 0.5))
    market = replace(BUSY, fraud=plan)
    world = generate(market, 12)
    firsts = [at for (p, _, _), at in world.truth.first_event.items() if p == "pilferage"]
    assert firsts
    assert min(firsts) >= market.start + timedelta(days=market.days // 2)
    # A planted entity's relevant events and realized intensity are those of its practice:
    # counted from its onset, so a late pilferer is not diluted by its honest weeks.
    assert all(v >= 2.0 for (p, _, _), v in world.truth.realized.items() if p == "pilferage")


def test_dev_ranges_draw_unalike_hubs_and_late_pilferage() -> None:
    drawn = [draw_market(seed) for seed in range(101, 109)]
    assert all(m.honest.hub_incident_factors is not None for m in drawn)
    assert all(m.fraud.pilferage_onset is not None for m in drawn)
