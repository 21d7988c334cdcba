"""A seller's record speaks only once it is long enough in deliveries as well as in claims: the
early-claims look-alike (a small honest seller with a run of claims on its first deliveries)
is not alerted on it, and the abusers the goal is about (2.5-4x) lose next to nothing."""

from __future__ import annotations

import math
import random
import statistics

from services.fraud.detectors import claim_abuse
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import sequential_findings
from services.fraud.detectors.stats import (
    PeerSpread,
    Sequential,
    Thresholds,
    robust_baseline,
    sequential_test,
)

S = Sequential(alpha=5e-3)
ALERT_AT = math.log(1 / S.alpha)
T = Thresholds()


def _findings(k: int, n: int, rate: float, *, guard: bool) -> list[Finding]:
    _, found = sequential_findings(
        code="SELLER_CLAIM_RATE_SEQUENTIAL",
        what="claim rate",
        pattern=claim_abuse.PATTERN,
        entity_type="seller",
        entity_id="S-1",
        k=k,
        n=n,
        spread=PeerSpread(rate, 1000.0),
        s=S,
        action=claim_abuse.ACTION,
        min_trials=claim_abuse.min_deliveries(rate, 1.0) if guard else 0.0,
    )
    return found


def test_five_claims_in_nine_deliveries_is_no_alert_where_one_in_twelve_is_ordinary() -> None:
    # Held-out world 9002's early-claims look-alike: 5 claims in 9 deliveries, its category at
    # 8 %. The Bayes factor is past the alert (e^5.5 > 200), but an ordinary seller there
    # expects its first claim only after 12.5 deliveries.
    assert sequential_test(5, 9, PeerSpread(0.08, 1000.0), S).log_bf >= ALERT_AT
    assert any(f.alert for f in _findings(5, 9, 0.08, guard=False))
    found = _findings(5, 9, 0.08, guard=True)
    assert found and not any(f.alert for f in found)
    assert all(f.contribution < 0.8 for f in found)
    # Once the record is long enough it speaks as before: 6 in 13.
    assert any(f.alert for f in _findings(6, 13, 0.08, guard=True))


def test_the_rate_tests_keep_the_same_guard_in_deliveries() -> None:
    category = {"delivered": 2000, "claims": 160}
    # Six claims on a small seller's first six deliveries: p < 1e-4 against twice the
    # category's 8 %, on more than five events, but fewer deliveries than make one claim
    # ordinary there.
    own = {"delivered": 6, "claims": 6}
    unguarded = claim_abuse.seller_findings("S-1", own, category, T, min_events=5)
    assert any(f.alert for f in unguarded)
    guarded = claim_abuse.seller_findings(
        "S-1",
        own,
        category,
        T,
        min_events=5,
        min_delivered=claim_abuse.min_deliveries(0.08, 1.0),
    )
    assert not any(f.alert for f in guarded)
    rate = next(f for f in guarded if f.code == "SELLER_CLAIM_RATE_HIGH")
    assert rate.contribution < 0.8 and rate.numbers["too_few_events"] == 1


def _alerts_at(
    rate: float, spread: PeerSpread, rng: random.Random, *, guard: bool, burst: int = 0
) -> int | None:
    """The delivery at which a seller's test first alerts, looked at after every delivery;
    its first `burst` deliveries are all claimed."""
    md = claim_abuse.min_deliveries(spread.rate, 1.0) if guard else 0.0
    k = 0
    for i in range(1, 401):
        k += 1 if i <= burst else rng.random() < rate
        if k >= S.min_events and i >= md and sequential_test(k, i, spread, S).log_bf >= ALERT_AT:
            return i
    return None


def test_the_guard_costs_the_goals_abusers_a_delivery_or_two_at_most() -> None:
    # An abuser at 2.5-4x needs about 5 / (r p) deliveries for its five claims anyway, so the
    # guard (1 / p) binds only on a lucky burst. The same abusers, with and without it.
    for p in (0.03, 0.08):
        spread = PeerSpread(p, 1000.0)
        for ratio in (2.5, 3.0, 4.0):
            delays = []
            for j in range(150):
                free = _alerts_at(ratio * p, spread, random.Random(j), guard=False)
                held = _alerts_at(ratio * p, spread, random.Random(j), guard=True)
                if free is not None:
                    assert held is not None
                    delays.append(held - free)
            assert statistics.mean(delays) <= 3.0, (p, ratio, statistics.mean(delays))
            assert sum(d > 0 for d in delays) / len(delays) <= 0.2


def test_early_claims_look_alikes_are_alerted_less_often() -> None:
    # Honest sellers (their own rate drawn from a spread wider than the test assumes) whose
    # first three deliveries were all claimed, watched over their next 57 deliveries.
    p = 0.05
    spread = PeerSpread(p, 1000.0)

    def share(*, guard: bool) -> float:
        hits = 0
        for j in range(800):
            rng = random.Random(10_000 + j)
            own = rng.betavariate(p * 300, (1 - p) * 300)
            hits += _alerts_at(own, spread, rng, guard=guard, burst=3) is not None
        return hits / 800

    free, held = share(guard=False), share(guard=True)
    assert held <= 0.7 * free, (free, held)


def _category(
    rng: random.Random, mean: float, concentration: float, sellers: int
) -> list[tuple[int, int]]:
    out = []
    for _ in range(sellers):
        own = rng.betavariate(mean * concentration, (1 - mean) * concentration)
        n = rng.randint(20, 80)
        out.append((sum(rng.random() < own for _ in range(n)), n))
    return out


