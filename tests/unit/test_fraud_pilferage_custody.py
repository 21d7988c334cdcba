"""A pilferage incident is counted for the hub where it happened as far as the journey's scans
can tell (`features.custody`), not for every hub the journey named: desipost's pickup area and
two hubs, a hub that weighed the parcel intact, a hub that declared the loss. Shared by lot
only between the hubs the scans cannot tell apart, the same way in any arrival order."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from services.fraud.features.custody import DECLARED, WEIGHT_DROP, Seen, by_lot, custody
from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts
from shared.events import ReturnShipmentEvent, ShipmentEventType
from tests.support.fraud_events import shipment_scan

T0 = datetime(2026, 11, 24, 10, tzinfo=UTC)
PILFERAGE_METRICS = {"handled", "incidents"}
S = ShipmentEventType


def scan(
    kind: ShipmentEventType,
    hours: float,
    hub: str | None,
    *,
    weight: int | None = None,
    agent: str | None = None,
    return_id: str = "R-1",
) -> ReturnShipmentEvent:
    at = T0 + timedelta(hours=hours)
    return shipment_scan(
        kind,
        at,
        partner="desipost",
        hub=hub,
        agent=agent,
        weight=weight,
        return_id=return_id,
        awb=f"A-{return_id}",
    )


def desipost_sample(return_id: str = "R-1", delivered_g: int = 310) -> list[ReturnShipmentEvent]:
    """The shape of desipost's published snapshot: a pickup area weighing the parcel, an origin
    hub in transit, a destination hub delivering it (short: 450 g picked up, 310 g delivered)."""
    return [
        scan(S.QC_PASSED, 5.7, "Kolkata_Salt_Lake", weight=450, return_id=return_id),
        scan(S.PICKED_UP, 5.72, "Kolkata_Salt_Lake", weight=450, return_id=return_id),
        scan(S.IN_TRANSIT, 16.2, "Kolkata_Hub", return_id=return_id),
        scan(S.AT_HUB, 45.9, "Patna_Hub", return_id=return_id),
        scan(S.OUT_FOR_DELIVERY, 47.1, "Patna_Hub", return_id=return_id),
        scan(S.DELIVERED_TO_SELLER, 51.5, "Patna_Hub", weight=delivered_g, return_id=return_id),
    ]


def counts(
    scans: list[ReturnShipmentEvent], *, kept: bool = True
) -> tuple[Counter[tuple[object, ...]], ReturnFacts]:
    """The pilferage counters of the scans in the order given (`kept`: the journey's scans
    are kept, as for every return first seen since they are)."""
    f = ReturnFacts(
        return_id=scans[0].return_id,
        hubs=[],
        custody=[] if kept else None,
        incident=False,
        pair_counted=False,
    )
    inc = Increments()
    for s in scans:
        record_scan(f, s, inc, dear_from=None)
    return Counter({k: n for k, n in inc.counts.items() if k[2] in PILFERAGE_METRICS and n}), f


def of(c: Counter[tuple[object, ...]], etype: str, eid: str, metric: str) -> int:
    return sum(n for (t, i, m, _), n in c.items() if (t, i, m) == (etype, eid, metric))


def test_desipost_weight_drop_is_one_of_its_two_hubs_never_the_pickup_area() -> None:
    c, f = counts(desipost_sample())
    assert f.incident
    # The pickup area weighed it intact and never saw it again: it handled nothing.
    assert of(c, "hub", "Kolkata_Salt_Lake", "handled") == 0
    assert of(c, "hub", "Kolkata_Salt_Lake", "incidents") == 0
    for hub in ("Kolkata_Hub", "Patna_Hub"):
        assert of(c, "hub", hub, "handled") == 1
    # One incident, not two: the scans cannot tell which hub, so one of them carries it.
    assert of(c, "hub", "Kolkata_Hub", "incidents") + of(c, "hub", "Patna_Hub", "incidents") == 1
    assert of(c, "network", "hub", "incidents") == 1
    assert of(c, "network", "hub", "handled") == 2


def test_the_share_between_hubs_the_scans_cannot_tell_apart_is_even() -> None:
    carried: Counter[str] = Counter()
    for i in range(2000):
        c, _ = counts(desipost_sample(return_id=f"R-{i}"))
        for hub in ("Kolkata_Hub", "Patna_Hub"):
            carried[hub] += of(c, "hub", hub, "incidents")
    assert sum(carried.values()) == 2000
    assert 900 <= carried["Kolkata_Hub"] <= 1100, carried


def test_a_hub_that_weighed_the_parcel_intact_is_cleared_of_the_drop() -> None:
    journey = desipost_sample()
    # Patna weighed it intact on arrival: the drop happened there, after its weighing.
    journey[3] = scan(S.AT_HUB, 45.9, "Patna_Hub", weight=448)
    c, _ = counts(journey)
    assert of(c, "hub", "Patna_Hub", "incidents") == 1
    assert of(c, "hub", "Kolkata_Hub", "incidents") == 0
    assert of(c, "hub", "Kolkata_Hub", "handled") == 1


def test_a_loss_is_the_declaring_hubs_and_a_hub_never_reached_handles_nothing() -> None:
    lost_at_origin = [
        scan(S.PICKED_UP, 0, "Area", weight=800, agent="AG-1"),
        scan(S.IN_TRANSIT, 10, "Origin"),
        scan(S.LOST, 30, "Origin"),
    ]
    c, f = counts(lost_at_origin)
    assert f.incident
    assert of(c, "hub", "Origin", "incidents") == 1 and of(c, "hub", "Origin", "handled") == 1
    assert of(c, "hub", "Area", "handled") == 0
    # The agent is counted as before: it picked up a parcel that became an incident.
    assert of(c, "agent", "AG-1", "incidents") == 1
    # A loss declared without a hub: the last hub that held it.
    unnamed = [*lost_at_origin[:2], scan(S.LOST, 30, None)]
    c, _ = counts(unnamed)
    assert of(c, "hub", "Origin", "incidents") == 1


def test_one_hub_journeys_count_as_they_always_did() -> None:
    journey = [
        scan(S.QC_PASSED, 0, "H-1", weight=1000, agent="AG-1"),
        scan(S.DELIVERED_TO_SELLER, 50, "H-1", weight=600, agent="AG-1"),
    ]
    kept, _ = counts(journey)
    old, _ = counts(journey, kept=False)
    assert kept == old
    assert of(kept, "hub", "H-1", "incidents") == 1
    assert of(kept, "hub_agent", "H-1|AG-1", "incidents") == 1


def test_a_return_first_seen_before_scans_were_kept_counts_every_hub_named() -> None:
    c, _ = counts(desipost_sample(), kept=False)
    for hub in ("Kolkata_Salt_Lake", "Kolkata_Hub", "Patna_Hub"):
        assert of(c, "hub", hub, "incidents") == 1


JOURNEYS = {
    "desipost sample": desipost_sample()[:3] + desipost_sample()[5:],
    "intact at the destination": [
        scan(S.PICKED_UP, 0, "Area", weight=1000, agent="AG-2"),
        scan(S.AT_HUB, 20, "Dest", weight=995),
        scan(S.DELIVERED_TO_SELLER, 50, "Dest", weight=500),
    ],
    "lost after transit": [
        scan(S.PICKED_UP, 0, "Area", weight=800, agent="AG-3"),
        scan(S.IN_TRANSIT, 10, "Origin"),
        scan(S.LOST, 30, "Dest"),
    ],
}


@pytest.mark.parametrize("name", sorted(JOURNEYS))
def test_every_arrival_order_counts_the_journey_as_in_order(name: str) -> None:
    journey = JOURNEYS[name]
    in_order, facts = counts(journey)
    assert in_order
    for order in itertools.permutations(journey):
        got, f = counts(list(order))
        assert (got, f.incident) == (in_order, facts.incident), [s.event_type.value for s in order]


def test_a_late_weighing_moves_the_incident_to_the_hub_it_points_at() -> None:
    """The drop first counted for the hub the lot drew gives it back when a late scan shows
    the other hub held the parcel intact."""
    for i in range(40):
        rid = f"R-{i}"
        pickup, transit, delivered = (
            scan(S.PICKED_UP, 0, "Area", weight=1000, return_id=rid),
            scan(S.IN_TRANSIT, 10, "Origin", return_id=rid),
            scan(S.DELIVERED_TO_SELLER, 50, "Dest", weight=500, return_id=rid),
        )
        late = scan(S.AT_HUB, 30, "Origin", weight=1000, return_id=rid)
        c, _ = counts([pickup, transit, delivered, late])
        assert of(c, "hub", "Dest", "incidents") == 1
        assert of(c, "hub", "Origin", "incidents") == 0
        assert of(c, "network", "hub", "incidents") == 1


def test_custody_names_the_candidates_the_lot_was_drawn_among() -> None:
    seen = [
        Seen(T0, "Area", 450, "pickup"),
        Seen(T0 + timedelta(hours=10), "Origin", None, "scan"),
        Seen(T0 + timedelta(hours=40), "Dest", 310, "end"),
    ]
    found = custody("R-9", seen, pickup_weight_g=450, incident=WEIGHT_DROP)
    assert found.handled == ("Origin", "Dest")
    assert found.candidates == ("Origin", "Dest")
    assert found.incident_hub == by_lot("R-9", ("Origin", "Dest"))
    declared = custody("R-9", seen, pickup_weight_g=450, incident=DECLARED)
    assert declared.candidates == ("Dest",)
    assert custody("R-9", seen, pickup_weight_g=450, incident=None).incident_hub is None
