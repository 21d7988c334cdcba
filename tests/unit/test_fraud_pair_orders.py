"""The seller-buyer pair's counts read by orders: the items of one order, returned and claimed
together, are one trial of the buyer's (`collusion.counted_by_order`)."""

from __future__ import annotations

from datetime import date

from services.fraud.detectors import collusion
from services.fraud.detectors.stats import Thresholds

T = Thresholds()


def item(order: str, *, claimed: bool, delivered: bool = True) -> collusion.PairItem:
    return collusion.PairItem(order_id=order, delivered=delivered, claimed=claimed)


def test_two_items_of_one_order_both_claimed_are_one_claimed_delivery() -> None:
    items = [item("O-1", claimed=True), item("O-1", claimed=True)]
    assert collusion.counted_by_order(2, 2, items) == (1, 1)


def test_one_claimed_item_makes_the_order_claimed() -> None:
    items = [item("O-1", claimed=True), item("O-1", claimed=False), item("O-1", claimed=False)]
    # Three items of one order and two single-item returns, one claimed among them.
    assert collusion.counted_by_order(2, 5, items) == (2, 3)


def test_separate_orders_keep_their_counts() -> None:
    assert collusion.counted_by_order(3, 3, []) == (3, 3)
    items = [item("O-1", claimed=True), item("O-1", claimed=True)]
    items += [item("O-2", claimed=True), item("O-2", claimed=True)]
    assert collusion.counted_by_order(4, 4, items) == (2, 2)


def test_an_item_claimed_before_its_delivery_is_a_claim_of_its_order() -> None:
    items = [item("O-1", claimed=True), item("O-1", claimed=True, delivered=False)]
    assert collusion.counted_by_order(2, 1, items) == (1, 1)


def test_an_honest_sellers_one_order_claimed_as_a_whole_is_no_ring() -> None:
    # The items of one buyer's two-item order, both claimed; the buyer's third return went to
    # another seller. Item by item the pair stands out; by order, one claim in one delivery
    # does not.
    share = 0.0005
    itemwise = collusion.seller_buyer_findings(
        "S-1",
        "B-1",
        2,
        2,
        800,
        20_000,
        T,
        loyalty=collusion.Loyalty(pair_delivered=2, buyer_delivered=3, seller_share=share),
    )
    assert itemwise and itemwise[0].contribution >= 0.5
    k, n = collusion.counted_by_order(2, 2, [item("O-1", claimed=True), item("O-1", claimed=True)])
    by_order = collusion.seller_buyer_findings(
        "S-1",
        "B-1",
        k,
        n,
        800,
        20_000,
        T,
        loyalty=collusion.Loyalty(pair_delivered=n, buyer_delivered=2, seller_share=share),
    )
    assert not by_order or by_order[0].contribution < 0.5


# The accounts behind one contact or address: a delivery and a claim count on their own days,
# over the window's days (`collusion.identity_counted_by_order`).
SINCE, UNTIL = date(2026, 5, 1), date(2026, 6, 25)


def at_home(
    order: str, *, delivered: date | None, claimed: date | None = None
) -> collusion.IdentityReturn:
    return collusion.IdentityReturn(order_id=order, delivered_on=delivered, claimed_on=claimed)


def test_a_households_multi_item_order_is_one_claimed_delivery_of_the_address() -> None:
    d, c = date(2026, 6, 1), date(2026, 6, 2)
    returns = [at_home("O-1", delivered=d, claimed=c), at_home("O-1", delivered=d, claimed=c)]
    returns += [at_home("O-2", delivered=d, claimed=c), at_home("O-2", delivered=d)]
    # A two-item order claimed as a whole, one with one item claimed, and two single returns,
    # one claimed: 4 of 6 by item, 3 of 4 orders.
    assert collusion.identity_counted_by_order(4, 6, returns, SINCE, UNTIL) == (3, 4)


def test_a_ring_claiming_on_separate_orders_keeps_its_counts_at_the_address() -> None:
    assert collusion.identity_counted_by_order(4, 4, [], SINCE, UNTIL) == (4, 4)


def test_only_what_the_window_counted_is_taken_back() -> None:
    before, inside = date(2026, 4, 20), date(2026, 5, 3)
    # One order's first item delivered and claimed before the window, its second inside: the
    # window counted one of each, and takes nothing back.
    returns = [
        at_home("O-1", delivered=before, claimed=before),
        at_home("O-1", delivered=inside, claimed=inside),
    ]
    assert collusion.identity_counted_by_order(1, 1, returns, SINCE, UNTIL) == (1, 1)
    # Delivered before the window, both claimed inside it: one claim of the order.
    returns = [
        at_home("O-2", delivered=before, claimed=inside),
        at_home("O-2", delivered=before, claimed=inside),
    ]
    assert collusion.identity_counted_by_order(2, 0, returns, SINCE, UNTIL) == (1, 0)
    # The window's last day is in it; an item not yet delivered is no delivery.
    returns = [
        at_home("O-3", delivered=UNTIL, claimed=UNTIL),
        at_home("O-3", delivered=None, claimed=UNTIL),
    ]
    assert collusion.identity_counted_by_order(2, 1, returns, SINCE, UNTIL) == (1, 1)


def test_a_household_claiming_its_multi_item_orders_as_a_whole_is_no_shared_identity_ring() -> None:
    # Two accounts at one address, two two-item orders each claimed as a whole, and two single
    # returns unclaimed: 4 of 6 by item, 2 of 4 orders.
    d = date(2026, 6, 1)
    returns = [at_home(o, delivered=d, claimed=d) for o in ("O-1", "O-1", "O-2", "O-2")]
    itemwise = collusion.shared_identity_findings(
        "address", "a" * 64, "B-1", 2, 4, 6, 800, 20_000, T
    )
    assert itemwise and itemwise[0].contribution >= 0.5
    k, n = collusion.identity_counted_by_order(4, 6, returns, SINCE, UNTIL)
    assert (k, n) == (2, 4)
    by_order = collusion.shared_identity_findings(
        "address", "a" * 64, "B-1", 2, k, n, 800, 20_000, T
    )
    assert not by_order or by_order[0].contribution < 0.5
