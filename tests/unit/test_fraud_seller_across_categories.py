"""A seller that sells in many categories (a shop, not a specialist) is weighed on its whole
record: its claims in all its categories against the honest rate of its own mix of categories
(`claim_abuse.whole_record`), and against how alike honest sellers' whole records are
(`claim_abuse.whole_records_concentration`). Counted one category at a time, a shop's few
deliveries per category never reach the test's five events or its alert."""

from __future__ import annotations

import asyncio
import math
import random
from collections import defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import PeerSpread, Sequential, Thresholds, sequential_test

S = Sequential(alpha=1e-2)  # the seller alert's level (a factor of 100)
ALERT_AT = math.log(1 / S.alpha)
T = Thresholds()


def _alerts(k: int, n: int, rate: float, concentration: float = 1000.0) -> bool:
    """The seller test's alert, with its guards (five claims, 1 / rate deliveries)."""
    return (
        k >= S.min_events
        and n >= claim_abuse.min_deliveries(rate, 1.0)
        and sequential_test(k, n, PeerSpread(rate, concentration), S).log_bf >= ALERT_AT
    )


def test_the_whole_record_sums_the_categories_each_delivery_at_its_categorys_rate() -> None:
    record = claim_abuse.whole_record(
        {"mobiles": (3, 20), "apparel": (1, 60), "toys": (2, 5)},
        {"mobiles": 0.08, "apparel": 0.02},
    )
    assert record is not None
    # "toys" has no honest rate (no other seller there): left out, with its claims.
    assert (record.claims, record.delivered) == (4, 80)
    assert math.isclose(record.rate, (20 * 0.08 + 60 * 0.02) / 80)
    assert [name for name, _ in record.categories] == ["apparel", "mobiles"]
    # A seller of one category: that category's record and rate.
    one = claim_abuse.whole_record({"mobiles": (3, 20)}, {"mobiles": 0.08})
    assert one is not None and (one.claims, one.delivered, one.rate) == (3, 20, 0.08)
    assert claim_abuse.whole_record({"toys": (2, 5)}, {"mobiles": 0.08}) is None


def test_a_shop_claiming_at_three_times_every_category_crosses_only_on_its_whole_record() -> None:
    # The spec-only world 303's abuser W303-S-ABU4 at the world's end, to within a claim: 19
    # claims in 84 deliveries over seven categories claiming about 7 %, 3.1x its mix.
    cells = {
        "apparel": (4, 15),
        "footwear": (4, 13),
        "kitchen": (2, 10),
        "mobiles": (4, 20),
        "personal_care": (1, 6),
        "stationery": (1, 5),
        "watches": (3, 15),
    }
    rates = {
        "apparel": 0.082,
        "footwear": 0.079,
        "kitchen": 0.057,
        "mobiles": 0.074,
        "personal_care": 0.064,
        "stationery": 0.046,
        "watches": 0.085,
    }
    assert not any(_alerts(k, n, rates[c]) for c, (k, n) in cells.items())
    record = claim_abuse.whole_record(cells, rates)
    assert record is not None and record.claims == 19 and record.delivered == 84
    assert _alerts(record.claims, record.delivered, record.rate)


def _shops(
    rng: random.Random, rates: dict[str, float], concentration: float, sellers: int
) -> list[list[tuple[str, bool]]]:
    """Honest shops: each sells in 1-7 categories with its own mix, 20-300 deliveries, and has
    its own factor on every category's rate (Gamma, mean 1, as a Beta of `concentration`
    about a 4 % rate spreads): a shop a little above its peers is above them everywhere."""
    names = list(rates)
    out = []
    for _ in range(sellers):
        cats = rng.sample(names, rng.randint(1, 7))
        weights = [rng.uniform(0.2, 2.5) for _ in cats]
        shape = concentration * 0.04
        factor = rng.gammavariate(shape, 1 / shape)
        n = int(math.exp(rng.uniform(math.log(20), math.log(300))))
        out.append(
            [
                (c, rng.random() < min(0.9, rates[c] * factor))
                for c in rng.choices(cats, weights, k=n)
            ]
        )
    return out


