"""A seller's multi-item orders in its claim-rate record (`claim_abuse.OrderTrials`, on with
FRAUD_SELLER_ORDER_TRIALS): the items of one order, returned and found faulty together, are one
trial, each item 1/m of it and its claim 1/m of a claim.

Checked here: the reading itself; that it keeps the claim rate (an abuser claiming over one
order claims at the rate it would over separate orders, so it gains nothing but the fewer
trials its orders are); an open delivery that is part of a trial; and, simulated, honest sellers
whose multi-item orders are claimed together: counted item by item they reach the alert far
above the stated rate, read by orders within it, while abusers of single-item orders are read
exactly as before."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from services.fraud.detectors.claim_abuse import (
    HonestDelays,
    OpenDelivery,
    OrderItem,
    OrderTrials,
    min_deliveries,
    open_windows_log_bf,
)
from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_log_bf

S = Sequential(alpha=1e-2)
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def item(rid: str, order: str, *, claimed: bool, day: float = 0.0, cat: str = "c") -> OrderItem:
    return OrderItem(rid, order, cat, T0 + timedelta(days=day), claimed)


def test_orders_of_one_item_leave_the_record_as_counted() -> None:
    orders = OrderTrials.of([item("r1", "o1", claimed=True), item("r2", "o2", claimed=False)])
    assert orders.items == ()
    assert orders.read(7, 30) == (7, 30)
    assert orders.share("r1") == 1.0


def test_an_order_claimed_together_is_one_claim_in_one_trial() -> None:
    # Three items of one order, all claimed; two of another, one claimed.
    orders = OrderTrials.of(
        [
            *(item(f"a{i}", "oa", claimed=True) for i in range(3)),
            item("b0", "ob", claimed=True),
            item("b1", "ob", claimed=False),
        ]
    )
    assert orders.orders == 2
    assert orders.share("a1") == 1 / 3 and orders.share("b1") == 0.5
    # 10 claims in 40 deliveries counted by item: 4 claims (3 + 1) become 1.5, 5 deliveries 2.
    k, n = orders.read(10, 40)
    assert abs(k - 7.5) < 1e-9 and abs(n - 37) < 1e-9


def test_only_the_items_the_record_holds_are_read_by_orders() -> None:
    orders = OrderTrials.of(
        [
            item("x0", "ox", claimed=True, day=0, cat="c"),
            item("x1", "ox", claimed=True, day=0, cat="d"),
            item("y0", "oy", claimed=True, day=20),
            item("y1", "oy", claimed=True, day=20),
        ]
    )
    # In category c only x0 of order ox is read (at half a trial), both of oy.
    assert orders.read(6, 20, ["c"]) == (4.5, 18.5)
    # The recent weeks from day 10: only oy.
    assert orders.read(6, 20, ["c"], since=T0 + timedelta(days=10)) == (5.0, 19.0)


def test_claims_spread_over_an_order_keep_the_claim_rate() -> None:
    # Twenty two-item orders and eighteen claims, however they fall over the orders: read by
    # orders the rate stays 18 / 40; only the trials are the orders' twenty.
    for together in (0, 5, 9):
        claims = {f"o{i}": 2 for i in range(together)}
        rest = 18 - 2 * together
        claims |= {f"o{i}": 1 for i in range(together, together + rest)}
        items = [
            item(f"o{i}-{j}", f"o{i}", claimed=j < claims.get(f"o{i}", 0))
            for i in range(20)
            for j in range(2)
        ]
        k, n = OrderTrials.of(items).read(18, 40)
        assert abs(k / n - 18 / 40) < 1e-9 and n == 20


def test_an_abuser_gains_nothing_from_its_orders_it_would_not_from_claiming_less() -> None:
    # Read by orders, an abuser's record is that of an abuser of single-item orders with the
    # same claim rate over fewer deliveries: the factor of that record, no more and no less.
    honest = PeerSpread(0.1, 300)
    items = [item(f"o{i}-{j}", f"o{i}", claimed=(i % 3 == 0)) for i in range(30) for j in range(2)]
    k, n = OrderTrials.of(items).read(20, 60)
    assert (k, n) == (10, 30)
    assert sequential_log_bf(k, n, honest, S) == sequential_log_bf(10, 30, honest, S)
    # ... which, at three times the category's rate, still reaches the alert.
    assert sequential_log_bf(k, n, honest, S) > 4.61


def test_an_open_item_of_an_order_is_its_part_of_a_trial() -> None:
    delays = HonestDelays(tuple(float(h) for h in range(1, 49)))
    spread = PeerSpread(0.1, 300)
    kwargs = dict(late_share=None, window_h=168.0, late_margin_h=12.0)
    whole = open_windows_log_bf(6, 0, 30, [OpenDelivery(12.0)], spread, S, delays, **kwargs)
    halves = open_windows_log_bf(
        6, 0, 30, [OpenDelivery(12.0, share=0.5)] * 2, spread, S, delays, **kwargs
    )
    assert abs(whole - halves) < 1e-9
    # Without open items and counted whole it is the counts' own test.
    plain = open_windows_log_bf(6, 0, 30, [], spread, S, delays, **kwargs)
    assert abs(plain - sequential_log_bf(6, 30, spread, S)) < 1e-9


def _ever_alerted(rng: random.Random, *, abuser: bool, by_orders: bool) -> bool:
    """One seller of 80 orders, a third of them of two or three items, looked at after each
    claim past the guards (five claims, `min_deliveries`). An honest seller's order is faulty
    with its own rate (drawn from the honest Beta, rate 10 %, a + b = 300) and then every item
    is claimed; an abuser of single-item orders claims each at three times the rate."""
    spread = PeerSpread(0.1, 300)
    p = rng.betavariate(30, 270)
    guard = min_deliveries(0.1, 1.0)
    items: list[OrderItem] = []
    k = n = 0
    for o in range(80):
        size = 1 if abuser or rng.random() < 2 / 3 else rng.choice((2, 3))
        faulty = rng.random() < p
        claimed = [rng.random() < 3 * p if abuser else faulty for _ in range(size)]
        items += [item(f"{o}-{j}", f"o{o}", claimed=c) for j, c in enumerate(claimed)]
        n += size
        k += sum(claimed)
        if not any(claimed) or k < 5 or n < guard:
            continue
        read_k, read_n = OrderTrials.of(items).read(k, n) if by_orders else (k, n)
        if sequential_log_bf(read_k, read_n, spread, S) >= 4.61:
            return True
    return False


def test_honest_sellers_of_orders_claimed_together_stay_within_the_stated_rate() -> None:
    rng = random.Random(2026)
    sellers = 1000
    by_item = sum(_ever_alerted(rng, abuser=False, by_orders=False) for _ in range(sellers))
    rng = random.Random(2026)
    by_order = sum(_ever_alerted(rng, abuser=False, by_orders=True) for _ in range(sellers))
    # Read by orders 9 of 1,000 (the stated 1 %); item by item 44.
    assert by_order <= sellers // 100
    assert by_item > 3 * max(by_order, 1)


def test_abusers_of_single_item_orders_are_read_as_before() -> None:
    rng = random.Random(7)
    before = [_ever_alerted(rng, abuser=True, by_orders=False) for _ in range(100)]
    rng = random.Random(7)
    after = [_ever_alerted(rng, abuser=True, by_orders=True) for _ in range(100)]
    assert before == after
    assert sum(after) >= 80  # 87 of 100 within their 80 deliveries
