"""The seller classes the drawn worlds hold since wave 6: categories whose honest claim rates
differ and drift over the world, and honest sellers with a few bad weeks."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

from disputedesk.simulate.generator import generate
from disputedesk.simulate.marketplace import FraudPlan, LookAlikes, Marketplace
from disputedesk.simulate.ranges import DEV_SEEDS, HELD_OUT_SEEDS, describe, draw_market

# No planted fraud: pilferage and QC agents add claims to every category alike, which would
# blur the honest rates these tests read.
QUIET = FraudPlan(
    claim_abusers=0,
    evidence_reusers=0,
    wrong_used_buyers=0,
    pilfering_hubs=0,
    pilfering_agents=0,
    qc_agents=0,
    seller_buyer_rings=0,
    agent_buyer_rings=0,
    identity_rings=0,
)


def _claims_and_deliveries(world, seller_of_return=None):  # type: ignore[no-untyped-def]
    """Per category (or per seller), claims on delivered returns and deliveries, by half of
    the world (first, second)."""
    category: dict[str, str] = {}
    seller: dict[str, str] = {}
    initiated: dict[str, datetime] = {}
    delivered: Counter[tuple[str, int]] = Counter()
    claims: Counter[tuple[str, int]] = Counter()
    start = min(a.at for a in world.actions)
    end = max(a.at for a in world.actions)
    middle = start + (end - start) / 2
    planted = {e for _, e in world.truth.fraud_entities()}
    for a in world.actions:
        if a.kind == "return" and not {a.body["seller_id"], a.body["buyer_id"]} & planted:
            category[a.body["return_id"]] = a.body["category"]
            seller[a.body["return_id"]] = a.body["seller_id"]
            initiated[a.body["return_id"]] = a.at
    for a in world.actions:
        rid = a.body.get("return_id", "")
        half = int(initiated.get(rid, start) >= middle)
        key = (seller if seller_of_return else category).get(rid)
        if key is None:  # a planted party's return: its claims are not the honest rate's
            continue
        if a.kind == "scan" and a.body["type"] == "DELIVERED_TO_SELLER":
            delivered[(key, half)] += 1
        elif a.kind == "escalation":
            claims[(key, half)] += 1
    return claims, delivered


def test_every_drawn_world_gives_categories_their_own_honest_claim_rate_and_drift() -> None:
    spread_out = 0
    for seed in DEV_SEEDS + HELD_OUT_SEEDS:
        h = draw_market(seed).honest
        factors = dict(h.category_claim_factors)
        assert set(factors) == {"electronics", "fashion", "home", "beauty"}
        assert all(0.5 <= f <= 2.0 for f in factors.values()), seed
        spread_out += max(factors.values()) / min(factors.values()) > 1.5
        assert all(-0.3 <= d <= 0.3 for _, d in h.category_claim_drift), seed
        assert 1 <= h.lookalikes.bad_weeks_sellers <= 3, seed
    # Most worlds hold a category claiming at least half as much again as another.
    assert spread_out >= 0.75 * len(DEV_SEEDS + HELD_OUT_SEEDS)


def test_the_parameters_drawn_before_wave_6_are_unchanged() -> None:
    # The new classes draw from a stream of their own: a world's volumes, rates and planted
    # fraud stay those of the figures reported for earlier waves.
    d = describe(draw_market(101))
    assert (d["days"], d["returns_per_day"], d["claim_abusers"]) == (54, 59.8, 6)
    assert d["claim_rate_mean"] == 0.076


def test_a_category_claims_at_its_factor_and_drifts_over_the_world() -> None:
    base = Marketplace(days=40, sellers=80, buyers=1500, fraud=QUIET)
    honest = replace(
        base.honest,
        returns_per_day=150.0,
        claim_rate_beta=(40.0, 960.0),
        category_claim_factors=(
            ("electronics", 2.0),
            ("fashion", 0.5),
            ("home", 1.0),
            ("beauty", 1.0),
        ),
        category_claim_drift=(("home", 0.5), ("beauty", -0.5)),
    )
    world = generate(replace(base, honest=honest), 11)
    claims, delivered = _claims_and_deliveries(world)

    def rate(category: str, halves: tuple[int, ...] = (0, 1)) -> float:
        k = sum(claims[(category, h)] for h in halves)
        n = sum(delivered[(category, h)] for h in halves)
        return k / n

    assert rate("electronics") > 2.5 * rate("fashion")
    # A drift of +0.5: the rate ends the world half as high again as it began.
    assert rate("home", (1,)) > 1.25 * rate("home", (0,))
    assert rate("beauty", (1,)) < 0.8 * rate("beauty", (0,))


def test_an_honest_seller_with_bad_weeks_claims_more_in_them_and_is_named() -> None:
    base = Marketplace(days=42, sellers=12, buyers=2000, fraud=QUIET)
    honest = replace(
        base.honest,
        returns_per_day=250.0,
        lookalikes=LookAlikes(bad_weeks_sellers=2, bad_weeks_ratio=4.0, bad_weeks_days=14),
    )
    world = generate(replace(base, honest=honest), 5)
    cast = world.truth.lookalikes["bad_weeks_seller"]
    assert len(cast) == 2
    assert all(("seller", s) not in world.truth.fraud_entities() for _, s in cast)
    assert world.truth.bad_weeks  # each cast seller's bad spell, for the report
    inside, outside = [0, 0], [0, 0]  # claims, delivered returns
    spells = world.truth.bad_weeks
    seller_of: dict[str, str] = {}
    at_of: dict[str, datetime] = {}
    for a in world.actions:
        if a.kind == "return" and a.body["seller_id"] in spells:
            seller_of[a.body["return_id"]] = a.body["seller_id"]
            at_of[a.body["return_id"]] = a.at
    for a in world.actions:
        rid = a.body.get("return_id", "")
        if rid not in seller_of:
            continue
        start, end = spells[seller_of[rid]]
        side = inside if start <= at_of[rid] < end else outside
        if a.kind == "scan" and a.body["type"] == "DELIVERED_TO_SELLER":
            side[1] += 1
        elif a.kind == "escalation":
            side[0] += 1
    for start, end in spells.values():
        assert (end - start).days == 14
    assert inside[0] / inside[1] > 2 * outside[0] / outside[1]
