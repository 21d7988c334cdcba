"""A weight drop the scans leave to two hubs (rapidroute and desipost weigh only at pickup and
delivery) is shared by the evidence of the pair's edge, not by lot (`custody.pair_shares`): the
receiver is read on the parcels its other senders sent it, the sender on those it sent its
other receivers. A hub that pilfers what it receives loses parcels from many senders and keeps
most of its shared drops; a sender whose drops are high only towards that receiver gives them
up. The journey counts what the rule needs (the edge's parcels and drops, each hub's shared
drops and the lot's draw), in any arrival order."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

from services.fraud.features.custody import (
    EDGE,
    EDGE_DROPS,
    EDGE_HANDLED,
    EDGE_METRICS,
    EDGE_RECEIVER_LAST,
    EDGE_SENDER_LAST,
    by_pairs,
    days_by_pairs,
    drops_by_pairs,
    edge_id,
    pair_shares,
)
from services.fraud.features.service import Increments, record_scan
from services.fraud.models import ReturnFacts
from shared.events import ReturnShipmentEvent
from tests.unit.test_fraud_pilferage_custody import desipost_sample

SHARED = {"shared_last", "lot_last", "shared_earlier", "lot_earlier", *EDGE_METRICS}


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


EDGE_KP = edge_id("Kolkata_Hub", "Patna_Hub")


def test_a_drop_between_two_hubs_is_counted_on_their_edge_and_shared_by_both() -> None:
    c = shared_counts(desipost_sample())
    assert c[(EDGE, EDGE_KP, EDGE_HANDLED)] == 1
    assert c[(EDGE, EDGE_KP, EDGE_DROPS)] == 1
    # The receiver ended the journey (its part is the last), the sender held an earlier one.
    assert c[(EDGE, EDGE_KP, EDGE_RECEIVER_LAST)] == 1
    assert c[(EDGE, EDGE_KP, EDGE_SENDER_LAST)] == 0
    assert c[("hub", "Kolkata_Hub", "shared_earlier")] == 1
    assert c[("hub", "Patna_Hub", "shared_last")] == 1
    # The lot's draw, already in the winner's incidents: exactly one of the two.
    assert c[("hub", "Kolkata_Hub", "lot_earlier")] + c[("hub", "Patna_Hub", "lot_last")] == 1
    # The pickup area held no part of the journey: no edge, nothing shared.
    assert not [k for k in c if "Kolkata_Salt_Lake" in k[1]]


def test_an_intact_journey_passes_its_edge_and_shares_nothing() -> None:
    assert shared_counts(desipost_sample(delivered_g=450)) == Counter(
        {(EDGE, EDGE_KP, EDGE_HANDLED): 1}
    )


def test_what_is_counted_does_not_depend_on_the_arrival_order() -> None:
    journey = desipost_sample()
    in_order = shared_counts(journey)
    for order in itertools.permutations(journey):
        assert shared_counts(list(order)) == in_order


def edge(parcels: int, drops: int) -> dict[str, int]:
    """A sender -> receiver edge whose receiver ended every journey (desipost's shape)."""
    return {EDGE_HANDLED: parcels, EDGE_DROPS: drops, EDGE_RECEIVER_LAST: drops}


def network(**unusual: dict[str, int]) -> dict[str, dict[str, int]]:
    """Six senders S0-S5 each sending 200 parcels to each of six receivers R0-R5, 4 drops an
    edge (2 %), with the edges named in `unusual` (`S0_R1=edge(...)`) replaced."""
    edges = {edge_id(f"S{s}", f"R{r}"): edge(200, 4) for s in range(6) for r in range(6)}
    for name, row in unusual.items():
        sender, receiver = name.split("_")
        edges[edge_id(sender, receiver)] = row
    return edges


def test_an_ordinary_network_keeps_the_lots_even_share() -> None:
    shares = pair_shares(network())
    assert set(shares) == {f"S{i}" for i in range(6)} | {f"R{i}" for i in range(6)}
    assert all(abs(s - 0.5) < 1e-9 for parts in shares.values() for s in parts.values())
    # The senders' shares are of drops in the earlier part, the receivers' in the last.
    assert set(shares["S0"]) == {"earlier"}
    assert set(shares["R0"]) == {"last"}


def test_a_receiver_pilfering_from_every_sender_keeps_most_of_its_drops() -> None:
    # R0 loses 12 of every sender's 200 parcels (3x the network's 2 %).
    shares = pair_shares(network(**{f"S{s}_R0": edge(200, 12) for s in range(6)}))
    assert shares["R0"]["last"] > 0.65
    # The senders give up most of the drops towards R0 and stay even elsewhere: each sender's
    # share of all its drops falls below the lot's even chance.
    for s in range(6):
        assert shares[f"S{s}"]["earlier"] < 0.5
    assert all(abs(shares[f"R{r}"]["last"] - 0.5) < 0.05 for r in range(1, 6))


def test_a_sender_high_only_towards_one_receiver_gives_those_drops_to_the_receiver() -> None:
    # S0's drops are 3x only on the parcels it sends R0, R0 pilfers from every sender: S0 is
    # ordinary on its other edges and takes less than the lot's half of its drops towards R0.
    edges = network(**{f"S{s}_R0": edge(200, 12) for s in range(6)})
    alone = pair_shares({edge_id("S0", "R0"): edge(200, 12)})
    assert abs(alone["S0"]["earlier"] - 0.5) < 1e-9
    s0 = pair_shares(edges)["S0"]["earlier"]
    drops = sum(row[EDGE_DROPS] for name, row in edges.items() if name.startswith("S0>"))
    # What S0 is left with is below what the lot's even chance would give it.
    assert s0 * drops < drops / 2


def test_a_sender_pilfering_what_it_sends_keeps_its_drops_alike() -> None:
    shares = pair_shares(network(**{f"S0_R{r}": edge(200, 12) for r in range(6)}))
    assert shares["S0"]["earlier"] > 0.65
    assert all(shares[f"R{r}"]["last"] < 0.5 for r in range(6))


def test_one_receiver_with_a_bad_edge_from_one_sender_is_not_read_as_pilfering() -> None:
    # Only S0 -> R0 runs high: neither hub is high on its other edges, so neither takes much
    # more than the lot's half of that edge (the pair cannot tell them apart).
    shares = pair_shares(network(S0_R0=edge(200, 12)))
    assert abs(shares["R0"]["last"] - 0.5) < 0.05
    assert abs(shares["S0"]["earlier"] - 0.5) < 0.05


def test_every_drop_is_shared_out_whole() -> None:
    edges = network(**{f"S{s}_R0": edge(200, 12) for s in range(6)}, S3_R4=edge(50, 5))
    shares = pair_shares(edges)
    given = sum(
        shares[h]["earlier"] * sum(r[EDGE_DROPS] for n, r in edges.items() if n.startswith(h))
        for h in shares
        if h.startswith("S")
    ) + sum(
        shares[h]["last"] * sum(r[EDGE_DROPS] for n, r in edges.items() if n.endswith(h))
        for h in shares
        if h.startswith("R")
    )
    assert abs(given - sum(r[EDGE_DROPS] for r in edges.values())) < 1e-6


def test_a_hub_with_few_parcels_elsewhere_stays_near_the_lots_share() -> None:
    # R9 received 20 parcels from S1 with 2 drops (5x the network's rate, on a handful) and
    # shares 6 with S0: the prior holds its share near even.
    edges = network(S0_R9=edge(100, 6), S1_R9=edge(20, 2))
    assert 0.5 < pair_shares(edges)["R9"]["last"] < 0.6


def test_the_window_and_its_days_move_alike_in_whole_incidents() -> None:
    shares = {"last": 0.75}
    window = {
        "handled": 571,
        "incidents": 35,
        "handled_last": 571,
        "incidents_last": 35,
        "shared_last": 24,
        "lot_last": 8,
    }
    moved = by_pairs(window, shares)
    assert moved["incidents"] == 35 + 10
    assert moved["incidents_last"] == 35 + 10
    days = {
        date(2026, 11, d): {"handled": 20, "incidents": 1, "shared_last": 1, "lot_last": d % 2}
        for d in range(1, 25)
    }
    by_day = days_by_pairs(days, shares)
    gain = sum(v["incidents"] for v in by_day.values()) - sum(v["incidents"] for v in days.values())
    assert gain == round(drops_by_pairs({"shared_last": 24, "lot_last": 12}, shares))
    assert all(isinstance(v["incidents"], int) and v["incidents"] >= 0 for v in by_day.values())
