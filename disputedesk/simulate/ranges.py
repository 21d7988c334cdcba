"""Worlds drawn from ranges: `fraud-eval --ranges` judges the detectors over a space of
marketplaces, not at the one point they were developed on.

Each seed draws its own marketplace: volumes and duration, sellers and buyers, how much honest
sellers differ from each other, item values, the honest claim mix, the partner mix (all three
partners, each with its own hubs and agents), the honest look-alikes, and, for every planted
entity, its intensity (a multiple of what an honest one does). Two fixed seed sets: development
seeds to work with, held-out seeds looked at only for the final figures.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from disputedesk.simulate.marketplace import (
    Category,
    FraudPlan,
    HonestBehaviour,
    LookAlikes,
    Marketplace,
    PartnerNetwork,
    default_categories,
)

# Development seeds: tune and explore on these. Held-out seeds: run once, for the figures that
# are reported; a detector change judged on them is no longer judged on unseen worlds.
DEV_SEEDS = tuple(range(101, 113))
HELD_OUT_SEEDS = tuple(range(9001, 9013))
# The wide set's own seeds (`WIDE_RANGES`): its worlds are looked at to find what the dev
# worlds never vary, not to tune against.
WIDE_SEEDS = tuple(range(5001, 5025))
# The beyond set's seeds (`BEYOND_RANGES`, since 2026-12-05): like the wide set's, looked at to
# find what breaks, not to tune against.
BEYOND_SEEDS = tuple(range(7001, 7025))

Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class WorldRanges:
    days: tuple[int, int] = (28, 56)
    returns_per_day: Span = (40.0, 140.0)
    sellers: tuple[int, int] = (50, 160)
    returns_per_buyer: Span = (2.0, 5.0)
    # Honest claim rates: Beta with this mean and concentration (a + b); a low concentration
    # is a marketplace whose honest sellers differ widely.
    claim_rate_mean: Span = (0.03, 0.08)
    claim_rate_concentration: Span = (100.0, 1000.0)  # drawn log-uniformly
    # Since wave 6: each category's honest claim rate is the market's times a factor (drawn
    # log-uniformly), drifting over the world by up to this share either way (a season, a
    # volume peak), and a few honest sellers have bad weeks (their own rate times a ratio).
    category_claim_factor: Span = (0.5, 2.0)
    category_claim_drift: Span = (-0.3, 0.3)
    bad_weeks_sellers: tuple[int, int] = (1, 3)
    bad_weeks_ratio: Span = (2.0, 4.0)
    bad_weeks_days: tuple[int, int] = (7, 21)
    # Item values: each category's median times a factor.
    value_factor: Span = (0.5, 2.0)
    # Each category's spread of log value times a factor, and each honest claim type's weight
    # times a factor (one draw per category, per type).
    value_sigma_factor: Span = (0.8, 1.3)
    claim_mix_factor: Span = (0.5, 1.5)
    # Honest look-alikes' sizes.
    large_seller_share: Span = (0.08, 0.2)
    large_seller_ratio: Span = (1.2, 1.6)
    household_accounts: tuple[int, int] = (2, 4)
    small_town_buyers: tuple[int, int] = (5, 12)
    small_town_returns_each: tuple[int, int] = (4, 8)
    multi_item_share: Span = (0.03, 0.1)
    # Honest partner incidents per journey.
    incident_rate: Span = (0.012, 0.03)
    # Each hub's honest incidents are the world's rate times a factor drawn log-uniformly from
    # this span: honest hubs differ (a careful city hub, a rural hub on bad roads), as they do
    # in a marketplace we did not simulate.
    hub_incident_factors: Span = (0.6, 1.7)
    qc_required_share: Span = (0.3, 0.8)
    # Per partner: hubs and agents per hub.
    swiftship_hubs: tuple[int, int] = (4, 7)
    rapidroute_hubs: tuple[int, int] = (2, 5)
    desipost_hubs: tuple[int, int] = (1, 3)
    agents_per_hub: tuple[int, int] = (2, 4)
    agent_workload_spread: Span = (0.5, 1.2)
    # Planted intensities, per entity.
    claim_abuse_intensity: Span = (2.0, 5.0)
    # A pilfering hub's incident rate over the other hubs' honest rate, an agent's over its
    # own hub's honest rate (its hub-mates'): the peers the detector weighs it against.
    pilferage_intensity: Span = (2.0, 5.0)
    # When a planted pilfering hub or agent starts, as a share of the world's days: from the
    # first day to midway.
    pilferage_onset: Span = (0.0, 0.5)
    # QC agents at moderate intensities, about the goal's 2.5-4x (2-6x until 2026-12-04).
    qc_intensity: Span = (2.0, 4.5)
    abuser_red_flags: Span = (0.0, 0.5)
    # Since 2026-12-04, from a stream of its own: the share of an abuser's claims filed on one
    # of its category's dearest items (0: it claims on whatever it is sent).
    abuser_high_value: Span = (0.0, 0.6)
    # Each planted seller's returns, as a share of the world's: a dozen planted sellers
    # (abusers, reusers, rings) then carry a tenth to a quarter of the marketplace, not most
    # of it (where fraud holds most of a category, no peer baseline is honest).
    planted_seller_share: Span = (0.006, 0.02)
    claim_abusers: tuple[int, int] = (3, 6)
    pilfering_hubs: tuple[int, int] = (1, 2)
    pilfering_agents: tuple[int, int] = (2, 3)
    qc_agents: tuple[int, int] = (2, 3)
    # Since 2026-12-04, from a stream of their own (the marketplace's other draws stay as they
    # were): more QC agents, so that a world's QC recall and precision rest on more than one or
    # two, and wrong/used buyers drawn per world and per buyer (how many returns, how many of
    # them claimed as wrong or used), their returns QC'd as anyone's.
    more_qc_agents: tuple[int, int] = (2, 3)
    wrong_used_buyers: tuple[int, int] = (5, 12)
    wrong_used_returns_each: tuple[int, int] = (4, 12)
    wrong_used_claim_share: Span = (0.3, 0.85)
    # Since 2026-12-05, from a stream of its own: partners' published shapes. A share of
    # rapidroute's parcels name no pickup agent (its sample names none), and desipost's journeys
    # name a pickup area and pass two hubs (its sample), weighed at pickup and delivery only.
    rapidroute_agentless_share: Span = (0.2, 0.8)
    desipost_routes: bool = True
    # The wide set's dimensions (None: not drawn, so the dev and held-out worlds stay what they
    # were), each from the stream `ranges/wide/{seed}`:
    # - each category's value median its own factor (on top of `value_factor`);
    category_value_factor: Span | None = None
    # - the categories' shares of the sellers (each a weight drawn log-uniformly);
    category_share_weight: Span | None = None
    # - the Pareto shape of seller sizes (lower: a few giants carry more of the volume);
    seller_size_shape: Span | None = None
    # - the share of buyers sharing an address with another buyer;
    shared_household_share: Span | None = None
    # - hours from delivery to an honest claim (the mean of the exponential part);
    claim_delay_mean_h: Span | None = None
    # - the share of honest claims on delivered returns filed as NOT_RECEIVED;
    not_received_share: Span | None = None
    # - the most extra items a multi-item order returns with the first.
    multi_item_extra: tuple[int, int] | None = None
    # - how often the seller of a harmed parcel claims.
    claim_after_incident: Span | None = None
    # The beyond set's dimension (None: not drawn), from the stream `ranges/beyond/{seed}`: one
    # honest claim type, drawn per world, has its weight multiplied by a factor from this span
    # (log-uniformly), so that it makes most of the honest claims (a marketplace whose claims
    # are mostly MISSING_ITEM, or mostly DAMAGED).
    dominant_claim_factor: Span | None = None
    # The crowded sets' dimensions (None: not drawn), from the stream `ranges/crowded/{seed}`
    # (since 2026-12-05): how many of the world's claim abusers sell in one category beside its
    # honest sellers, and how many in a category of their own that no honest seller sells in.
    crowded_abusers: tuple[int, int] | None = None
    abusers_alone: tuple[int, int] | None = None


# What a marketplace built from the product's fraud description alone could be, beyond the
# dev ranges: every dimension the description leaves open varied further, the planted fraud at
# the moderate intensities (2.5-4x) of a world we did not simulate, and the look-alikes at their
# larger sizes (a giant honest seller, households of up to six accounts, a town of twenty).
WIDE_RANGES = WorldRanges(
    days=(21, 70),
    returns_per_day=(20.0, 200.0),
    sellers=(25, 300),
    returns_per_buyer=(1.3, 8.0),
    claim_rate_mean=(0.02, 0.12),
    claim_rate_concentration=(50.0, 2000.0),
    category_claim_factor=(0.33, 3.0),
    category_claim_drift=(-0.4, 0.4),
    bad_weeks_sellers=(0, 4),
    value_factor=(0.25, 4.0),
    value_sigma_factor=(0.5, 1.8),
    claim_mix_factor=(0.2, 3.0),
    incident_rate=(0.005, 0.05),
    # An honest hub at twice its peers all along is what a pilfering hub from its first day
    # looks like; the wide hubs differ up to that (a hub with one bad day is a look-alike).
    hub_incident_factors=(0.5, 2.0),
    qc_required_share=(0.1, 0.95),
    swiftship_hubs=(2, 9),
    rapidroute_hubs=(1, 6),
    desipost_hubs=(1, 4),
    agents_per_hub=(2, 6),
    agent_workload_spread=(0.2, 1.5),
    claim_abuse_intensity=(2.5, 4.0),
    pilferage_intensity=(2.5, 4.0),
    qc_intensity=(2.5, 4.0),
    planted_seller_share=(0.004, 0.03),
    large_seller_share=(0.1, 0.3),
    large_seller_ratio=(1.0, 1.7),
    household_accounts=(2, 6),
    small_town_buyers=(5, 20),
    small_town_returns_each=(3, 12),
    multi_item_share=(0.03, 0.2),
    rapidroute_agentless_share=(0.0, 1.0),
    category_value_factor=(0.5, 2.0),
    category_share_weight=(0.2, 5.0),
    seller_size_shape=(0.8, 2.5),
    shared_household_share=(0.01, 0.12),
    claim_delay_mean_h=(6.0, 90.0),
    not_received_share=(0.0, 0.15),
    multi_item_extra=(1, 3),
    claim_after_incident=(0.4, 0.95),
)

# Beyond the wide ranges (since 2026-12-05), where the wide set still stays near our worlds:
# thin volumes (10-60 returns a day, each planted seller 0.3-1.5 % of them), a few sellers a
# category or hundreds (15-600 sellers, the categories' shares as wide), item values skewed
# further (each category's spread of log value x1.2-2.5: a long tail of dear items), one claim
# type making most of the honest claims, and every claim abuser at the low end of the moderate
# intensities (2.5-3x its category).
BEYOND_RANGES = replace(
    WIDE_RANGES,
    returns_per_day=(10.0, 60.0),
    sellers=(15, 600),
    value_sigma_factor=(1.2, 2.5),
    claim_abuse_intensity=(2.5, 3.0),
    planted_seller_share=(0.003, 0.015),
    dominant_claim_factor=(3.0, 12.0),
)

# The same worlds with every claim abuser at 2.5x its category, the low end of the goal's
# intensities: a planted abuser's intensity is drawn from its span with one draw whatever the
# span, so each world is the marketplace it was, only its abusers claim less.
LOW_INTENSITY = (2.5, 2.5)

# Many abusers in one category (since 2026-12-05): the dev worlds with 6-9 claim abusers, 4-6 of
# them selling in one category beside its honest sellers (a planted share that widens the
# category's spread and lifts its rate), and with 2-3 of them in a category of their own, where
# no seller is honest and no peer rate exists. The marketplaces are the dev worlds' (every
# other draw as it was), only the abusers are more and sell elsewhere.
CROWDED_RANGES = WorldRanges(claim_abusers=(6, 9), crowded_abusers=(4, 6))
ALONE_RANGES = WorldRanges(abusers_alone=(2, 3))

RANGE_SETS: dict[str, tuple[tuple[int, ...], WorldRanges]] = {
    "dev": (DEV_SEEDS, WorldRanges()),
    "held-out": (HELD_OUT_SEEDS, WorldRanges()),
    "wide": (WIDE_SEEDS, WIDE_RANGES),
    "beyond": (BEYOND_SEEDS, BEYOND_RANGES),
    "dev-low": (DEV_SEEDS, WorldRanges(claim_abuse_intensity=LOW_INTENSITY)),
    "held-out-low": (HELD_OUT_SEEDS, WorldRanges(claim_abuse_intensity=LOW_INTENSITY)),
    "wide-low": (WIDE_SEEDS, replace(WIDE_RANGES, claim_abuse_intensity=LOW_INTENSITY)),
    "dev-crowded": (DEV_SEEDS, CROWDED_RANGES),
    "dev-alone": (DEV_SEEDS, ALONE_RANGES),
}


def _log_uniform(rng: random.Random, span: Span) -> float:
    return math.exp(rng.uniform(math.log(span[0]), math.log(span[1])))


def draw_market(seed: int, ranges: WorldRanges | None = None) -> Marketplace:
    """The marketplace of one seed, drawn from `ranges` (its own random stream: the world's
    traffic is then drawn by the generator from the same seed)."""
    r = ranges or WorldRanges()
    rng = random.Random(f"ranges/{seed}")
    days = rng.randint(*r.days)
    per_day = rng.uniform(*r.returns_per_day)
    mean = rng.uniform(*r.claim_rate_mean)
    strength = _log_uniform(rng, r.claim_rate_concentration)
    incidents = rng.uniform(*r.incident_rate)
    # The honest claim mix: each type's weight varies around the usual one.
    mix = tuple(w * rng.uniform(*r.claim_mix_factor) for w in (0.5, 0.2, 0.15, 0.15))
    factor = rng.uniform(*r.value_factor)
    categories = tuple(
        Category(
            c.name,
            c.median_rupees * factor,
            c.sigma * rng.uniform(*r.value_sigma_factor),
            c.weight_g,
        )
        for c in default_categories()
    )
    per_hub = rng.randint(*r.agents_per_hub)
    partners = (
        PartnerNetwork("swiftship", rng.randint(*r.swiftship_hubs), per_hub, "swiftship"),
        PartnerNetwork("rapidroute", rng.randint(*r.rapidroute_hubs), per_hub, "rapidroute"),
        PartnerNetwork("desipost", rng.randint(*r.desipost_hubs), max(per_hub, 2), "desipost"),
    )
    honest = HonestBehaviour(
        returns_per_day=per_day,
        claim_rate_beta=(mean * strength, (1 - mean) * strength),
        weight_drop_rate=incidents * 0.6,
        lost_rate=incidents * 0.2,
        damaged_rate=incidents * 0.2,
        qc_required_share=rng.uniform(*r.qc_required_share),
        hub_incident_factors=r.hub_incident_factors,
        claim_mix=(mix[0], mix[1], mix[2], mix[3]),
        lookalikes=LookAlikes(
            large_seller_share=rng.uniform(*r.large_seller_share),
            large_seller_ratio=rng.uniform(*r.large_seller_ratio),
            household_accounts=rng.randint(*r.household_accounts),
            small_town_buyers=rng.randint(*r.small_town_buyers),
            small_town_returns_each=rng.randint(*r.small_town_returns_each),
            multi_item_share=rng.uniform(*r.multi_item_share),
            early_claims_seller=True,
        ),
    )
    fraud = replace(
        FraudPlan(),
        claim_abusers=rng.randint(*r.claim_abusers),
        planted_seller_returns=max(30, int(rng.uniform(*r.planted_seller_share) * per_day * days)),
        claim_abuse_intensity=r.claim_abuse_intensity,
        abuser_red_flags=rng.uniform(*r.abuser_red_flags),
        pilfering_hubs=rng.randint(*r.pilfering_hubs),
        pilfering_agents=rng.randint(*r.pilfering_agents),
        pilferage_intensity=r.pilferage_intensity,
        pilferage_onset=r.pilferage_onset,
        qc_agents=rng.randint(*r.qc_agents),
        qc_intensity=r.qc_intensity,
    )
    sellers = rng.randint(*r.sellers)
    buyers = max(400, int(per_day * days / rng.uniform(*r.returns_per_buyer)))
    # The classes added in wave 6 draw from a stream of their own: everything above is what
    # the same seed drew before them, so earlier waves' worlds differ only by these.
    later = random.Random(f"ranges/wave6/{seed}")
    names = [c.name for c in categories]
    honest = replace(
        honest,
        category_claim_factors=tuple(
            (name, round(_log_uniform(later, r.category_claim_factor), 3)) for name in names
        ),
        category_claim_drift=tuple(
            (name, round(later.uniform(*r.category_claim_drift), 3)) for name in names
        ),
        lookalikes=replace(
            honest.lookalikes,
            bad_weeks_sellers=later.randint(*r.bad_weeks_sellers),
            bad_weeks_ratio=later.uniform(*r.bad_weeks_ratio),
            bad_weeks_days=later.randint(*r.bad_weeks_days),
        ),
    )
    buyer_side = random.Random(f"ranges/qc-buyers/{seed}")
    fraud = replace(
        fraud,
        qc_agents=fraud.qc_agents + buyer_side.randint(*r.more_qc_agents),
        wrong_used_buyers=buyer_side.randint(*r.wrong_used_buyers),
        wrong_used_returns_span=r.wrong_used_returns_each,
        wrong_used_claim_share=r.wrong_used_claim_share,
        wrong_used_qc=True,
    )
    dear = random.Random(f"ranges/high-value/{seed}")
    fraud = replace(fraud, abuser_high_value=dear.uniform(*r.abuser_high_value))
    shapes = random.Random(f"ranges/shapes/{seed}")
    market = Marketplace(
        rapidroute_agentless_share=shapes.uniform(*r.rapidroute_agentless_share),
        desipost_routes=r.desipost_routes,
        agent_workload_spread=rng.uniform(*r.agent_workload_spread),
        days=days,
        sellers=sellers,
        buyers=buyers,
        categories=categories,
        partners=partners,
        honest=honest,
        fraud=fraud,
    )
    return _crowded(_beyond(_widened(market, seed, r), seed, r), seed, r)


def _widened(market: Marketplace, seed: int, r: WorldRanges) -> Marketplace:
    """The wide set's dimensions, drawn from a stream of their own (none of them set: the
    marketplace as drawn)."""
    wide = random.Random(f"ranges/wide/{seed}")
    honest, la = market.honest, market.honest.lookalikes
    categories = market.categories
    if r.category_value_factor is not None:
        span = r.category_value_factor
        categories = tuple(
            replace(c, median_rupees=c.median_rupees * _log_uniform(wide, span)) for c in categories
        )
    weights: tuple[float, ...] = ()
    if r.category_share_weight is not None:
        weights = tuple(_log_uniform(wide, r.category_share_weight) for _ in categories)
    if r.shared_household_share is not None:
        honest = replace(honest, shared_household_share=wide.uniform(*r.shared_household_share))
    if r.claim_delay_mean_h is not None:
        honest = replace(honest, claim_delay_mean_h=_log_uniform(wide, r.claim_delay_mean_h))
    if r.not_received_share is not None:
        honest = replace(honest, not_received_share=wide.uniform(*r.not_received_share))
    if r.claim_after_incident is not None:
        honest = replace(honest, claim_after_incident=wide.uniform(*r.claim_after_incident))
    if r.multi_item_extra is not None:
        la = replace(la, multi_item_extra=wide.randint(*r.multi_item_extra))
    shape = market.seller_size_shape
    if r.seller_size_shape is not None:
        shape = wide.uniform(*r.seller_size_shape)
    return replace(
        market,
        categories=categories,
        category_weights=weights,
        seller_size_shape=shape,
        honest=replace(honest, lookalikes=la),
    )


CLAIM_TYPES = ("DAMAGED", "WRONG_ITEM", "USED_ITEM", "MISSING_ITEM")


def _beyond(market: Marketplace, seed: int, r: WorldRanges) -> Marketplace:
    """The beyond set's dimension, drawn from a stream of its own (not set: the marketplace as
    drawn): one honest claim type made most of the honest claims."""
    if r.dominant_claim_factor is None:
        return market
    beyond = random.Random(f"ranges/beyond/{seed}")
    dominant = beyond.randrange(len(CLAIM_TYPES))
    factor = _log_uniform(beyond, r.dominant_claim_factor)
    mix = tuple(w * factor if i == dominant else w for i, w in enumerate(market.honest.claim_mix))
    return replace(
        market, honest=replace(market.honest, claim_mix=(mix[0], mix[1], mix[2], mix[3]))
    )


def _crowded(market: Marketplace, seed: int, r: WorldRanges) -> Marketplace:
    """The crowded sets' dimensions, drawn from a stream of their own (neither set: the
    marketplace as drawn)."""
    if r.crowded_abusers is None and r.abusers_alone is None:
        return market
    crowd = random.Random(f"ranges/crowded/{seed}")
    return replace(
        market,
        fraud=replace(
            market.fraud,
            crowded_abusers=crowd.randint(*r.crowded_abusers) if r.crowded_abusers else 0,
            abusers_alone=crowd.randint(*r.abusers_alone) if r.abusers_alone else 0,
        ),
    )


def describe(market: Marketplace) -> dict[str, float | int | str]:
    """The drawn parameters a report shows beside each world's figures."""
    h = market.honest
    a, b = h.claim_rate_beta
    return {
        "days": market.days,
        "returns_per_day": round(h.returns_per_day, 1),
        "sellers": market.sellers,
        "buyers": market.buyers,
        "claim_rate_mean": round(h.mean_claim_rate, 4),
        "claim_rate_concentration": round(a + b, 1),
        "incident_rate": round(h.incident_rate, 4),
        "partners": ", ".join(
            f"{p.partner_id} {p.hubs}x{p.agents_per_hub}" for p in market.partners
        ),
        "claim_abusers": market.fraud.claim_abusers,
        "crowded_abusers": market.fraud.crowded_abusers,
        "abusers_alone": market.fraud.abusers_alone,
        "planted_seller_returns": market.fraud.planted_seller_returns,
        "abuser_red_flags": round(market.fraud.abuser_red_flags, 2),
        "abuser_high_value": round(market.fraud.abuser_high_value, 2),
        "category_claim_factors": ", ".join(
            f"{name} {factor:g}" for name, factor in h.category_claim_factors
        ),
        "category_claim_drift": ", ".join(
            f"{name} {drift:+g}" for name, drift in h.category_claim_drift
        ),
        "bad_weeks_sellers": h.lookalikes.bad_weeks_sellers,
        "qc_agents": market.fraud.qc_agents,
        "rapidroute_agentless_share": round(market.rapidroute_agentless_share, 2),
        "desipost_routes": str(market.desipost_routes),
        "wrong_used_buyers": market.fraud.wrong_used_buyers,
        "value_medians": ", ".join(f"{c.name} {c.median_rupees:.0f}" for c in market.categories),
        "category_weights": ", ".join(f"{w:.2f}" for w in market.category_weights),
        "seller_size_shape": round(market.seller_size_shape, 2),
        "claim_mix": ", ".join(f"{w:.2f}" for w in h.claim_mix),
        "claim_delay_mean_h": round(h.claim_delay_mean_h, 1),
        "not_received_share": round(h.not_received_share, 3),
        "large_seller_share": round(h.lookalikes.large_seller_share, 3),
        "large_seller_ratio": round(h.lookalikes.large_seller_ratio, 2),
        "household_accounts": h.lookalikes.household_accounts,
        "small_town": f"{h.lookalikes.small_town_buyers}x{h.lookalikes.small_town_returns_each}",
    }
