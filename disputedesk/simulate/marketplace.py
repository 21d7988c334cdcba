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
    categories: tuple[Category, ...] = field(default_factory=default_categories)
    partners: tuple[PartnerNetwork, ...] = field(default_factory=lambda: THREE_PARTNERS)
    honest: HonestBehaviour = field(default_factory=HonestBehaviour)
    fraud: FraudPlan = field(default_factory=FraudPlan)
    # Every scan of the journey (scheduled, picked up, in transit, at hub, out for delivery)
    # or only those the detectors need
    # (pickup or QC with the weight, and the end of the journey): the evaluation uses the latter
    # to keep three seeds within minutes.
    full_lifecycle: bool = False
