"""The world: sellers, buyers, partners, hubs and agents over 35 days, with fraud planted at
moderate intensity and honest entities that look like fraud, and the ground truth of both.

Everything is drawn from one `random.Random(seed)`, so a seed is a world. Nothing here knows how
the detectors work; the shapes come from the fraud specification's table of patterns:

- claim abuse: sellers claiming at 2.5–4× their category's claim rate, leaning to valuable goods,
  many `MISSING_ITEM` claims on parcels whose weight arrived intact;
- evidence reuse: sellers filing the same photo (or a near-duplicate) on different returns, one
  photo shared by two sellers;
- wrong/used returns: buyers returning wrong or used items to many sellers;
- pilferage: one hub and two pickup agents with weight drops, losses and damage at 3× their peers;
- QC contradiction: agents passing QC on wrong or used items;
- collusion: a seller whose claims fall on three buyers at one address; an agent picking up one
  buyer's disputed returns.

Look-alikes (honest, labelled so): a large seller, a hub with one bad day, a household sharing an
address (two returns of one order claimed with one invoice), more multi-item orders claimed with
one invoice, an agent serving one small town, a small seller whose first three deliveries were
all claimed, and buyers who share an address (families, hostels).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

PATTERNS = (
    "claim_abuse",
    "evidence_reuse",
    "wrong_used",
    "pilferage",
    "qc_contradiction",
    "collusion",
)
ENTITY_TYPES = ("seller", "buyer", "hub", "agent")

DAYS = 35


class Category(NamedTuple):
    name: str
    share: float  # of all returns
    claim_rate: float  # ordinary trouble at the seller's end, per delivered return
    median_rupees: float
    value_spread: float  # sigma of the log of the value
    median_grams: int
    claim_mix: dict[str, float]


C = Category
CATEGORIES: tuple[Category, ...] = (
    C("mobiles", 0.14, 0.040, 11_000, 0.8, 420,
      {"DAMAGED": 0.35, "MISSING_ITEM": 0.3, "WRONG_ITEM": 0.2, "USED_ITEM": 0.15}),
    C("apparel", 0.31, 0.024, 900, 0.6, 380,
      {"USED_ITEM": 0.45, "WRONG_ITEM": 0.3, "DAMAGED": 0.15, "MISSING_ITEM": 0.1}),
    C("kitchen", 0.15, 0.027, 1_900, 0.7, 1_600,
      {"DAMAGED": 0.5, "WRONG_ITEM": 0.2, "MISSING_ITEM": 0.2, "USED_ITEM": 0.1}),
    C("personal_care", 0.11, 0.021, 500, 0.5, 260,
      {"USED_ITEM": 0.4, "DAMAGED": 0.3, "WRONG_ITEM": 0.2, "MISSING_ITEM": 0.1}),
    C("footwear", 0.13, 0.030, 1_600, 0.5, 900,
      {"USED_ITEM": 0.45, "WRONG_ITEM": 0.35, "DAMAGED": 0.15, "MISSING_ITEM": 0.05}),
    C("stationery", 0.07, 0.014, 350, 0.5, 500,
      {"DAMAGED": 0.4, "MISSING_ITEM": 0.3, "WRONG_ITEM": 0.3}),
    C("watches", 0.09, 0.032, 4_500, 0.9, 230,
      {"MISSING_ITEM": 0.35, "WRONG_ITEM": 0.25, "DAMAGED": 0.25, "USED_ITEM": 0.15}),
)  # fmt: skip
CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)

# Trouble in transit for an honest hub or agent, per return (they add up to about 3 %).
P_WEIGHT_DROP = 0.014
P_LOST = 0.006
P_DAMAGED = 0.011
PILFER_FACTOR = 3.0
# What `ship` returns for a parcel harmed in transit: the outcomes pilferage is made of.
HARMED_OUTCOMES = frozenset({"lost", "damaged", "drop"})
# A buyer who is not a planted one sends a wrong or used item now and then.
P_HONEST_WRONG_USED = 0.012
P_PLANTED_WRONG_USED = 0.75
# An honest QC agent catches a wrong or used item at pickup this often (the return then stops).
P_QC_CATCH = 0.55
# The patterns a claim carries for what the buyer sent back: a wrong or used item, and a QC pass
# it contradicts. A claim on a parcel harmed in transit is about the journey, not the item.
ITEM_PATTERNS = frozenset({"wrong_used", "qc_contradiction"})
# A re-encoded photo lies one or two bits from its picture's perceptual hash (`_near`), so two
# re-encodings of one picture lie at most this far apart.
SAME_PICTURE_BITS = 4

PARTNERS = (("swiftship", 0.30), ("rapidroute", 0.45), ("desipost", 0.25))
HUB_CITIES = {
    "swiftship": ("BLR-HSR", "BLR-WFD", "CHN-GUI", "HYD-KPY"),
    "rapidroute": ("DEL-OKH", "DEL-DWK", "GGN-UDY", "JPR-MLV"),
    "desipost": ("Kolkata_Hub", "Patna_Hub", "Guwahati_Hub", "Bhubaneswar_Hub"),
}


@dataclass
class Scan:
    kind: str  # canonical type, rendered per partner by `traffic`
    at: datetime
    hub: str
    agent: str | None
    weight_g: int | None = None
    pod_otp: bool | None = None
    qc_failure_reason: str | None = None


@dataclass
class Evidence:
    kind: str
    sha256: str
    perceptual_hash: str | None
    captured_at: datetime


@dataclass
class Claim:
    claim_type: str
    amount: int
    filed_at: datetime  # world time; intake stamps its own clock when the request lands
    evidence: list[Evidence]
    received_weight_g: int | None
    description: str
    patterns: set[str] = field(default_factory=set)


@dataclass
class Return:
    return_id: str
    order_id: str
    seller: str
    buyer: str
    category: str
    value: int  # paise
    qc_required: bool
    partner: str
    awb: str
    initiated_at: datetime
    origin_hub: str
    dest_hub: str
    agent: str | None  # desipost names no agent
    buyer_contact_hash: str
    buyer_address_hash: str
    scans: list[Scan] = field(default_factory=list)
    claim: Claim | None = None
    # Planted fraud touching this return (pattern names), whether or not it was claimed.
    patterns: set[str] = field(default_factory=set)


@dataclass
class World:
    seed: int
    start: datetime
    end: datetime
    returns: list[Return]
    # pattern -> entity type -> entity ids planted for it
    truth: dict[str, dict[str, set[str]]]
    # entity type -> every entity id of that type in the world
    entities: dict[str, set[str]]
    # entity type -> id -> the honest look-alike it is
    lookalikes: dict[str, dict[str, str]]
    # (entity type, id) -> world time of its first planted event
    first_planted: dict[tuple[str, str], datetime]
    # pattern -> entity type -> ids planted whose pattern never showed in the traffic (an
    # evidence reuser none of whose photos came back): no pattern's truth, and not honest.
    unshown: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    @property
    def claims(self) -> list[tuple[Return, Claim]]:
        return [(r, r.claim) for r in self.returns if r.claim is not None]

    def fraud_entities(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {t: set() for t in ENTITY_TYPES}
        for by_type in [*self.truth.values(), *self.unshown.values()]:
            for etype, ids in by_type.items():
                out[etype] |= ids
        return out

    def summary(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "returns": len(self.returns),
            "claims": len(self.claims),
            "partners": {p: sum(r.partner == p for r in self.returns) for p, _ in PARTNERS},
            "entities": {t: len(ids) for t, ids in self.entities.items()},
            "planted": {
                p: {t: sorted(ids) for t, ids in by.items() if ids} for p, by in self.truth.items()
            },
            "planted_claims": {p: sum(p in c.patterns for _, c in self.claims) for p in PATTERNS},
            "unshown": {
                p: {t: sorted(ids) for t, ids in by.items() if ids}
                for p, by in self.unshown.items()
            },
            "lookalikes": self.lookalikes,
        }


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _near(phash: str, rng: random.Random) -> str:
    """The same picture re-encoded: one or two of its 64 bits flipped."""
    bits = int(phash, 16)
    for _ in range(rng.choice((1, 2))):
        bits ^= 1 << rng.randrange(64)
    return f"{bits:016x}"


class _Builder:
    def __init__(self, seed: int, *, scale: float, end: datetime) -> None:
        self.rng = random.Random(f"fraudworld/{seed}")
        self.seed = seed
        self.scale = scale
        self.end = end
        self.start = end - timedelta(days=DAYS)
        self.tag = f"W{seed}"
        self.returns: list[Return] = []
        self.truth: dict[str, dict[str, set[str]]] = {
            p: {t: set() for t in ENTITY_TYPES} for p in PATTERNS
        }
        self.lookalikes: dict[str, dict[str, str]] = {t: {} for t in ENTITY_TYPES}
        self.first_planted: dict[tuple[str, str], datetime] = {}
        self.counter = 0
        self.order_counter = 0
        self.hubs: dict[str, list[str]] = {
            p: [f"{self.tag}-{c}-{i + 1:02d}" for i, c in enumerate(cities)]
            for p, cities in HUB_CITIES.items()
        }
        # Agents belong to a hub; desipost reports none.
        self.agents: dict[str, list[str]] = {}
        for partner in ("swiftship", "rapidroute"):
            for hub in self.hubs[partner]:
                self.agents[hub] = [
                    f"{self.tag}-AG-{partner[:2].upper()}{len(self.agents) * 10 + k + 1:03d}"
                    for k in range(self.rng.choice((3, 4)))
                ]
        n_buyers = max(40, int(3_900 * scale))
        self.buyers = [f"{self.tag}-B{i:05d}" for i in range(n_buyers)]
        self.contact = {
            b: hashlib.sha256(f"c/{seed}/{b}".encode()).hexdigest() for b in self.buyers
        }
        self.address = {
            b: hashlib.sha256(f"a/{seed}/{b}".encode()).hexdigest() for b in self.buyers
        }
        # Families and hostels: about 3 % of buyers share an address with another buyer.
        for _ in range(int(n_buyers * 0.015)):
            a, b = self.rng.sample(self.buyers, 2)
            self.address[b] = self.address[a]
        self.buyer_weights = [1.0 / (1 + i % 97) ** 0.35 for i in range(n_buyers)]

    # -- helpers ---------------------------------------------------------------------------

    def t(self, day: float) -> datetime:
        return self.start + timedelta(days=day)

    def plant(self, pattern: str, etype: str, eid: str) -> None:
        self.truth[pattern][etype].add(eid)

    def note_first(self, etype: str, eid: str, when: datetime) -> None:
        key = (etype, eid)
        if key not in self.first_planted or when < self.first_planted[key]:
            self.first_planted[key] = when

    def category(self, skew: dict[str, float] | None = None) -> Category:
        weights = [c.share * (skew or {}).get(c.name, 1.0) for c in CATEGORIES]
        return self.rng.choices(CATEGORIES, weights=weights)[0]

    def value(self, cat: Category, premium: float = 1.0) -> int:
        rupees = cat.median_rupees * premium * math.exp(self.rng.gauss(0, cat.value_spread))
        return max(9_900, int(round(rupees, -1) * 100))

    def evidence(self, when: datetime, *, video: float, invoice: float) -> list[Evidence]:
        items = [Evidence("PHOTO", _hex(self.rng, 64), _hex(self.rng, 16), when)]
        if self.rng.random() < video:
            items.append(Evidence("UNBOXING_VIDEO", _hex(self.rng, 64), None, when))
        if self.rng.random() < invoice:
            items.append(Evidence("INVOICE", _hex(self.rng, 64), None, when))
        return items

    def new_return(
        self,
        seller: str,
        *,
        day: float,
        buyer: str | None = None,
        cat: Category | None = None,
        premium: float = 1.0,
        partner: str | None = None,
        agent: str | None = None,
        hub: str | None = None,
        dest_hub: str | None = None,
        order_id: str | None = None,
    ) -> Return:
        rng = self.rng
        self.counter += 1
        cat = cat or self.category()
        if agent is not None:
            hub = next(h for h, ags in self.agents.items() if agent in ags)
        if hub is not None:
            partner = next(p for p, hs in self.hubs.items() if hub in hs)
        partner = partner or rng.choices([p for p, _ in PARTNERS], [w for _, w in PARTNERS])[0]
        origin = hub or rng.choice(self.hubs[partner])
        dest = dest_hub or rng.choice([h for h in self.hubs[partner] if h != origin])
        if partner != "desipost" and agent is None:
            agent = rng.choice(self.agents[origin])
        if partner == "desipost":
            agent = None
        buyer = buyer or rng.choices(self.buyers, weights=self.buyer_weights)[0]
        if order_id is None:
            self.order_counter += 1
            order_id = f"{self.tag}-O{self.order_counter:06d}"
        prefix = {"swiftship": "SS", "rapidroute": "RR", "desipost": "DP"}[partner]
        cat_qc = 0.6 if cat.name in ("mobiles", "apparel", "footwear", "watches") else 0.25
        ret = Return(
            return_id=f"{self.tag}-R{self.counter:06d}",
            order_id=order_id,
            seller=seller,
            buyer=buyer,
            category=cat.name,
            value=self.value(cat, premium),
            qc_required=rng.random() < cat_qc,
            partner=partner,
            awb=f"{prefix}{self.seed % 100:02d}{self.counter:08d}",
            initiated_at=self.t(day),
            origin_hub=origin,
            dest_hub=dest,
            agent=agent,
            buyer_contact_hash=self.contact[buyer],
            buyer_address_hash=self.address[buyer],
        )
        self.returns.append(ret)
        return ret

    def weight_of(self, ret: Return) -> int:
        cat = next(c for c in CATEGORIES if c.name == ret.category)
        return max(60, int(cat.median_grams * math.exp(self.rng.gauss(0, 0.35))))

    def ship(
        self,
        ret: Return,
        *,
        wrong_used: bool = False,
        qc_passes_anything: bool = False,
        trouble: float = 1.0,
        forced: str | None = None,
        forced_day: float | None = None,
    ) -> str:
        """The return's scans; its outcome: `qc_failed`, `lost`, `damaged`, `drop`, `ok`.

        `forced` makes the transit outcome one of `lost`, `damaged`, `drop`, `ok` (look-alikes
        and planted entities); otherwise trouble is drawn at the honest rates × `trouble`."""
        rng = self.rng
        weight = self.weight_of(ret)
        t = ret.initiated_at + timedelta(hours=rng.uniform(10, 40))
        if forced_day is not None:
            t = self.t(forced_day)
        scans = ret.scans
        # swiftship signs one request per scan and reports milestones only; the others send
        # every scan (rapidroute in batches, desipost in each cumulative snapshot).
        chatty = ret.partner != "swiftship"
        if chatty:
            scans.append(
                Scan(
                    "PICKUP_SCHEDULED",
                    t - timedelta(hours=rng.uniform(2, 8)),
                    ret.origin_hub,
                    ret.agent,
                )
            )
        if ret.qc_required:
            caught = wrong_used and not qc_passes_anything and rng.random() < P_QC_CATCH
            if caught:
                scans.append(
                    Scan(
                        "QC_FAILED",
                        t,
                        ret.origin_hub,
                        ret.agent,
                        weight,
                        qc_failure_reason=rng.choice(("WRONG_ITEM", "USED_ITEM")),
                    )
                )
                return "qc_failed"
            scans.append(Scan("QC_PASSED", t, ret.origin_hub, ret.agent, weight))
        t += timedelta(minutes=rng.uniform(1, 20))
        scans.append(Scan("PICKED_UP", t, ret.origin_hub, ret.agent, weight))
        t += timedelta(hours=rng.uniform(4, 14))
        if chatty:
            scans.append(Scan("IN_TRANSIT", t, ret.origin_hub, None))
        t += timedelta(hours=rng.uniform(14, 40))
        if forced is None:
            p_lost, p_damaged, p_drop = (trouble * p for p in (P_LOST, P_DAMAGED, P_WEIGHT_DROP))
            u = rng.random()
            forced = (
                "lost"
                if u < p_lost
                else "damaged"
                if u < p_lost + p_damaged
                else "drop"
                if u < p_lost + p_damaged + p_drop
                else "ok"
            )
        if forced == "lost":
            scans.append(Scan("LOST", t + timedelta(days=rng.uniform(1, 4)), ret.dest_hub, None))
            return "lost"
        scans.append(Scan("AT_HUB", t, ret.dest_hub, None))
        if forced == "damaged":
            scans.append(Scan("DAMAGED_IN_TRANSIT", t + timedelta(hours=1), ret.dest_hub, None))
        t += timedelta(hours=rng.uniform(3, 20))
        if chatty:
            scans.append(Scan("OUT_FOR_DELIVERY", t, ret.dest_hub, None))
        delivered_weight = int(weight * rng.gauss(1.0, 0.012))
        if forced == "drop":
            delivered_weight = int(weight * rng.uniform(0.3, 0.78))
        otp = rng.random() < (0.8 if ret.partner != "desipost" else 0.6)
        scans.append(
            Scan(
                "DELIVERED_TO_SELLER",
                t + timedelta(hours=rng.uniform(1, 6)),
                ret.dest_hub,
                None,
                max(1, delivered_weight),
                pod_otp=otp,
            )
        )
        return forced

    def delivered_at(self, ret: Return) -> datetime:
        return max(s.at for s in ret.scans)

    def claim(
        self,
        ret: Return,
        claim_type: str,
        *,
        delay_days: tuple[float, float] = (0.3, 4.0),
        amount_share: float = 1.0,
        video: float = 0.55,
        invoice: float = 0.3,
        evidence: list[Evidence] | None = None,
        patterns: Iterable[str] = (),
    ) -> Claim | None:
        filed = self.delivered_at(ret) + timedelta(days=self.rng.uniform(*delay_days))
        if filed >= self.end:
            return None
        received = None
        delivered = [s for s in ret.scans if s.kind == "DELIVERED_TO_SELLER"]
        if claim_type == "MISSING_ITEM" and delivered:
            received = delivered[0].weight_g
        ev = (
            evidence
            if evidence is not None
            else self.evidence(
                filed - timedelta(hours=self.rng.uniform(1, 20)), video=video, invoice=invoice
            )
        )
        ret.claim = Claim(
            claim_type=claim_type,
            amount=max(100, int(ret.value * amount_share)),
            filed_at=filed,
            evidence=ev,
            received_weight_g=received,
            description=f"{claim_type.replace('_', ' ').lower()} on return {ret.return_id}",
            patterns=set(patterns),
        )
        return ret.claim

    def ordinary_claim(
        self,
        ret: Return,
        outcome: str,
        *,
        wrong_used: bool,
        rate: float,
        patterns: Iterable[str] = (),
    ) -> None:
        """What an honest seller claims for what happened to the return.

        A claim on a parcel a planted hub or agent harmed is a pilferage event whoever the
        seller is (the specification's evaluation counts the seller's claim), so the return's
        pilferage label goes onto the claim here, for every caller, not only the honest
        sellers' path."""
        rng = self.rng
        cat = next(c for c in CATEGORIES if c.name == ret.category)
        if outcome == "qc_failed":
            return
        if outcome in HARMED_OUTCOMES:
            # A wrong or used item lost, damaged or lightened on the way is claimed for what the
            # journey did to it: the claim names neither the buyer nor the QC pass (fraud.md's
            # signals for those patterns are wrong/used-item claims).
            patterns = {*(set(patterns) - ITEM_PATTERNS), *(ret.patterns & {"pilferage"})}
        if outcome == "lost":
            if rng.random() < 0.9:
                self.claim(ret, "NOT_RECEIVED", delay_days=(1.0, 6.0), patterns=patterns)
            return
        if outcome == "damaged":
            if rng.random() < 0.85:
                self.claim(ret, "DAMAGED", amount_share=rng.uniform(0.4, 1.0), patterns=patterns)
            return
        if outcome == "drop":
            if rng.random() < 0.85:
                self.claim(ret, "MISSING_ITEM", patterns=patterns)
            return
        if wrong_used:
            if rng.random() < 0.8:
                self.claim(
                    ret, rng.choice(("WRONG_ITEM", "USED_ITEM", "WRONG_ITEM")), patterns=patterns
                )
            return
        if rng.random() < cat.claim_rate * rate:
            mix = cat.claim_mix
            kind = rng.choices(list(mix), weights=list(mix.values()))[0]
            share = rng.uniform(0.3, 1.0) if kind == "DAMAGED" else 1.0
            self.claim(ret, kind, amount_share=share)


