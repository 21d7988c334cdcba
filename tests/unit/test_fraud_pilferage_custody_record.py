"""A weight drop the scans leave to several hubs (rapidroute and desipost weigh only at pickup
and delivery) is shared by each hub's record in that part of the journey, not by lot
(`custody.record_shares`): a hub that pilfers the parcels it receives keeps the drops its
senders drew, an ordinary hub keeps about the lot's even share. The journey counts what the
rule needs (the drops it shared, among how many hubs, and the lot's draw), in any arrival
order."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

from services.fraud.features.custody import (
    by_record,
    days_by_record,
    drops_by_record,
    record_shares,
)
from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts
from shared.events import ReturnShipmentEvent
from tests.unit.test_fraud_pilferage_custody import desipost_sample

SHARED = {"shared_last", "among_last", "lot_last", "shared_earlier", "among_earlier", "lot_earlier"}


def shared_counts(scans: list[ReturnShipmentEvent]) -> Counter[tuple[str, str, str]]:
    f = ReturnFacts(
        return_id=scans[0].return_id, hubs=[], custody=[], incident=False, pair_counted=False
    )
    inc = Increments()
    for s in scans:
        record_scan(f, s, inc, dear_from=None)
    out: Counter[tuple[str, str, str]] = Counter()
    for (etype, eid, metric, _day), n in inc.counts.items():
        if metric in SHARED and n:
            out[(etype, eid, metric)] += n
    return out


def test_a_drop_between_two_hubs_is_counted_as_shared_by_both_and_drawn_for_one() -> None:
    c = shared_counts(desipost_sample())
    assert c[("hub", "Kolkata_Hub", "shared_earlier")] == 1
    assert c[("hub", "Patna_Hub", "shared_last")] == 1
    assert c[("hub", "Kolkata_Hub", "among_earlier")] == 2
    assert c[("hub", "Patna_Hub", "among_last")] == 2
    # The lot's draw, already in the winner's incidents: exactly one of the two.
    assert c[("hub", "Kolkata_Hub", "lot_earlier")] + c[("hub", "Patna_Hub", "lot_last")] == 1
    # The pickup area held no part of the journey: it shares nothing.
    assert not [k for k in c if k[1] == "Kolkata_Salt_Lake"]


def test_an_intact_journey_shares_nothing() -> None:
    assert shared_counts(desipost_sample(delivered_g=450)) == Counter()


def test_what_is_shared_does_not_depend_on_the_arrival_order() -> None:
    journey = desipost_sample()
    in_order = shared_counts(journey)
    for order in itertools.permutations(journey):
        assert shared_counts(list(order)) == in_order


def row(
    part: str, handled: int, placed: int, shared: int, lot: int, among: int = 2
) -> dict[str, int]:
    return {
        "handled": handled,
        "incidents": placed + lot,
        f"handled_{part}": handled,
        f"incidents_{part}": placed + lot,
        f"shared_{part}": shared,
        f"among_{part}": among * shared,
        f"lot_{part}": lot,
    }


def network(pilferer: dict[str, int]) -> dict[str, dict[str, int]]:
    """Ten ordinary receiving hubs (500 parcels, 10 losses and damage declared, 15 drops
    shared with their senders, 7 of them drawn) and one more."""
    hubs = {f"H{i}": row("last", 500, 10, 15, 7) for i in range(10)}
    hubs["P"] = pilferer
    return hubs


def test_an_ordinary_hub_keeps_about_the_lots_even_share() -> None:
    shares = record_shares(network(row("last", 500, 10, 15, 8)))
    assert abs(shares["P"]["last"] - 0.5) < 0.02
    assert all(abs(s["last"] - 0.5) < 0.02 for s in shares.values())


def test_a_hub_harming_the_parcels_it_receives_keeps_more_of_its_shared_drops() -> None:
    # 4242's JPR-MLV-04 as counted: 27 declared on 571 received parcels, 23 drops shared with
    # its senders of which the lot gave it 8.
    shares = record_shares(network(row("last", 571, 27, 23, 8)))
    assert shares["P"]["last"] > 0.6
    gained = drops_by_record(row("last", 571, 27, 23, 8), shares["P"])
    assert gained > 5
    # The ordinary hubs give up a little of theirs, none of them more than the pilferer gains.
    assert all(shares[f"H{i}"]["last"] < 0.5 for i in range(10))


def test_a_hub_read_off_a_few_incidents_stays_near_the_lots_share() -> None:
    # Three declared in 60 parcels is 2.5x the network, on a handful: the record's prior holds it.
    shares = record_shares(network(row("last", 60, 3, 2, 1)))
    assert 0.5 < shares["P"]["last"] < 0.6


def test_a_drop_among_more_hubs_is_a_smaller_share() -> None:
    two = record_shares(network(row("last", 500, 10, 15, 5, among=2)))["P"]["last"]
    three = record_shares(network(row("last", 500, 10, 15, 5, among=3)))["P"]["last"]
    assert three < two


def test_a_hub_that_shares_nothing_or_alone_in_its_part_is_left_as_counted() -> None:
    assert record_shares({"A": row("last", 500, 10, 0, 0)}) == {}
    # No other hub's record in the part to read a rate from.
    assert record_shares({"A": row("last", 500, 10, 15, 7)}) == {}


def test_the_window_and_its_days_move_alike_in_whole_incidents() -> None:
    shares = {"last": 0.75}
    window = row("last", 571, 27, 24, 8)
    moved = by_record(window, shares)
    assert moved["incidents"] == 27 + 18
    assert moved["incidents_last"] == 27 + 18
    days = {
        date(2026, 11, d): {"handled": 20, "incidents": 1, "shared_last": 1, "lot_last": d % 2}
        for d in range(1, 25)
    }
    by_day = days_by_record(days, shares)
    gain = sum(v["incidents"] for v in by_day.values()) - sum(v["incidents"] for v in days.values())
    assert gain == round(drops_by_record({"shared_last": 24, "lot_last": 12}, shares))
    assert all(isinstance(v["incidents"], int) and v["incidents"] >= 0 for v in by_day.values())