def _cells(deliveries: list[tuple[str, bool]]) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c, claimed in deliveries:
        counts[c][0] += claimed
        counts[c][1] += 1
    return {c: (k, n) for c, (k, n) in counts.items()}


def test_the_whole_records_spread_reads_the_shops_own_level_the_categories_hide() -> None:
    rng = random.Random(11)
    rates = {f"c{i}": rng.uniform(0.02, 0.04) for i in range(7)} | {"c7": 0.13}
    shops = [_cells(s) for s in _shops(rng, rates, 150.0, 200)]
    by_category: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for cells in shops:
        for c, pair in cells.items():
            by_category[c].append(pair)
    bases, concentration = claim_abuse.pooled_concentration(by_category, T, prior_rate=0.05)
    whole = claim_abuse.whole_records_concentration(shops, bases, T, prior_rate=0.05)
    # One category at a time the shops look alike (a + b far above the drawn 150); on their
    # whole records they differ about as much as they were drawn to.
    assert concentration >= 500
    assert 50 <= whole <= 400, whole


def test_honest_shops_with_a_high_claiming_category_stay_within_the_stated_rate() -> None:
    # Honest-only markets: seven categories claiming 2-4 % and one honest category claiming
    # 13 % (where weighing a category against the market raised honest sellers), shops drawn
    # at a + b 150, each watched delivery by delivery on its whole record against the
    # product's honest populations. At most 1 % ever alert (the seller alert's stated rate).
    rng = random.Random(3)
    alerted = total = high = 0
    for _ in range(2):
        rates = {f"c{i}": rng.uniform(0.02, 0.04) for i in range(7)} | {"c7": 0.13}
        shops = _shops(rng, rates, 150.0, 160)
        finals = [_cells(s) for s in shops]
        by_category: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for cells in finals:
            for c, pair in cells.items():
                by_category[c].append(pair)
        bases, pooled = claim_abuse.pooled_concentration(by_category, T, prior_rate=0.05)
        concentration = min(
            pooled, claim_abuse.whole_records_concentration(finals, bases, T, prior_rate=0.05)
        )
        for shop, final in zip(shops, finals, strict=True):
            honest = {}
            for c, pair in final.items():
                others = list(by_category[c])
                others.remove(pair)
                if others:
                    honest[c] = claim_abuse.honest_population(
                        bases[c], others, concentration, T, S, prior_rate=0.05
                    ).rate
            seen: dict[str, tuple[int, int]] = {}
            ever = False
            for c, claimed in shop:
                k, n = seen.get(c, (0, 0))
                seen[c] = (k + claimed, n + 1)
                record = claim_abuse.whole_record(seen, honest)
                if record is not None and _alerts(
                    record.claims, record.delivered, record.rate, concentration
                ):
                    ever = True
                    break
            total += 1
            alerted += ever
            high += ever and "c7" in final
    assert alerted / total <= S.alpha, (alerted, total, high)


# --- On review: the whole record read whatever the event's category, in the recent weeks'
# own mix, and its spread read once per session (`scoring.claim_abuse`).