# Development world 108 at its end, every seller's (claims, deliveries) by category, less the
# abuser S-s108-079 (16 claims in 56 deliveries, 2.6x its untouched honest peers). Planted
# sellers (another abuser, two ring sellers, an evidence reuser) hold a third of "home"'s
# deliveries.
WORLD_108 = {
    "beauty": [
        (0, 5),
        (0, 6),
        (0, 9),
        (0, 9),
        (0, 13),
        (1, 5),
        (1, 5),
        (1, 7),
        (1, 7),
        (1, 8),
        (1, 9),
        (1, 10),
        (1, 10),
        (1, 10),
        (1, 11),
        (1, 11),
        (1, 14),
        (1, 19),
        (2, 9),
        (2, 13),
        (2, 29),
        (3, 7),
        (3, 7),
        (3, 12),
        (3, 17),
        (3, 20),
        (3, 24),
        (4, 13),
        (4, 38),
        (5, 27),
        (7, 52),
        (11, 58),
        (12, 52),
    ],
    "electronics": [
        (0, 2),
        (0, 4),
        (0, 6),
        (0, 7),
        (0, 8),
        (0, 9),
        (0, 10),
        (0, 10),
        (0, 11),
        (0, 12),
        (0, 16),
        (0, 24),
        (1, 3),
        (1, 4),
        (1, 5),
        (1, 8),
        (1, 9),
        (1, 9),
        (1, 10),
        (1, 13),
        (1, 16),
        (1, 22),
        (2, 3),
        (2, 8),
        (2, 9),
        (2, 11),
        (2, 18),
        (2, 18),
        (3, 20),
        (4, 26),
        (5, 47),
        (10, 92),
    ],
    "fashion": [
        (0, 4),
        (0, 4),
        (0, 4),
        (0, 5),
        (0, 6),
        (0, 6),
        (0, 6),
        (0, 9),
        (0, 9),
        (0, 10),
        (1, 7),
        (1, 7),
        (1, 7),
        (1, 8),
        (1, 8),
        (1, 10),
        (1, 13),
        (1, 15),
        (1, 16),
        (1, 16),
        (1, 16),
        (1, 17),
        (2, 6),
        (2, 9),
        (2, 17),
        (2, 29),
        (3, 14),
        (3, 15),
        (3, 15),
        (3, 22),
        (3, 28),
        (3, 33),
        (4, 15),
        (4, 26),
        (7, 44),
        (7, 51),
        (11, 78),
        (14, 23),
        (16, 53),
        (88, 528),
    ],
    "home": [
        (0, 5),
        (0, 7),
        (0, 9),
        (0, 10),
        (0, 11),
        (0, 12),
        (1, 4),
        (1, 7),
        (1, 8),
        (1, 8),
        (1, 9),
        (1, 11),
        (1, 14),
        (1, 15),
        (2, 7),
        (2, 9),
        (2, 13),
        (2, 28),
        (3, 6),
        (3, 12),
        (4, 45),
        (5, 39),
        (7, 39),
        (7, 62),
        (11, 92),
        (12, 58),
        (14, 33),
        (16, 61),
        (17, 54),
        (18, 46),
        (25, 248),
    ],
}


def test_planted_sellers_crowding_one_category_weigh_less_on_the_pooled_spread() -> None:
    # Judged on "home" alone the category looks unalike (its planted sellers widen it) and the
    # abuser is weak evidence; the spread of every category's sellers, standardised, is the
    # market's (the world drew a + b = 622 for its honest sellers), and the abuser's evidence
    # against the category's ordinary sellers with it is stronger.
    abuser = (16, 56)
    own_only = robust_baseline(WORLD_108["home"], T, prior_rate=0.05).spread
    assert own_only is not None
    bases, concentration = claim_abuse.pooled_concentration(WORLD_108, T, prior_rate=0.05)
    assert concentration >= 4 * own_only.concentration
    honest = claim_abuse.honest_population(
        bases["home"], WORLD_108["home"], concentration, T, S, prior_rate=0.05
    )
    assert honest.rate <= own_only.rate
    before = sequential_test(*abuser, own_only, S).log_bf
    after = sequential_test(*abuser, honest, S).log_bf
    assert after >= before + 0.9, (before, after)


def test_honest_sellers_against_the_pooled_population_stay_within_the_stated_rate() -> None:
    # Six categories whose honest rates differ (3-8 %), sellers alike within each as in a
    # drawn world (a + b = 300): the standardised pool does not read the categories'
    # differences as spread, and few honest sellers reach the alert on their whole record.
    rng = random.Random(5)
    means = (0.03, 0.04, 0.05, 0.06, 0.07, 0.08)
    categories = {f"c{i}": _category(rng, m, 300.0, 40) for i, m in enumerate(means)}
    bases, concentration = claim_abuse.pooled_concentration(categories, T, prior_rate=0.05)
    assert 100 <= concentration <= 1000
    alerted = total = 0
    for sellers in categories.values():
        for i, seller in enumerate(sellers):
            others = sellers[:i] + sellers[i + 1 :]
            honest = claim_abuse.honest_population(
                robust_baseline(others, T, prior_rate=0.05),
                others,
                concentration,
                T,
                S,
                prior_rate=0.05,
            )
            total += 1
            alerted += sequential_test(*seller, honest, S).log_bf >= ALERT_AT
    assert alerted / total <= S.alpha, (alerted, total)
