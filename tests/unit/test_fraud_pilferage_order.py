"""Pilferage counts do not depend on the order a journey's scans arrive in: a scan sent after
the journey's end (a pickup scan after the delivery, a hub's scan after the loss) still counts
its hub, agent and weight drop, on the end's day, as if it had come first."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts
from shared.events import ReturnShipmentEvent, ShipmentEventType
from tests.support.fraud_events import shipment_scan

T0 = datetime(2026, 1, 10, 9, tzinfo=UTC)
PILFERAGE_METRICS = {"handled", "incidents"}


def scan(
    kind: ShipmentEventType,
    hours: float,
    *,
    hub: str | None = "H-1",
    agent: str | None = None,
    weight: int | None = None,
) -> ReturnShipmentEvent:
    at = T0 + timedelta(hours=hours)
    return shipment_scan(kind, at, partner="rapidroute", hub=hub, agent=agent, weight=weight)


def pilferage_counts(
    scans: list[ReturnShipmentEvent], *, kept: bool = False
) -> tuple[Counter[tuple[object, ...]], bool]:
    """The hub, agent, network and hub-agent handled/incident counts of the scans, in the
    order given, and whether the parcel ended as an incident (`kept`: the journey's scans are
    kept and the incident is its hub's where it happened, `features.custody`; otherwise every
    hub named, as for a return first seen before they were kept)."""
    f = ReturnFacts(
        return_id="R-1", hubs=[], custody=[] if kept else None, incident=False, pair_counted=False
    )
    inc = Increments()
    for s in scans:
        record_scan(f, s, inc, dear_from=None)
    counts = Counter({k: n for k, n in inc.counts.items() if k[2] in PILFERAGE_METRICS and n})
    return counts, f.incident


DELIVERED_LIGHT = [
    scan(ShipmentEventType.QC_PASSED, 0, hub="H-ORIGIN", agent="AG-1", weight=1000),
    scan(ShipmentEventType.AT_HUB, 20, hub="H-DEST"),
    # Picked up at 1000 g, delivered at 600 g: a weight drop, two days later.
    scan(ShipmentEventType.DELIVERED_TO_SELLER, 50, hub="H-DEST", weight=600),
]
LOST = [
    scan(ShipmentEventType.PICKED_UP, 0, hub="H-ORIGIN", agent="AG-2", weight=800),
    scan(ShipmentEventType.AT_HUB, 20, hub="H-DEST"),
    scan(ShipmentEventType.LOST, 50, hub=None),
]
DELIVERED_WHOLE = [
    scan(ShipmentEventType.PICKED_UP, 0, hub="H-ORIGIN", agent="AG-3", weight=1000),
    scan(ShipmentEventType.AT_HUB, 20, hub="H-DEST"),
    scan(ShipmentEventType.DELIVERED_TO_SELLER, 50, hub="H-DEST", weight=990),
]


@pytest.mark.parametrize("kept", [True, False])
@pytest.mark.parametrize("journey", [DELIVERED_LIGHT, LOST, DELIVERED_WHOLE])
def test_every_arrival_order_counts_the_journey_as_in_order(
    journey: list[ReturnShipmentEvent], kept: bool
) -> None:
    in_order, incident = pilferage_counts(journey, kept=kept)
    assert in_order  # the journey is counted at all
    for order in itertools.permutations(journey):
        assert pilferage_counts(list(order), kept=kept) == (in_order, incident), [
            s.event_type.value for s in order
        ]


def test_a_pickup_scan_after_the_delivery_reveals_its_weight_drop_on_the_delivery_day() -> None:
    pickup, at_hub, delivered = DELIVERED_LIGHT
    f = ReturnFacts(return_id="R-1", hubs=[], incident=False, pair_counted=False)
    inc = Increments()
    assert not record_scan(f, at_hub, inc, dear_from=None)
    assert record_scan(f, delivered, inc, dear_from=None)
    # Counted at the end without the pickup weight: no weight drop yet, no agent.
    d = delivered.occurred_at.date()
    assert not f.incident and inc.counts[("hub", "H-DEST", "handled", d)] == 1
    assert ("hub", "H-DEST", "incidents", d) not in inc.counts
    # Not an end: the next terminal scans of these hubs and this agent read what it added.
    assert not record_scan(f, pickup, inc, dear_from=None)
    assert f.incident
    for etype, eid in (("hub", "H-DEST"), ("hub", "H-ORIGIN"), ("agent", "AG-1")):
        assert inc.counts[(etype, eid, "incidents", d)] == 1, (etype, eid)
        assert inc.counts[(etype, eid, "handled", d)] == 1, (etype, eid)
    assert inc.counts[("hub_agent", "H-DEST|AG-1", "incidents", d)] == 1
    # Nothing counted on the pickup's own day.
    assert not any(k[3] == pickup.occurred_at.date() for k in inc.counts if k[2] != "qc_passed")


def test_a_late_scan_that_adds_nothing_counts_nothing() -> None:
    pickup, at_hub, delivered = DELIVERED_LIGHT
    f = ReturnFacts(return_id="R-1", hubs=[], incident=False, pair_counted=False)
    inc = Increments()
    for s in (pickup, at_hub, delivered):
        record_scan(f, s, inc, dear_from=None)
    before = dict(inc.counts)
    # The same hub again (a second hub scan, a redelivered snapshot's scan under a new id).
    record_scan(f, at_hub, inc, dear_from=None)
    record_scan(f, pickup, inc, dear_from=None)
    assert dict(inc.counts) == before