def _assessor(
    everyone: dict[str, dict[str, int]],
    monkeypatch: Any,
    recent: dict[str, dict[str, int]] | None = None,
) -> Any:
    """A claim assessor reading `everyone` (`category_seller` window totals), with no
    database: the category's peers are empty, the recent weeks and explained claims none, and
    every order one item (no multi-item orders to read by)."""
    from services.fraud.features import repository as features
    from services.fraud.scoring import claim_abuse as scoring
    from services.fraud.scoring.base import default_config

    async def entity_totals(session, entity_type, metrics, since, until, *, id_prefix=""):  # type: ignore[no-untyped-def]
        return {k: v for k, v in everyone.items() if k.startswith(id_prefix)}

    async def window_totals(session, keys, metrics, since, until):  # type: ignore[no-untyped-def]
        weeks = everyone if recent is None else recent
        return {key: weeks.get(key[1], {}) for key in keys if key[0] == "category_seller"}

    monkeypatch.setattr(features, "entity_totals", entity_totals)

    async def shared_orders(session, seller_id, since):  # type: ignore[no-untyped-def]
        return []

    monkeypatch.setattr(features, "window_totals", window_totals)
    monkeypatch.setattr(features, "shared_orders", shared_orders)
    a = scoring.ClaimInputs.__new__(scoring.ClaimInputs)
    a.session = SimpleNamespace(info={})
    a.config = default_config()
    a.t = a.config.thresholds
    a.at = datetime(2026, 6, 1, tzinfo=UTC)
    a.day = a.at.date()
    a.sequential = {}
    a.looked_back = set()
    a.evaluated = {}

    async def peers(*args: Any, **kwargs: Any) -> dict[str, tuple[int, int]]:
        return {num: (0, 0) for _, _, num, _, _ in claim_abuse.RATES}

    async def explained(*args: Any, **kwargs: Any) -> dict[str, int]:
        return {}

    a.peers = peers
    a.explained = explained
    return a


def _market() -> dict[str, dict[str, int]]:
    """Two categories of twenty honest sellers each (1 claim in 30), and a shop claiming at
    five times that in both, which also sells in a category where it is alone."""
    everyone = {f"{c}|s{i}": {"claims": 1, "delivered": 30} for c in ("A", "B") for i in range(20)}
    everyone |= {
        "A|shop": {"claims": 8, "delivered": 45},
        "B|shop": {"claims": 8, "delivered": 45},
        "L|shop": {"claims": 0, "delivered": 40},
    }
    return everyone


def _scored(a: Any, category: str, market: dict[str, dict[str, int]] | None = None) -> Any:
    facts = SimpleNamespace(seller_id="shop", category=category)
    key = ("category_seller", f"{category}|shop")
    totals = {key: dict((market or _market())[f"{category}|shop"])}
    asyncio.run(a.seller_tests(facts, totals))
    return a.sequential.get((claim_abuse.PATTERN, "seller", "shop"))


def test_a_delivery_in_a_lone_category_tests_the_shop_on_its_whole_record(
    monkeypatch: Any,
) -> None:
    from services.fraud.detectors.sequential import clears

    on_a = _scored(_assessor(_market(), monkeypatch), "A")
    on_lone = _scored(_assessor(_market(), monkeypatch), "L")
    assert on_a is not None and on_lone is not None
    # Alerted on its whole record (16 claims in 90 deliveries of A and B, about 3 % honest)...
    assert on_a.log_bf >= ALERT_AT
    # ...and a delivery where it has no peer weighs the same record, not 0 of 40 against the
    # prior: it does not clear what the whole record found.
    assert (on_lone.k, on_lone.n) == (on_a.k, on_a.n)
    # (The categories' spread read without the event's own record differs a little.)
    assert on_lone.log_bf >= ALERT_AT
    s = default_config_sequential()
    assert not clears(claim_abuse.PATTERN, on_lone, [], s)


def default_config_sequential() -> Sequential:
    from services.fraud.scoring.base import default_config

    return default_config().sequential


def test_the_whole_records_spread_is_read_once_per_session(monkeypatch: Any) -> None:
    calls = []
    real = claim_abuse.whole_records_concentration

    def counted(*args: Any, **kwargs: Any) -> float:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(claim_abuse, "whole_records_concentration", counted)
    a = _assessor(_market(), monkeypatch)
    _scored(a, "A")
    _scored(a, "B")
    _scored(a, "L")
    assert len(calls) == 1


def test_the_recent_weeks_are_weighed_at_their_own_mix_of_categories() -> None:
    from services.fraud.scoring.claim_abuse import recent_rate

    rates = {"A|s": 0.02, "B|s": 0.12}
    mix = (100 * 0.02 + 100 * 0.12) / 200  # the long window's mix: 7 %
    # Recent weeks all in the low-claim category: its 2 %, not the 7 % mix.
    assert recent_rate({"A|s": 50, "B|s": 0}, rates, mix, mix) == pytest.approx(0.02)
    # In the long window's mix: its rate; scaled as the test scaled the mix (explained claims).
    assert recent_rate({"A|s": 10, "B|s": 10}, rates, mix, mix) == pytest.approx(mix)
    assert recent_rate({"A|s": 50, "B|s": 0}, rates, mix, mix / 2) == pytest.approx(0.01)
    # One category (no mix): the test's own rate.
    assert recent_rate({"A|s": 50}, {"A|s": 0.0}, 0.0, 0.04) == 0.04


