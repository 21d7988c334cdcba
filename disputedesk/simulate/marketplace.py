"""What a simulated marketplace looks like: sellers, buyers, categories with price
distributions, partners with hubs and agents, honest behaviour and the fraud to plant."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    # Item value is log-normal: median in rupees and the spread of its log.
    median_rupees: float
    sigma: float
    weight_g: tuple[int, int]  # parcel weight range


# desipost's snapshots name the hub (`location`) but never the agent who scanned.
FORMATS_WITHOUT_AGENT = frozenset({"desipost"})


@dataclass(frozen=True, slots=True)
class PartnerNetwork:
    partner_id: str
    hubs: int
    agents_per_hub: int
    # Webhook format the emitter speaks: swiftship, rapidroute or desipost.
    format: str = "swiftship"

    @property
    def reports_agents(self) -> bool:
        return self.format not in FORMATS_WITHOUT_AGENT


@dataclass(frozen=True, slots=True)
class LookAlikes:
    """Honest behaviour that resembles fraud: what a detector must not flag. All off by
    default, so the default world stays the one the figures in the README were measured on."""

    # One honest seller receives this share of all returns, claiming at `large_seller_ratio`
    # times the honest mean (a big seller with a somewhat worse product line).
    large_seller_share: float = 0.0
    large_seller_ratio: float = 1.5
    # Buyer accounts of one household: one address and one phone, each returning as anyone.
    household_accounts: int = 0
    # Buyers of a small town served by one agent only, each returning this many times.
    small_town_buyers: int = 0
    small_town_returns_each: int = 6
    # The share of orders with two or three items returned together; when more than one of
    # them is claimed, the claims carry the order's one invoice (the same file).
    multi_item_share: float = 0.0
    # The most items an order returns besides its first (2: one or two more, one twice as
    # often as two; otherwise any number up to it).
    multi_item_extra: int = 2
    # A small honest seller whose first three delivered returns are all claimed.
    early_claims_seller: bool = False
    # Honest sellers with a few bad weeks (a faulty batch, a courier's bad run): for
    # `bad_weeks_days` they claim at `bad_weeks_ratio` times their own rate, then as before.
    bad_weeks_sellers: int = 0
    bad_weeks_ratio: float = 3.0
    bad_weeks_days: int = 14


@dataclass(frozen=True, slots=True)
class HonestBehaviour:
    returns_per_day: float = 22.0
    # Sellers' own claim rates vary: Beta(a, b) around 4 %.
    claim_rate_beta: tuple[float, float] = (4.0, 96.0)
    # Partner incidents on an honest journey.
    weight_drop_rate: float = 0.012
    lost_rate: float = 0.004
    damaged_rate: float = 0.004
    # A seller whose parcel was pilfered or damaged usually claims.
    claim_after_incident: float = 0.7
    qc_required_share: float = 0.5
    # Households: the share of buyers that share an address with another buyer.
    shared_household_share: float = 0.04
    # One honest hub has one bad day (an accident, a broken scale): many incidents that day.
    bad_day_incident_rate: float = 0.5
    # Honest hubs' loss rates differ (a careful city hub, a rural hub on bad roads): each hub's
    # honest incidents are the rates above times a factor drawn log-uniformly from this span.
    # None: every hub alike.
    hub_incident_factors: tuple[float, float] | None = None
    # Honest claims by type: DAMAGED, WRONG_ITEM, USED_ITEM, MISSING_ITEM.
    claim_mix: tuple[float, float, float, float] = (0.5, 0.2, 0.15, 0.15)
    # Hours from delivery to an honest claim: 2 plus an exponential with this mean, at most 150.
    claim_delay_mean_h: float = 30.0
    # The share of honest claims on delivered returns filed as NOT_RECEIVED (a seller who
    # cannot find the parcel its partner delivered).
    not_received_share: float = 0.0
    # Categories whose honest claim rates differ: a category's sellers claim at their own rate
    # times its factor (1 when absent), so "2.5x its category" and "2.5x the market" differ.
    category_claim_factors: tuple[tuple[str, float], ...] = ()
    # And drift over the world (a season, a volume peak): a category's factor runs from
    # (1 - d) times itself on the first day to (1 + d) times on the last.
    category_claim_drift: tuple[tuple[str, float], ...] = ()
    lookalikes: LookAlikes = field(default_factory=lambda: LookAlikes())

    @property
    def mean_claim_rate(self) -> float:
        """The honest sellers' mean claim rate per delivered, unharmed return."""
        a, b = self.claim_rate_beta
        return a / (a + b)

    @property
    def incident_rate(self) -> float:
        """The honest partner incidents per journey (weight drop, loss, transit damage)."""
        return self.weight_drop_rate + self.lost_rate + self.damaged_rate

    @property
    def qc_contradiction_rate(self) -> float:
        """The honest rate of a QC-passed, delivered return later claimed as wrong or used."""
        _, wrong, used, _ = self.claim_mix
        return self.mean_claim_rate * (wrong + used) / sum(self.claim_mix)