def build_world(
    seed: int, *, scale: float = 1.0, end: datetime | None = None, blatant: bool = False
) -> World:
    """A world of about 5,000 × `scale` returns ending at `end` (default: now, to the hour).

    `blatant` adds one seller who claims most of its deliveries as missing, intact weight and
    all: fraud no detector should miss, for a smoke test of the scoring itself."""
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    b = _Builder(seed, scale=scale, end=end)
    rng = b.rng
    tag = b.tag
    n_returns = int(5_000 * scale)
    ordinary = 1.0  # an honest seller claims at its category's rate

    def day() -> float:
        return rng.uniform(0.0, DAYS - 6.0)

    all_agents = [a for ags in b.agents.values() for a in ags]
    all_hubs = [h for hs in b.hubs.values() for h in hs]

    # -- the cast --------------------------------------------------------------------------
    abusers = [f"{tag}-S-ABU{i}" for i in range(1, 6)]
    reusers = [f"{tag}-S-REU{i}" for i in range(1, 4)]
    ring_seller = f"{tag}-S-RING1"
    large = f"{tag}-S-LARGE"
    newcomer = f"{tag}-S-NEW"
    household_seller = f"{tag}-S-HOME"
    wrong_buyers = b.buyers[-6:]
    ring_buyers = b.buyers[-9:-6]
    agent_ring_buyer = b.buyers[-10]
    household = b.buyers[-12:-10]
    town_buyers = b.buyers[-17:-12]
    special_buyers = set(b.buyers[-17:])
    buyers_pool = [x for x in b.buyers if x not in special_buyers]
    pool_weights = [
        w for x, w in zip(b.buyers, b.buyer_weights, strict=True) if x not in special_buyers
    ]

    def buyer() -> str:
        return rng.choices(buyers_pool, weights=pool_weights)[0]

    # Hubs and agents with roles, drawn from the two partners that name agents.
    pilfer_hub = rng.choice(b.hubs["rapidroute"] + b.hubs["desipost"])
    bad_day_hub = rng.choice([h for h in all_hubs if h != pilfer_hub])
    shuffled = rng.sample(all_agents, len(all_agents))
    pilfer_agents = shuffled[:2]
    qc_agents = shuffled[2:4]
    ring_agent = shuffled[4]
    town_agent = shuffled[5]
    for ring_b in ring_buyers:
        b.address[ring_b] = b.address[ring_buyers[0]]
    b.address[household[1]] = b.address[household[0]]

    b.plant("pilferage", "hub", pilfer_hub)
    for a in pilfer_agents:
        b.plant("pilferage", "agent", a)
    for a in qc_agents:
        b.plant("qc_contradiction", "agent", a)
    b.plant("collusion", "agent", ring_agent)
    b.plant("collusion", "buyer", agent_ring_buyer)
    b.plant("collusion", "seller", ring_seller)
    for x in ring_buyers:
        b.plant("collusion", "buyer", x)
    for x in abusers:
        b.plant("claim_abuse", "seller", x)
    for x in reusers:
        b.plant("evidence_reuse", "seller", x)
    for x in wrong_buyers:
        b.plant("wrong_used", "buyer", x)
    b.lookalikes["seller"].update(
        {
            large: "large honest seller",
            newcomer: "small seller, first three deliveries claimed",
            household_seller: "household: one order, one invoice",
        }
    )
    b.lookalikes["hub"][bad_day_hub] = "hub with one bad day"
    b.lookalikes["agent"][town_agent] = "agent serving one small town"
    for x in household:
        b.lookalikes["buyer"][x] = "household sharing an address"
    for x in town_buyers:
        b.lookalikes["buyer"][x] = "small-town buyer"

    # Ordinary sellers: sizes from a heavy-tailed draw; a large one on top.
    honest_sellers = [f"{tag}-S{i:04d}" for i in range(1, 181)]
    sizes = [max(2.0, rng.paretovariate(1.3) * 6) for _ in honest_sellers]
    special_volume = 0.24  # what the cast below sends, as a share of all returns
    budget = n_returns * (1 - special_volume)
    total = sum(sizes)
    counts = {
        s: max(1, int(round(budget * (w / total) * 0.91)))
        for s, w in zip(honest_sellers, sizes, strict=True)
    }
    counts[large] = int(n_returns * 0.09)
    seller_skew = {s: {c: rng.uniform(0.2, 2.5) for c in CATEGORY_NAMES} for s in counts}

    def pilferer_rates(ret: Return) -> float:
        """How much more transit trouble than an honest hub and agent the return meets."""
        bad = ret.dest_hub == pilfer_hub or ret.agent in pilfer_agents
        return PILFER_FACTOR if bad else 1.0

    def route(ret: Return, outcome: str) -> None:
        """Label the planted transit trouble of a return and when each culprit first acted."""
        if outcome not in HARMED_OUTCOMES:
            return
        for etype, eid in (("hub", ret.dest_hub), ("agent", ret.agent)):
            if eid is not None and eid in b.truth["pilferage"][etype]:
                ret.patterns.add("pilferage")
                trouble = next(
                    s.at
                    for s in ret.scans
                    if s.kind in ("LOST", "DAMAGED_IN_TRANSIT", "DELIVERED_TO_SELLER")
                )
                b.note_first(etype, eid, trouble)

    def honest_return(
        seller: str, *, buyer_id: str | None = None, agent: str | None = None
    ) -> Return:
        cat = b.category(seller_skew.get(seller))
        ret = b.new_return(seller, day=day(), cat=cat, buyer=buyer_id or buyer(), agent=agent)
        wrong = ret.buyer in wrong_buyers and rng.random() < P_PLANTED_WRONG_USED
        honest_wrong = rng.random() < P_HONEST_WRONG_USED
        qc_bad = ret.agent in qc_agents and ret.qc_required and rng.random() < 0.06
        outcome = b.ship(
            ret,
            wrong_used=wrong or honest_wrong or qc_bad,
            qc_passes_anything=ret.agent in qc_agents,
            trouble=pilferer_rates(ret),
        )
        route(ret, outcome)
        patterns: set[str] = set(ret.patterns)
        if wrong:
            patterns.add("wrong_used")
        if qc_bad and outcome == "ok":
            patterns.add("qc_contradiction")
        if (wrong or honest_wrong) and ret.agent in qc_agents and ret.qc_required:
            patterns.add("qc_contradiction")
        ret.patterns |= patterns
        b.ordinary_claim(
            ret,
            outcome,
            wrong_used=wrong or honest_wrong or qc_bad,
            rate=ordinary,
            patterns=patterns,
        )
        if ret.claim is not None:
            for p in ret.claim.patterns - {"pilferage"}:
                for etype, eid in (("buyer", ret.buyer), ("agent", ret.agent)):
                    if eid is not None and eid in b.truth[p][etype]:
                        b.note_first(etype, eid, ret.claim.filed_at)
        return ret

    for seller, n in counts.items():
        for _ in range(n):
            honest_return(seller)

    # Planted wrong/used buyers: 6–9 returns each, to different sellers.
    sellers_list = list(counts)
    for wb in wrong_buyers:
        for s in rng.sample(sellers_list, rng.randint(6, 9)):
            honest_return(s, buyer_id=wb)

    # QC agents: busy agents, so a few more of the ordinary returns go through them.
    for qa in qc_agents:
        for _ in range(int(90 * scale) + 5):
            honest_return(rng.choice(sellers_list), agent=qa)

    # Claim abusers: 2.5–4× their category's claim rate, leaning to valuable goods.
    for i, seller in enumerate(abusers):
        mult = (2.5, 3.0, 3.5, 4.0, 3.0)[i]
        n = int(rng.uniform(55, 110) * max(scale, 0.3))
        skew = {"mobiles": 3.0, "watches": 2.5, "apparel": 0.6}
        for _ in range(n):
            cat = b.category(skew)
            ret = b.new_return(seller, day=day(), cat=cat, buyer=buyer(), premium=1.6)
            outcome = b.ship(ret, trouble=pilferer_rates(ret))
            route(ret, outcome)
            cat_rate = cat.claim_rate + P_WEIGHT_DROP + P_LOST + P_DAMAGED
            extra = (mult - 1.0) * cat_rate / max(1e-9, 1.0 - cat_rate)
            if outcome in ("ok",) and rng.random() < extra:
                kind = rng.choices(
                    ("MISSING_ITEM", "DAMAGED", "WRONG_ITEM", "USED_ITEM"),
                    weights=(0.45, 0.25, 0.15, 0.15),
                )[0]
                c = b.claim(
                    ret,
                    kind,
                    video=0.2,
                    invoice=0.5,
                    patterns={"claim_abuse"},
                    delay_days=(2.0, 6.5),
                )
                if c is not None:
                    ret.patterns.add("claim_abuse")
                    b.note_first("seller", seller, c.filed_at)
            else:
                b.ordinary_claim(ret, outcome, wrong_used=False, rate=ordinary)
                # A parcel lost, damaged or lightened on the way is claimed for what the journey
                # did to it, as every seller claims it: fraud.md's claim-abuse signals are claims
                # per delivered return above the peers', and such a claim is not one of the
                # abuser's extra claims (a lost parcel is not even delivered).
                if ret.claim is not None and outcome not in HARMED_OUTCOMES:
                    ret.claim.patterns.add("claim_abuse")

    # Evidence reusers: ordinary-looking claim rates, the same photos again and again.
    shared_photo = Evidence("PHOTO", _hex(rng, 64), _hex(rng, 16), b.start)
    for i, seller in enumerate(reusers):
        photos = [Evidence("PHOTO", _hex(rng, 64), _hex(rng, 16), b.start) for _ in range(2)]
        if i >= 1:
            photos.append(shared_photo)
        n = int(rng.uniform(45, 80) * max(scale, 0.3))
        for _ in range(n):
            ret = b.new_return(seller, day=day(), buyer=buyer())
            outcome = b.ship(ret, trouble=pilferer_rates(ret))
            route(ret, outcome)
            if outcome == "ok" and rng.random() < 0.11:
                base = rng.choice(photos)
                when = b.delivered_at(ret) + timedelta(hours=rng.uniform(2, 30))
                reused = (
                    Evidence("PHOTO", base.sha256, base.perceptual_hash, when)
                    if rng.random() < 0.6
                    else Evidence(
                        "PHOTO",
                        _hex(rng, 64),
                        _near(base.perceptual_hash or _hex(rng, 16), rng),
                        when,
                    )
                )
                kind = rng.choice(("DAMAGED", "MISSING_ITEM", "WRONG_ITEM"))
                c = b.claim(ret, kind, evidence=[reused], patterns={"evidence_reuse"})
                if c is not None:
                    ret.patterns.add("evidence_reuse")
                    b.note_first("seller", seller, c.filed_at)
            else:
                b.ordinary_claim(ret, outcome, wrong_used=False, rate=ordinary)

    # Collusion, seller and buyers: a seller's claims fall on three buyers at one address.
    n = int(rng.uniform(60, 90) * max(scale, 0.3))
    for k in range(n):
        ring = k % 4 == 0
        ret = b.new_return(
            ring_seller, day=day(), buyer=rng.choice(ring_buyers) if ring else buyer()
        )
        outcome = b.ship(ret, trouble=pilferer_rates(ret))
        route(ret, outcome)
        if ring and outcome == "ok" and rng.random() < 0.7:
            c = b.claim(
                ret, rng.choice(("MISSING_ITEM", "WRONG_ITEM", "DAMAGED")), patterns={"collusion"}
            )
            if c is not None:
                ret.patterns.add("collusion")
                for etype, eid in (("seller", ring_seller), ("buyer", ret.buyer)):
                    b.note_first(etype, eid, c.filed_at)
        else:
            b.ordinary_claim(ret, outcome, wrong_used=False, rate=ordinary)

    # Collusion, agent and buyer: one buyer's returns, to many sellers, all picked up by one
    # agent, most of them disputed.
    for s in rng.sample(sellers_list, 11):
        ret = b.new_return(s, day=day(), buyer=agent_ring_buyer, agent=ring_agent)
        outcome = b.ship(ret, forced="ok")
        if rng.random() < 0.75:
            c = b.claim(ret, rng.choice(("WRONG_ITEM", "MISSING_ITEM")), patterns={"collusion"})
            if c is not None:
                ret.patterns.add("collusion")
                for etype, eid in (("agent", ring_agent), ("buyer", agent_ring_buyer)):
                    b.note_first(etype, eid, c.filed_at)

    if blatant:
        seller = f"{tag}-S-BLATANT"
        b.plant("claim_abuse", "seller", seller)
        for _ in range(40):
            ret = b.new_return(seller, day=day(), buyer=buyer(), cat=CATEGORIES[0], premium=2.0)
            if b.ship(ret, forced="ok") == "ok" and rng.random() < 0.7:
                c = b.claim(ret, "MISSING_ITEM", video=0.0, invoice=0.2, patterns={"claim_abuse"})
                if c is not None:
                    ret.patterns.add("claim_abuse")
                    b.note_first("seller", seller, c.filed_at)

    # -- look-alikes -----------------------------------------------------------------------
    # A hub with one bad day: a storm, eight returns damaged at once, claimed.
    storm = rng.uniform(12, 24)
    storm_partner = next(p for p, hs in b.hubs.items() if bad_day_hub in hs)
    for _ in range(8):
        s = rng.choice(sellers_list)
        origin = rng.choice([h for h in b.hubs[storm_partner] if h != bad_day_hub])
        ret = b.new_return(s, day=storm - 2, buyer=buyer(), hub=origin, dest_hub=bad_day_hub)
        route(ret, b.ship(ret, forced="damaged", forced_day=storm - 1))
        b.ordinary_claim(ret, "damaged", wrong_used=False, rate=ordinary)

    # An agent serving one small town: few returns, the same five buyers again and again.
    for _ in range(18):
        ret = b.new_return(
            rng.choice(sellers_list), day=day(), buyer=rng.choice(town_buyers), agent=town_agent
        )
        outcome = b.ship(ret)
        route(ret, outcome)
        b.ordinary_claim(ret, outcome, wrong_used=False, rate=ordinary)

    # A small seller whose first three deliveries were all claimed, honestly, then ordinary.
    first = rng.uniform(1, 6)
    for k in range(22):
        ret = b.new_return(newcomer, day=first + k * 1.2, buyer=buyer())
        if k < 3:
            outcome = b.ship(ret, forced=("damaged", "drop", "ok")[k])
            # The look-alikes' returns pass through planted hubs and agents too, and a parcel
            # harmed there is pilferage by the world's one convention (`route`).
            route(ret, outcome)
            kind = ("DAMAGED", "MISSING_ITEM", "WRONG_ITEM")[k]
            b.claim(ret, kind, delay_days=(0.2, 1.0), patterns=ret.patterns & {"pilferage"})
        else:
            outcome = b.ship(ret, forced="ok")

    # Multi-item orders claimed with one invoice: the household, and two more elsewhere.
    multi: list[tuple[str, str, str | None]] = [(household_seller, household[0], household[1])]
    multi += [(large, buyer(), None), (rng.choice(sellers_list), buyer(), None)]
    for seller, first_buyer, second_buyer in multi:
        if seller == household_seller:
            for _ in range(14):
                honest_return(seller)
        b.order_counter += 1
        order = f"{tag}-O{b.order_counter:06d}"
        d = day()
        invoice = Evidence("INVOICE", _hex(rng, 64), None, b.t(d + 3))
        for who in (first_buyer, second_buyer or first_buyer):
            ret = b.new_return(
                seller, day=d, buyer=who, order_id=order, partner="swiftship", cat=CATEGORIES[1]
            )
            b.ship(ret, forced="ok")
            photo = Evidence("PHOTO", _hex(rng, 64), _hex(rng, 16), b.t(d + 3))
            b.claim(ret, "WRONG_ITEM", evidence=[photo, invoice])

    unshown = _reuse_that_shows(b, reusers)
    entities: dict[str, set[str]] = {t: set() for t in ENTITY_TYPES}
    for r in b.returns:
        entities["seller"].add(r.seller)
        entities["buyer"].add(r.buyer)
        entities["hub"].update((r.origin_hub, r.dest_hub))
        if r.agent:
            entities["agent"].add(r.agent)
    # An entity planted but never seen in the traffic cannot be found; keep the truth honest.
    for by_type in b.truth.values():
        for etype, ids in by_type.items():
            ids &= entities[etype]
    b.returns.sort(key=lambda r: r.initiated_at)
    return World(
        seed=seed,
        start=b.start,
        end=b.end,
        returns=b.returns,
        truth=b.truth,
        entities=entities,
        lookalikes=b.lookalikes,
        first_planted=b.first_planted,
        unshown=unshown,
    )


