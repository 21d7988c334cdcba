"""The seller-buyer pair's counts read by orders: the items of one order, returned and claimed
together, are one trial of the buyer's (`collusion.counted_by_order`)."""

from __future__ import annotations

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