def test_recent_weeks_in_the_low_claim_category_are_read_at_its_rate(monkeypatch: Any) -> None:
    from services.fraud.detectors.sequential import clears

    # A claims 1 in 50 (2 %), B 6 in 50 (12 %); the shop at about twice both (mix 7 %).
    market = {f"A|s{i}": {"claims": 1, "delivered": 50} for i in range(20)}
    market |= {f"B|s{i}": {"claims": 6, "delivered": 50} for i in range(20)}
    market |= {
        "A|shop": {"claims": 8, "delivered": 100},
        "B|shop": {"claims": 26, "delivered": 100},
    }
    # Its recent weeks all in A, still at twice A's rate: 8 of 200 (4 %), under the 7 % mix.
    recent = {"A|shop": {"claims": 8, "delivered": 200}}
    test = _scored(_assessor(market, monkeypatch, recent), "A", market)
    assert test is not None
    assert not clears(claim_abuse.PATTERN, test, [], default_config_sequential())


def test_the_sellers_own_other_categories_do_not_make_their_honest_population() -> None:
    from services.fraud.scoring.base import default_config
    from services.fraud.scoring.claim_abuse import honest_sellers_of

    config = default_config()

    def read(shop_in_b: int) -> Any:
        claims = [0, 1, 2, 3, 1, 0, 2, 1, 3, 0, 1, 2, 0, 1, 2, 3, 1, 0, 2, 1]
        market = {f"A|s{i}": {"claims": k, "delivered": 30} for i, k in enumerate(claims)}
        market |= {f"B|s{i}": {"claims": k, "delivered": 40} for i, k in enumerate([1, 2, 3, 3])}
        market |= {
            "A|shop": {"claims": 8, "delivered": 45},
            "B|shop": {"claims": shop_in_b, "delivered": 40},
        }
        return honest_sellers_of(
            market, "A", "A|shop", "shop", config.thresholds, config.sequential, lambda b: 0.0
        )

    # The shop's record in B, ordinary or high, is weighed, not its own peer there: B's honest
    # rate and the categories' pooled spread are its other sellers' (a high record in B widened
    # the spread its whole record is weighed against).
    ordinary, high = read(1), read(9)
    assert ordinary.rates == high.rates
    assert ordinary.pooled == high.pooled
    assert high.cells["B"] == (9, 40)


def test_a_claim_in_a_category_without_deliveries_weighs_the_record_the_recent_weeks_read(
    monkeypatch: Any,
) -> None:
    # The shop's claim in A, where it has no delivery in the window; its record is B's.
    market = _market() | {"A|shop": {"claims": 1, "delivered": 0}}
    market.pop("L|shop")
    read: list[list[str]] = []
    a = _assessor(market, monkeypatch)
    from services.fraud.features import repository as features

    inner = features.window_totals

    async def recorded(session, keys, metrics, since, until):  # type: ignore[no-untyped-def]
        read.append([key[1] for key in keys])
        return await inner(session, keys, metrics, since, until)

    monkeypatch.setattr(features, "window_totals", recorded)
    test = _scored(a, "A", market)
    # Weighed on B, the record it has, and its recent weeks read there: one record, not A's
    # claim without a delivery tested while the recent weeks read B.
    assert (test.k, test.n) == (8, 45)
    assert read == [["B|shop"]]


