"""A seller that sells in many categories (a shop, not a specialist) is weighed on its whole
record: its claims in all its categories against the honest rate of its own mix of categories
(`claim_abuse.whole_record`), and against how alike honest sellers' whole records are
(`claim_abuse.whole_records_concentration`). Counted one category at a time, a shop's few
deliveries per category never reach the test's five events or its alert."""

from __future__ import annotations

import math
import random
from collections import defaultdict

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
