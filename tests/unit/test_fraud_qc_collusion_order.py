"""QC contradictions and collusion do not depend on the order a journey's scans arrive in: a QC or
pickup scan sent after the delivery, or after the claim, still gives the QC agent and hub their
pass and its contradiction, and the pickup agent its handled and disputed returns of the buyer,
each on the day it would have had with every scan in order."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from services.fraud.features.repository import CountKey, PairKey
from services.fraud.features.service import Increments, record_claim, record_scan
from services.fraud.models import ReturnFacts
from shared.events import (
    ClaimType,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)
from tests.support.fraud_events import seller_claim, shipment_scan

T0 = datetime(2026, 1, 10, 9, tzinfo=UTC)
Event = ReturnShipmentEvent | SellerEscalationFiled


def scan(
    kind: ShipmentEventType,
    hours: float,
    *,
    hub: str | None = "H-1",
    agent: str | None = None,
    weight: int | None = None,
) -> ReturnShipmentEvent:
    at = T0 + timedelta(hours=hours)
    return shipment_scan(kind, at, hub=hub, agent=agent, weight=weight)


def claim(kind: ClaimType, hours: float) -> SellerEscalationFiled:
    return seller_claim(kind, T0 + timedelta(hours=hours))


def counted(events: list[Event]) -> tuple[dict[CountKey, int], dict[PairKey, int]]:
    """Every count and pair count the events make, in the order given."""
    f = ReturnFacts(
        return_id="R-1",
        buyer_id="B-1",
        seller_id="S-1",
        category="fashion",
        hubs=[],
        incident=False,
        pair_counted=False,
    )
    inc = Increments()
    for e in events:
        if isinstance(e, SellerEscalationFiled):
            record_claim(f, e, inc, window_h=168, late_margin_h=12)
        else:
            record_scan(f, e, inc, dear_from=None)
    return (
        {k: n for k, n in inc.counts.items() if n},
        {k: n for k, n in inc.pairs.items() if n},
    )


def arrivals(scans: list[ReturnShipmentEvent], filed: Event) -> Iterator[list[Event]]:
    """Every order of the scans, and the claim at every place among them (a seller claims on a
    parcel delivered to them, but the delivery's scan, and what it was delivered with, may
    reach fraud after the claim)."""
    for order in itertools.permutations(scans):
        for at in range(len(order) + 1):
            yield [*order[:at], filed, *order[at:]]


TERMINAL = {ShipmentEventType.DELIVERED_TO_SELLER, ShipmentEventType.LOST}
QC = ShipmentEventType.QC_PASSED
PICKED_UP = ShipmentEventType.PICKED_UP
AT_HUB = ShipmentEventType.AT_HUB
DELIVERED = ShipmentEventType.DELIVERED_TO_SELLER

JOURNEYS = {
    # A wrong item claimed on a parcel passed at QC and delivered whole: the QC agent's and
    # hub's contradiction, the buyer named on their pass, the agent's dispute of the buyer.
    "qc-pass-wrong-item": (
        [
            scan(QC, 0, hub="H-ORIGIN", agent="AG-1", weight=1000),
            scan(AT_HUB, 20, hub="H-DEST"),
            scan(DELIVERED, 50, hub="H-DEST", weight=990),
        ],
        claim(ClaimType.WRONG_ITEM, 80),
    ),
    # QC and pickup scans apart (the full lifecycle), delivered light: still a contradiction,
    # but the weight drop explains the item, so the buyer is not named.
    "qc-then-pickup-light-used-item": (
        [
            scan(QC, 0, hub="H-ORIGIN", agent="AG-1", weight=1000),
            scan(PICKED_UP, 0.1, hub="H-ORIGIN", agent="AG-1", weight=1000),
            scan(DELIVERED, 50, hub="H-DEST", weight=600),
        ],
        claim(ClaimType.USED_ITEM, 60),
    ),
    # No QC: collusion's pair only, and the seller's missing item with its weight intact.
    "pickup-missing-item": (
        [
            scan(PICKED_UP, 0, hub="H-ORIGIN", agent="AG-2", weight=800),
            scan(AT_HUB, 20, hub="H-DEST"),
            scan(DELIVERED, 50, hub="H-DEST", weight=795),
        ],
        claim(ClaimType.MISSING_ITEM, 55),
    ),
    # desipost's shape: no agent named, QC at the pickup area, two hubs after it.
    "unnamed-agent-two-hubs": (
        [
            scan(QC, 0, hub="AREA-1", weight=450),
            scan(AT_HUB, 17, hub="H-A"),
            scan(AT_HUB, 40, hub="H-B"),
            scan(DELIVERED, 52, hub="H-B", weight=440),
        ],
        claim(ClaimType.WRONG_ITEM, 75),
    ),
}


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_every_arrival_order_counts_qc_and_collusion_as_in_order(name: str) -> None:
    scans, filed = JOURNEYS[name]
    in_order = counted([*scans, filed])
    assert in_order[0] and in_order[1]  # the journey is counted at all
    tried = 0
    for events in arrivals(scans, filed):
        tried += 1
        assert counted(events) == in_order, [
            e.event_type.value if isinstance(e, ReturnShipmentEvent) else "CLAIM" for e in events
        ]
    assert tried > len(scans)


def test_a_qc_scan_after_the_claim_contradicts_the_pass_on_the_claims_day() -> None:
    scans, filed = JOURNEYS["qc-pass-wrong-item"]
    qc, at_hub, delivered = scans
    counts, pairs = counted([at_hub, delivered, filed])
    d = filed.filed_at.date()
    # Without the QC scan, the claim contradicts nothing and the agent disputes nothing.
    assert ("agent", "AG-1", "qc_contradictions", d) not in counts
    assert ("agent_buyer", "AG-1", "B-1", "disputed") not in pairs
    counts, pairs = counted([at_hub, delivered, filed, qc])
    for etype, eid in (("agent", "AG-1"), ("hub", "H-ORIGIN")):
        assert counts.get((etype, eid, "qc_contradictions", d)) == 1
        assert counts.get((etype, eid, "qc_passed", qc.occurred_at.date())) == 1
    assert counts.get(("network", "agent", "qc_contradictions", d)) == 1
    assert pairs.get(("qc_agent_buyer", "AG-1", "B-1", "contradicted")) == 1
    assert pairs.get(("qc_agent_buyer", "AG-1", "B-1", "delivered")) == 1
    assert pairs.get(("qc_hub_buyer", "H-ORIGIN", "B-1", "named")) == 1
    assert pairs.get(("agent_buyer", "AG-1", "B-1", "handled")) == 1
    assert pairs.get(("agent_buyer", "AG-1", "B-1", "disputed")) == 1


def test_a_late_pickup_weight_that_reveals_a_drop_unnames_the_buyer() -> None:
    scans, filed = JOURNEYS["qc-then-pickup-light-used-item"]
    qc, pickup, delivered = scans
    counts, pairs = counted([delivered, filed, qc, pickup])
    d = filed.filed_at.date()
    # Counted at the claim as a named claim (no pickup weight yet); the late weight shows the
    # parcel lost 400 g, which names the partner's handling, not the buyer.
    assert ("buyer", "B-1", "named_claims", d) not in counts
    assert ("seller_buyer", "S-1", "B-1", "named") not in pairs
    assert ("qc_agent_buyer", "AG-1", "B-1", "named") not in pairs
    assert counts.get(("agent", "AG-1", "qc_contradictions", d)) == 1


def test_the_networks_agent_buyer_returns_count_only_parcels_naming_their_agent() -> None:
    """The network's dispute rate for agent-buyer pairs is disputes over returns of parcels
    whose pickup agent is named; a parcel naming none is no pair's, and must lower neither."""
    unnamed, filed = JOURNEYS["unnamed-agent-two-hubs"]
    named, _ = JOURNEYS["qc-pass-wrong-item"]
    for scans, expected in ((unnamed, False), (named, True)):
        counts, _ = counted([*scans, filed])
        net = {m: n for (e, i, m, _), n in counts.items() if (e, i) == ("network", "agent_buyer")}
        assert net == ({"handled": 1, "disputed": 1} if expected else {}), scans[0].agent_id