def test_each_seller_of_a_batch_reads_the_whole_records_spread_of_its_own_baselines(
    monkeypatch: Any,
) -> None:
    """The whole records' spread is standardised by the categories' rates without the seller
    scored; kept once per session, it was read with the first scored seller's rates for every
    seller after it."""
    rng = random.Random(5)
    market = {f"A|s{i}": {"claims": rng.randint(0, 3), "delivered": 30} for i in range(20)}
    market |= {f"B|s{i}": {"claims": rng.randint(0, 2), "delivered": 30} for i in range(20)}
    market |= {f"C|s{i}": {"claims": rng.randint(0, 2), "delivered": 30} for i in range(3)}
    market |= {f"A|w{i}": {"claims": rng.randint(0, 3), "delivered": 20} for i in range(10)}
    market |= {f"C|w{i}": {"claims": rng.randint(0, 2), "delivered": 20} for i in range(10)}
    # "one" claims heavily in the small category C, which "two" does not sell in: left out of
    # C's rate for "one", in it for "two".
    market |= {
        "A|one": {"claims": 4, "delivered": 30},
        "C|one": {"claims": 12, "delivered": 30},
        "A|two": {"claims": 2, "delivered": 30},
        "B|two": {"claims": 2, "delivered": 30},
    }

    def read(*shops: str) -> Any:
        a = _assessor(market, monkeypatch)
        return [asyncio.run(a.honest_sellers("A", f"A|{s}", s)) for s in shops]

    (alone,) = read("two")
    (one_alone,) = read("one")
    first, after = read("one", "two")
    assert first.whole_concentration == one_alone.whole_concentration
    assert alone.whole_concentration != one_alone.whole_concentration
    # "two" after "one" in one batch reads what it reads alone (before: "one"'s 558 for 657).
    assert after.whole_concentration == alone.whole_concentration


def _shops_market(abusers: int) -> dict[str, dict[str, int]]:
    """Twenty honest shops selling in A, B and C (0-2 claims in 30 deliveries each), `abusers`
    shops claiming 4 in 30 in each (about 4x), and the scored shop in A and B."""
    rng = random.Random(3)
    market = {
        f"{c}|s{i}": {"claims": rng.choice([0, 1, 1, 2]), "delivered": 30}
        for i in range(20)
        for c in "ABC"
    }
    market |= {f"{c}|a{i}": {"claims": 4, "delivered": 30} for i in range(abusers) for c in "ABC"}
    return market | {
        "A|shop": {"claims": 1, "delivered": 30},
        "B|shop": {"claims": 1, "delivered": 30},
    }


def test_shops_telling_on_their_whole_record_leave_the_honest_population() -> None:
    from services.fraud.scoring.base import default_config
    from services.fraud.scoring.claim_abuse import honest_sellers_of, whole_records_spread

    config = default_config()

    def read(abusers: int) -> Any:
        market = _shops_market(abusers)
        return honest_sellers_of(
            market,
            "A",
            "A|shop",
            "shop",
            config.thresholds,
            config.sequential,
            lambda bases: whole_records_spread(market, bases, config.thresholds),
        )

    honest, with_abusers = read(0), read(3)
    # Three shops at 4x, never telling in one category (4 of 30), are on their whole record
    # (12 of 90): the categories' honest rates are the honest shops' (before: A 0.051 for
    # 0.039). The spreads keep them (wider, never narrower than the honest shops' own).
    assert with_abusers.rates == honest.rates
    assert with_abusers.pooled <= honest.pooled
    assert with_abusers.whole_concentration <= honest.whole_concentration


def test_telling_shops_reads_whole_records_of_several_categories_only() -> None:
    rates = {"A": 0.04, "B": 0.04, "C": 0.04}
    sellers = {
        "abuser": {"A": (4, 30), "B": (4, 30), "C": (4, 30)},
        "honest": {"A": (1, 30), "B": (2, 30), "C": (1, 30)},
        # One category: `honest_population`'s to tell, however high.
        "specialist": {"A": (12, 30)},
        # Its second category has no honest rate: one category in all.
        "lone": {"A": (12, 30), "Z": (9, 30)},
    }
    assert claim_abuse.telling_shops(sellers, rates, 1000.0, default_config_sequential()) == {
        "abuser"
    }


# --- The honest market kept per consumer batch (`scoring.claim_abuse.HonestReads`).