def _same_picture(a: Evidence, b: Evidence) -> bool:
    if a.sha256 == b.sha256:
        return True
    if a.perceptual_hash is None or b.perceptual_hash is None:
        return False
    return bin(int(a.perceptual_hash, 16) ^ int(b.perceptual_hash, 16)).count("1") <= (
        SAME_PICTURE_BITS
    )


def _reuse_that_shows(b: _Builder, reusers: list[str]) -> dict[str, dict[str, set[str]]]:
    """Evidence reuse as fraud.md defines it: the same picture on different returns. A reuser's
    claim whose photo no other return carries (its picture drawn once, or its one re-encoding
    sent alone) is no reuse event, and a reuser none of whose photos came back showed no reuse
    at all: it leaves the pattern's truth for `unshown`. Its first planted event is its first
    claim whose photo did come back. Draws nothing, so a seed stays the same world."""
    photos = [
        (r.return_id, e)
        for r in b.returns
        if r.claim is not None
        for e in r.claim.evidence
        if e.kind == "PHOTO"
    ]
    shown: set[str] = set()
    for r in b.returns:
        c = r.claim
        if c is None or "evidence_reuse" not in c.patterns:
            continue
        mine = [e for e in c.evidence if e.kind == "PHOTO"]
        if any(rid != r.return_id and _same_picture(e, o) for e in mine for rid, o in photos):
            shown.add(r.seller)
            continue
        c.patterns.discard("evidence_reuse")
        r.patterns.discard("evidence_reuse")
    for seller in reusers:
        b.first_planted.pop(("seller", seller), None)
    for r in b.returns:
        if r.claim is not None and "evidence_reuse" in r.claim.patterns:
            b.note_first("seller", r.seller, r.claim.filed_at)
    silent = set(reusers) - shown
    b.truth["evidence_reuse"]["seller"] -= silent
    return {"evidence_reuse": {"seller": silent}} if silent else {}