@dataclass(frozen=True, slots=True)
class FraudPlan:
    """How many fraudsters of each pattern to plant, and how hard they push."""

    claim_abusers: int = 3
    # Returns a planted seller receives over the simulated period.
    planted_seller_returns: int = 50
    claim_abuse_rate: float = 0.45
    evidence_reusers: int = 3
    evidence_reuser_claim_rate: float = 0.12
    wrong_used_buyers: int = 5
    wrong_used_returns_each: int = 10
    # Drawn per buyer from this span instead (None: `wrong_used_returns_each` for every one).
    wrong_used_returns_span: tuple[int, int] | None = None
    # The share of a wrong/used buyer's delivered returns their sellers claim as wrong or used,
    # drawn per buyer from this span (None: 85 % for every one).
    wrong_used_claim_share: tuple[float, float] | None = None
    # Whether a wrong/used buyer's returns are QC'd as anyone's (the marketplace does not know
    # the buyer): a sloppy QC pass then meets the buyer's claim. False keeps the default world.
    wrong_used_qc: bool = False
    pilfering_hubs: int = 1
    pilfering_agents: int = 2
    pilferage_rate: float = 0.2  # extra incidents at a pilfering hub
    agent_pilferage_rate: float = 0.3  # an agent steals from more of the fewer parcels
    qc_agents: int = 2
    qc_contradiction_rate: float = 0.5
    seller_buyer_rings: int = 2
    seller_buyer_returns: int = 10
    agent_buyer_rings: int = 2
    agent_buyer_returns: int = 10
    identity_rings: int = 2
    identity_ring_buyers: int = 4
    identity_ring_returns_each: int = 3
    # Moderate worlds: each planted entity draws its intensity from a range, as a multiple of
    # what an honest one does (the honest mean claim rate, incident rate, QC contradiction
    # rate). None keeps the fixed rates above.
    claim_abuse_intensity: tuple[float, float] | None = None
    # The share of an abuser's claims that carry the tell-tale signs (MISSING_ITEM, filed as
    # the window closes); the others look like anyone's claims.
    abuser_red_flags: float = 1.0
    # The share of an abuser's claims it files on one of its category's dearest items (fraud.md:
    # "many high-value claims"); 0 keeps every world as it was drawn before this existed.
    abuser_high_value: float = 0.0
    # Drawn per pilfering hub or agent: its incident rate as a multiple of its peers' honest
    # rate (a hub: the other hubs'; an agent: its hub's), None for the fixed rates above.
    pilferage_intensity: tuple[float, float] | None = None
    # When each planted pilfering hub or agent starts, as a share of the world's days drawn
    # from this span (None: from the first day). Before it the entity is honest.
    pilferage_onset: tuple[float, float] | None = None
    qc_intensity: tuple[float, float] | None = None
    # Since 2026-12-05 (0: every abuser sells in the category it was drawn in): this many claim
    # abusers moved into one category (drawn from a stream of their own), crowding its honest
    # sellers; and this many moved into a category of their own that no honest seller sells in
    # (`ALONE_CATEGORY`), where no peer is honest.
    crowded_abusers: int = 0
    abusers_alone: int = 0


SWIFTSHIP_ONLY: tuple[PartnerNetwork, ...] = (
    PartnerNetwork("swiftship", hubs=6, agents_per_hub=3, format="swiftship"),
)
# The marketplace hands each return to the partner serving the buyer's area: swiftship is the
# largest network, desipost the smallest.
THREE_PARTNERS: tuple[PartnerNetwork, ...] = (
    *SWIFTSHIP_ONLY,
    PartnerNetwork("rapidroute", hubs=4, agents_per_hub=3, format="rapidroute"),
    PartnerNetwork("desipost", hubs=3, agents_per_hub=2, format="desipost"),
)


# The category a world's `FraudPlan.abusers_alone` claim abusers sell in, and no honest seller.
ALONE_CATEGORY = "collectibles"


def default_categories() -> tuple[Category, ...]:
    return (
        Category("electronics", 9000, 0.8, (300, 2500)),
        Category("fashion", 1200, 0.6, (200, 1200)),
        Category("home", 2500, 0.7, (500, 5000)),
        Category("beauty", 700, 0.5, (100, 800)),
    )


@dataclass(frozen=True, slots=True)
class Marketplace:
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    days: int = 56
    sellers: int = 60
    buyers: int = 1500
    # Seller sizes are Pareto: a few large sellers carry much of the volume.
    seller_size_shape: float = 1.2
    # Each category's weight in the sellers' draw (empty: every category alike).
    category_weights: tuple[float, ...] = ()
    categories: tuple[Category, ...] = field(default_factory=default_categories)
    partners: tuple[PartnerNetwork, ...] = field(default_factory=lambda: THREE_PARTNERS)
    # Agents' workloads: log-normal with this spread of the log (0: every agent serves as many
    # buyers). Busy agents gather evidence faster, for and against them.
    agent_workload_spread: float = 0.0
    honest: HonestBehaviour = field(default_factory=HonestBehaviour)
    fraud: FraudPlan = field(default_factory=FraudPlan)
    # Every scan of the journey (scheduled, picked up, in transit, at hub, out for delivery)
    # or only those the detectors need
    # (pickup or QC with the weight, and the end of the journey): the evaluation uses the latter
    # to keep three seeds within minutes.
    full_lifecycle: bool = False
    # Partners' published shapes (off by default, so earlier worlds stay as they were): the
    # share of rapidroute parcels whose scans name no pickup agent (its sample names none), and
    # desipost journeys that name a pickup area and then pass an origin and a destination hub,
    # weighed only at pickup and delivery (its sample), the loss at either hub.
    rapidroute_agentless_share: float = 0.0
    desipost_routes: bool = False