def _batch_market() -> dict[str, dict[str, int]]:
    """Sixty shops over four categories, some in one, some in several, three claiming at 4x
    everywhere (telling on their whole record only) and one category holding a separator."""
    rng = random.Random(11)
    rates = {"A": 0.03, "B": 0.04, "C": 0.12, "D|x": 0.03}
    market: dict[str, dict[str, int]] = {}
    for i in range(60):
        factor = 4.0 if i < 3 else rng.uniform(0.6, 1.5)
        for c in rng.sample(sorted(rates), rng.randint(1, 4)):
            n = rng.randint(20, 120)
            k = sum(rng.random() < min(0.9, rates[c] * factor) for _ in range(n))
            market[f"{c}|s{i}"] = {"claims": k, "delivered": n}
    return market


def _claims_of(market: dict[str, dict[str, int]]) -> list[tuple[str, str]]:
    """Every (seller, category) cell of the market, a shop's cells apart from each other."""
    cells = [(key.rpartition("|")[2], key.rpartition("|")[0]) for key in market]
    return cells[::2] + cells[1::2]


def _findings(a: Any, seller: str, category: str, market: dict[str, dict[str, int]]) -> Any:
    facts = SimpleNamespace(seller_id=seller, category=category)
    key = ("category_seller", f"{category}|{seller}")
    found, _ = asyncio.run(a.seller_tests(facts, {key: dict(market[key[1]])}))
    test = a.sequential.get((claim_abuse.PATTERN, "seller", seller))
    read = asyncio.run(a.honest_sellers(category, key[1], seller))
    return found, test, read


def test_a_batch_reads_each_sellers_honest_market_as_a_fresh_read_would(
    monkeypatch: Any,
) -> None:
    """Every claim of a batch scored through the kept honest markets finds what it finds
    scored alone (a fresh session): each seller's own market, whatever category its claim is
    in and whoever was scored before it; and a count that changes in the batch is read."""
    from services.fraud.scoring import claim_abuse as scoring

    market = _batch_market()
    batch = _assessor(market, monkeypatch)
    computed = []
    real = scoring.honest_market

    def counted(rows: Any, *args: Any) -> Any:
        market = real(rows, *args)
        computed.append(len(rows) - sum(map(len, market.by_category.values())))
        return market

    monkeypatch.setattr(scoring, "honest_market", counted)
    claims = _claims_of(market)
    assert len({c for _, c in claims}) == 4 and len({s for s, _ in claims}) == 60
    for seller, category in claims:
        kept = _findings(batch, seller, category, market)
        alone = _findings(_assessor(market, monkeypatch), seller, category, market)
        assert kept == alone, (seller, category)
    # Shops telling on their whole record were left out of the markets read...
    assert min(computed) > 0
    # ...once for each seller in the batch (its cell in "D|x" is apart: split as "D", it is
    # another seller's in D), once per fresh session.
    keys = {scoring.market_key(f"{c}|{s}", s) for s, c in claims}
    assert len(keys) > 60
    assert len(computed) == len(keys) + len(claims)
    # Counts of the read change within the batch: a seller's own keep its market, another
    # seller's make it read again.
    from services.fraud.features.repository import _TotalsRead

    reads = batch.session.info["disputedesk.unit_of_work"].get(_TotalsRead)

    def counted_in(cell: str, counts: dict[str, int]) -> None:
        market[cell] = counts
        for views in reads.views.values():
            for view in views.values():
                view.update(cell, market[cell])

    before = len(computed)
    counted_in("A|s5", {"claims": 3, "delivered": 61})
    counted_in("Z|s5", {"claims": 0, "delivered": 1})
    assert _findings(batch, "s5", "A", market) == _findings(
        _assessor(market, monkeypatch), "s5", "A", market
    )
    assert len(computed) == before + 1
    counted_in("A|s7", {"claims": 40, "delivered": 60})
    for seller, category in claims[:12]:
        kept = _findings(batch, seller, category, market)
        alone = _findings(_assessor(market, monkeypatch), seller, category, market)
        assert kept == alone, (seller, category)
