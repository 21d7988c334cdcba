"""Generate a simulated marketplace's return traffic, honest and fraudulent, with ground truth.

The output is a list of `Action`s in event-time order (a marketplace feed entry, a partner scan,
a seller escalation) plus a `GroundTruth` naming every planted fraudster and every planted event.
Everything is drawn from one `random.Random(seed)`: the same seed gives the same world.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import NormalDist
from typing import Any

from disputedesk.simulate.marketplace import (
    ALONE_CATEGORY,
    Category,
    Marketplace,
    PartnerNetwork,
)
from disputedesk.simulate.partners import partner_time

# The claims that name the buyer (`fraud.md`: wrong/used returns).
NAMING_CLAIMS = frozenset({"WRONG_ITEM", "USED_ITEM", "MISSING_ITEM"})

PATTERNS = (
    "claim_abuse",
    "evidence_reuse",
    "wrong_used_returns",
    "pilferage",
    "qc_contradiction",
    "collusion",
)


@dataclass(frozen=True, slots=True)
class Action:
    """One thing that happens in the marketplace. A scan's body is partner-neutral (canonical
    type, UTC time, grams); `partners.py` renders it in its partner's own format."""

    at: datetime
    kind: str  # return | scan | escalation
    return_id: str
    body: dict[str, Any]
    partner_format: str = ""
    partner_id: str = ""
    # What the seller saw of the journey, for the feedback the traffic plan draws afterwards.
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class GroundTruth:
    # pattern -> planted entities ("seller", id) ...; collusion rings list all members.
    entities: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    # pattern -> planted events: ("escalation", return_id) or ("terminal", return_id); a
    # pilfered parcel's terminal scan and the seller's claim on it are both pilferage events.
    events: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    # (pattern, entity) -> event time of its first planted event
    first_event: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    rings: list[dict[str, Any]] = field(default_factory=list)
    sellers: set[str] = field(default_factory=set)
    buyers: set[str] = field(default_factory=set)
    hubs: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    # (pattern, entity type, id) -> the planted entity's intensity: its rate as a multiple of
    # an honest entity's (None in worlds with fixed rates).
    intensity: dict[tuple[str, str, str], float] = field(default_factory=dict)
    # (pattern, entity type, id) -> the events its detector counts against it over the world:
    # a seller's claims on delivered returns, a hub's or agent's incidents, a QC agent's passes
    # later claimed as wrong or used items (planted or not), each buyer once.
    relevant: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # look-alike name -> the honest entities that play it.
    lookalikes: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    # (pattern, entity type, id) -> the intensity the planted entity showed: its relevant
    # events per trial over the honest peers' (a seller's category's honest sellers, the
    # honest hubs, a pilfering agent's own hub's honest rate, a QC agent's honest agents).
    # What a detector can see, which the drawn intensity only aims at (the honest peers' rate
    # also holds claims after incidents and claims on fraudulent buyers' returns).
    realized: dict[tuple[str, str, str], float] = field(default_factory=dict)
    # Honest sellers with a few bad weeks (look-alike `bad_weeks_seller`) -> their spell.
    bad_weeks: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)

    def plant(
        self,
        pattern: str,
        entity: tuple[str, str],
        event: tuple[str, str] | None,
        at: datetime | None,
    ) -> None:
        self.entities[pattern].add(entity)
        if event is not None:
            self.events[pattern].add(event)
        if at is not None:
            key = (pattern, *entity)
            if key not in self.first_event or at < self.first_event[key]:
                self.first_event[key] = at

    def fraud_entities(self) -> set[tuple[str, str]]:
        return set().union(*self.entities.values()) if self.entities else set()

    def fraud_events(self) -> set[tuple[str, str]]:
        return set().union(*self.events.values()) if self.events else set()

    def to_json(self) -> dict[str, Any]:
        return {
            "entities": {p: sorted(map(list, e)) for p, e in self.entities.items()},
            "events": {p: sorted(map(list, e)) for p, e in self.events.items()},
            "first_event": {"|".join(k): v.isoformat() for k, v in self.first_event.items()},
            "rings": self.rings,
            "intensity": {"|".join(k): v for k, v in self.intensity.items()},
            "relevant": {"|".join(k): v for k, v in self.relevant.items()},
            "lookalikes": {k: sorted(map(list, v)) for k, v in self.lookalikes.items()},
            "realized": {"|".join(k): v for k, v in self.realized.items()},
        }


@dataclass(slots=True)
class World:
    seed: int
    actions: list[Action]
    truth: GroundTruth
    # (return_id) -> event time of its terminal scan, to find that scan's assessment
    terminal_at: dict[str, datetime]


@dataclass(slots=True)
class _Seller:
    seller_id: str
    category: Category
    size: float
    claim_rate: float


@dataclass(slots=True)
class _Buyer:
    buyer_id: str
    contact_hash: str
    address_hash: str
    home_agent: tuple[str, str]  # (hub, agent)


@dataclass(slots=True)
class _Journey:
    """One return's story as the generator decides it."""

    return_id: str
    seller: _Seller
    buyer: _Buyer
    hub: str
    agent: str
    partner: PartnerNetwork
    initiated_at: datetime
    qc: bool
    item_value: int
    terminal: str = "DELIVERED"
    pilfered: bool = False  # an incident caused by planted pilferage
    incident: bool = False
    delivered_at: datetime | None = None
    order_id: str | None = None
    # Whether the partner's scans name the pickup agent (a share of rapidroute's do not).
    agent_named: bool = True
    # The hubs the parcel passes, in order (desipost: origin, destination), and the one where
    # its incident happened.
    route: tuple[str, ...] = ()
    incident_hub: str | None = None
    feed: Action | None = None  # the marketplace's feed entry, once emitted


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _sha(rng: random.Random) -> str:
    return hashlib.sha256(rng.randbytes(16)).hexdigest()


def _flip_bits(phash: str, rng: random.Random, bits: int) -> str:
    value = int(phash, 16)
    for b in rng.sample(range(64), bits):
        value ^= 1 << b
    return f"{value:016x}"


class _Generator:
    def __init__(self, market: Marketplace, seed: int, tag: str):
        self.m = market
        self.rng = random.Random(seed)
        # The side streams are named by the seed's default tag, never by `tag`: a run that tags
        # its ids to keep them unique (fraud-eval through the pipeline) draws the very world
        # `--direct` scores, so the two can be compared entity by entity.
        stream = f"s{seed}"
        # An abuser's choice of dear items (`_dearer`) draws from a stream of its own.
        self.dear = random.Random(f"high-value/{seed}/{stream}")
        # Partners' published shapes (agentless parcels, two-hub routes) from a stream of their
        # own: a world without them draws everything else as before.
        self.shapes = random.Random(f"shapes/{seed}/{stream}")
        self.stream = stream
        self.tag = tag
        self.actions: list[Action] = []
        self.truth = GroundTruth()
        self.terminal_at: dict[str, datetime] = {}
        self.counter = 0
        rng = self.rng
        self.agents: list[tuple[str, str]] = []
        # Hubs are numbered across partners, so every hub and agent id is unique.
        self.partner_of_hub: dict[str, PartnerNetwork] = {}
        number = 0
        for p in market.partners:
            for _ in range(p.hubs):
                number += 1
                hub = f"H-{tag}-{number:02d}"
                self.partner_of_hub[hub] = p
                for a in range(p.agents_per_hub):
                    self.agents.append((hub, f"AG-{tag}-{number:02d}{a + 1:02d}"))
        self.hubs = sorted({h for h, _ in self.agents})
        a_shape, b_shape = market.honest.claim_rate_beta
        self.sellers = [
            _Seller(
                f"S-{tag}-{i + 1:03d}",
                (
                    rng.choices(market.categories, market.category_weights)[0]
                    if market.category_weights
                    else rng.choice(market.categories)
                ),
                rng.paretovariate(market.seller_size_shape),
                rng.betavariate(a_shape, b_shape),
            )
            for i in range(market.sellers)
        ]
        self.buyers: list[_Buyer] = []
        workload = (
            [rng.lognormvariate(0, market.agent_workload_spread) for _ in self.agents]
            if market.agent_workload_spread > 0
            else None
        )
        for i in range(market.buyers):
            if self.buyers and rng.random() < market.honest.shared_household_share:
                housemate = rng.choice(self.buyers)
                address = housemate.address_hash
            else:
                address = _hex(rng, 64)
            contact = _hex(rng, 64)
            home = (
                rng.choices(self.agents, workload)[0]
                if workload is not None
                else rng.choice(self.agents)
            )
            self.buyers.append(_Buyer(f"B-{tag}-{i + 1:05d}", contact, address, home))
        self.truth.sellers = {s.seller_id for s in self.sellers}
        self.truth.buyers = {b.buyer_id for b in self.buyers}
        # Fraud roles.
        f = market.fraud
        by_size = sorted(self.sellers, key=lambda s: -s.size)
        # Planted sellers come from the middle of the size distribution: enough volume to act,
        # not the marketplace's giants.
        middle = by_size[5:]
        rng.shuffle(middle)
        self.claim_abusers = {s.seller_id for s in middle[: f.claim_abusers]}
        pos = f.claim_abusers
        self.reusers = {s.seller_id for s in middle[pos : pos + f.evidence_reusers]}
        pos += f.evidence_reusers
        self.sb_sellers = middle[pos : pos + f.seller_buyer_rings]
        pos += f.seller_buyer_rings
        self.id_sellers = middle[pos : pos + f.identity_rings]
        # Fraudulent sellers trade like mid-sized sellers: `planted_seller_returns` a season.
        total = sum(s.size for s in self.sellers)
        expected = market.honest.returns_per_day * market.days
        for s in middle[:pos]:
            s.size = total * f.planted_seller_returns / expected
        hubs = list(self.hubs)
        rng.shuffle(hubs)
        self.pilfering_hubs = set(hubs[: f.pilfering_hubs])
        # One honest hub has one bad day.
        self.bad_day_hub = hubs[f.pilfering_hubs]
        self.bad_day = rng.randrange(market.days // 3, market.days)
        # Agent-level fraud is planted only where the partner's scans name the agent: a
        # detector cannot attribute what intake never hears.
        other_agents = [
            a
            for a in self.agents
            if a[0] not in self.pilfering_hubs and self.partner_of_hub[a[0]].reports_agents
        ]
        rng.shuffle(other_agents)
        if workload is not None:
            # Where workloads differ, planted roles go to busy agents more often than to idle
            # ones (a weighted draw without replacement): more parcels, more to take.
            load = dict(zip(self.agents, workload, strict=True))
            other_agents.sort(key=lambda a: -(rng.random() ** (1 / load[a])))
        self.pilfering_agents = {a for _, a in other_agents[: f.pilfering_agents]}
        self.qc_agents = {
            a for _, a in other_agents[f.pilfering_agents : f.pilfering_agents + f.qc_agents]
        }
        self.ab_agents = other_agents[
            f.pilfering_agents + f.qc_agents : f.pilfering_agents
            + f.qc_agents
            + f.agent_buyer_rings
        ]
        self._crowd_abusers(seed)
        for s in self.sellers:
            if s.seller_id in self.claim_abusers:
                self.truth.entities["claim_abuse"].add(("seller", s.seller_id))
            if s.seller_id in self.reusers:
                self.truth.entities["evidence_reuse"].add(("seller", s.seller_id))
        for hub_id in self.pilfering_hubs:
            self.truth.entities["pilferage"].add(("hub", hub_id))
        for agent_id in self.pilfering_agents:
            self.truth.entities["pilferage"].add(("agent", agent_id))
        for agent_id in self.qc_agents:
            self.truth.entities["qc_contradiction"].add(("agent", agent_id))
        self.reuse_pool: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.order_invoice: dict[str, str] = {}
        self.order_claims: Counter[str] = Counter()
        # The denominators of `truth.relevant`: delivered returns, handled parcels, QC passes.
        self.trials: Counter[tuple[str, str, str]] = Counter()
        # (QC agent, buyer) pairs already counted among the agent's relevant events.
        self.qc_contradicted: set[tuple[str, str]] = set()
        self.truth.hubs = set(self.hubs)
        self.truth.agents = {a for _, a in self.agents}
        # Each planted entity's rate: fixed, or its intensity times the honest rate.
        h = market.honest
        self.abuse_rate = {
            s: self._intensity(
                "claim_abuse",
                ("seller", s),
                f.claim_abuse_intensity,
                self._category_claim_rate(),
                f.claim_abuse_rate,
            )
            for s in sorted(self.claim_abusers)
        }
        # Drawn from a stream of their own, so that a world without them is the same world;
        # before the planted rates, which are set against them.
        side = random.Random(f"hubs/{seed}/{self.stream}")
        span = h.hub_incident_factors
        self.hub_factor = {
            hub: math.exp(side.uniform(math.log(span[0]), math.log(span[1]))) if span else 1.0
            for hub in self.hubs
        }
        self.hub_share = self._hub_shares(workload)
        self.pilfer_rate = {
            e: self._intensity(
                "pilferage",
                e,
                f.pilferage_intensity,
                self._pilferage_peers_rate(e),
                rate,
                extra=True,
                own=h.incident_rate * self.hub_factor[self._hub_of(e)],
            )
            for e, rate in sorted(
                [(("hub", x), f.pilferage_rate) for x in self.pilfering_hubs]
                + [(("agent", x), f.agent_pilferage_rate) for x in self.pilfering_agents]
            )
        }
        self.qc_rate = {
            a: self._intensity(
                "qc_contradiction",
                ("agent", a),
                f.qc_intensity,
                h.qc_contradiction_rate,
                f.qc_contradiction_rate,
                extra=True,
            )
            for a in sorted(self.qc_agents)
        }
        self._lookalike_roles(by_size)
        onset = f.pilferage_onset
        self.pilfer_from = {
            e: int(side.uniform(*onset) * market.days) if onset else 0
            for e in sorted(self.pilfer_rate)
        }

    def _hub_shares(self, workload: list[float] | None) -> dict[str, float]:
        """Each hub's expected share of the parcels: a buyer's returns go to its home agent
        (drawn by workload) seven times in ten, to any agent otherwise (`journey`)."""
        load = workload or [1.0] * len(self.agents)
        total = sum(load)
        share: dict[str, float] = defaultdict(float)
        for (hub, _), w in zip(self.agents, load, strict=True):
            share[hub] += 0.7 * w / total + 0.3 / len(self.agents)
        return dict(share)

    def _hub_of(self, entity: tuple[str, str]) -> str:
        etype, eid = entity
        return eid if etype == "hub" else next(h for h, a in self.agents if a == eid)

    def _pilferage_peers_rate(self, entity: tuple[str, str]) -> float:
        """The honest incident rate a planted hub or agent is a multiple of: its peers' as the
        detector weighs it. A hub's peers are the other hubs (their honest rates, weighed by
        their parcels); an agent's are its hub-mates, who run at their hub's honest rate."""
        rate = self.m.honest.incident_rate
        etype, eid = entity
        if etype == "agent":
            return rate * self.hub_factor[self._hub_of(entity)]
        others = [h for h in self.hubs if h != eid]
        weight = sum(self.hub_share[h] for h in others)
        if not weight:
            return rate
        return rate * sum(self.hub_share[h] * self.hub_factor[h] for h in others) / weight

    def _crowd_abusers(self, seed: int) -> None:
        """Claim abusers moved out of the categories they were drawn in (`FraudPlan`'s
        `crowded_abusers`, `abusers_alone`): after every other draw, from a stream of their own,
        so a world without them is drawn as before and one with them differs only by where its
        abusers sell."""
        f = self.m.fraud
        if not f.crowded_abusers and not f.abusers_alone:
            return
        crowd = random.Random(f"crowded/{seed}/{self.stream}")
        abusers = sorted(
            (s for s in self.sellers if s.seller_id in self.claim_abusers),
            key=lambda s: s.seller_id,
        )
        crowd.shuffle(abusers)
        alone = abusers[: f.abusers_alone]
        if alone:
            like = crowd.choice(self.m.categories)
            own = replace(like, name=ALONE_CATEGORY)
            for s in alone:
                s.category = own
        target = crowd.choice(self.m.categories)
        for s in abusers[len(alone) : len(alone) + f.crowded_abusers]:
            s.category = target

    def _category_claim_rate(self) -> float:
        """What an honest seller's claims per delivered return come to, roughly: its own
        claims, claims after partner incidents, and the claims on fraudulent buyers' returns
        that land on honest sellers. An abuser's intensity is a multiple of this, as a
        detector sees it against its category."""
        m, h, f = self.m, self.m.honest, self.m.fraud
        delivered = max(h.returns_per_day * m.days, 1.0)
        on_buyers = (
            f.wrong_used_buyers * f.wrong_used_returns_each * 0.85
            + f.agent_buyer_rings * f.agent_buyer_returns
        ) / delivered
        return (
            h.mean_claim_rate * (1 - h.incident_rate)
            + h.weight_drop_rate * h.claim_after_incident
            + on_buyers
        )

    def _intensity(
        self,
        pattern: str,
        entity: tuple[str, str],
        span: tuple[float, float] | None,
        honest: float,
        fixed: float,
        *,
        extra: bool = False,
        own: float | None = None,
    ) -> float:
        """The planted entity's rate. With `span`, its intensity is drawn from it and recorded;
        `extra` rates come on top of the entity's own honest ones (`own`, by default `honest`:
        pilferage on top of the hub's honest incidents), so that the entity's whole rate is the
        intensity times the honest rate."""
        if span is None:
            return fixed
        intensity = self.rng.uniform(*span)
        self.truth.intensity[(pattern, *entity)] = round(intensity, 3)
        rate = intensity * honest
        if not extra:
            return min(0.95, rate)
        base = honest if own is None else min(own, 0.95)
        return min(0.95, max(rate - base, 0.0) / (1 - base))

    def _lookalike_roles(self, by_size: list[_Seller]) -> None:
        """Honest sellers, buyers and agents cast in the look-alike roles."""
        la = self.m.honest.lookalikes
        planted = (
            self.claim_abusers
            | self.reusers
            | {s.seller_id for s in self.sb_sellers + self.id_sellers}
        )
        honest = [s for s in by_size if s.seller_id not in planted]
        self.large_seller: _Seller | None = None
        if la.large_seller_share > 0 and honest:
            big = honest[0]
            others = sum(s.size for s in self.sellers if s is not big)
            big.size = others * la.large_seller_share / (1 - la.large_seller_share)
            big.claim_rate = la.large_seller_ratio * self.m.honest.mean_claim_rate
            self.large_seller = big
            self.truth.lookalikes["large_seller"].add(("seller", big.seller_id))
        self.early_seller: _Seller | None = None
        if la.early_claims_seller and len(honest) > 2:
            self.early_seller = honest[-1]  # the smallest honest seller
            self.early_claims_left = 3
            self.truth.lookalikes["early_claims_seller"].add(
                ("seller", self.early_seller.seller_id)
            )
        # A stream of its own, so that casting them leaves the rest of the world as it was.
        spells = random.Random(f"{self.stream}/bad-weeks")
        self.bad_weeks: dict[str, tuple[datetime, datetime]] = {}
        candidates = [s for s in honest[1 : max(2, len(honest) // 2)] if s is not self.early_seller]
        m = self.m
        for s in spells.sample(candidates, min(la.bad_weeks_sellers, len(candidates))):
            start = m.start + timedelta(
                days=spells.uniform(0, max(m.days - la.bad_weeks_days - 6, 0))
            )
            self.bad_weeks[s.seller_id] = (start, start + timedelta(days=la.bad_weeks_days))
            self.truth.lookalikes["bad_weeks_seller"].add(("seller", s.seller_id))
        self.truth.bad_weeks = dict(self.bad_weeks)

    def _claim_factor(self, seller: _Seller, at: datetime) -> float:
        """What the seller's category and the season make of its claim rate at `at`: its
        category's factor, drifting over the world, and its bad weeks."""
        h, m = self.m.honest, self.m
        name = seller.category.name
        factor = dict(h.category_claim_factors).get(name, 1.0)
        drift = dict(h.category_claim_drift).get(name, 0.0)
        if drift:
            elapsed = (at - m.start).total_seconds() / max(m.days * 86400.0, 1.0)
            factor *= 1 + drift * (2 * min(max(elapsed, 0.0), 1.0) - 1)
        spell = self.bad_weeks.get(seller.seller_id)
        if spell is not None and spell[0] <= at < spell[1]:
            factor *= m.honest.lookalikes.bad_weeks_ratio
        return factor

    # --- building blocks -------------------------------------------------------------------

    def _rid(self) -> str:
        self.counter += 1
        return f"RET-{self.tag}-{self.counter:06d}"

    def _value(self, c: Category) -> int:
        rupees = c.median_rupees * math.exp(self.rng.gauss(0, c.sigma))
        return int(rupees * 100)

    def journey(
        self,
        seller: _Seller,
        buyer: _Buyer,
        at: datetime,
        agent: tuple[str, str] | None = None,
        qc: bool | None = None,
    ) -> _Journey:
        rng, h = self.rng, self.m.honest
        if agent is None:
            agent = buyer.home_agent if rng.random() < 0.7 else rng.choice(self.agents)
        j = _Journey(
            return_id=self._rid(),
            seller=seller,
            buyer=buyer,
            hub=agent[0],
            agent=agent[1],
            partner=self.partner_of_hub[agent[0]],
            initiated_at=at,
            qc=rng.random() < h.qc_required_share if qc is None else qc,
            item_value=self._value(seller.category),
        )
        share = self.m.rapidroute_agentless_share
        if share and j.partner.format == "rapidroute":
            j.agent_named = self.shapes.random() >= share
        j.route = self._route(j)
        return j

    def _route(self, j: _Journey) -> tuple[str, ...]:
        """The hubs a parcel passes. A desipost route is an origin and a destination hub, the
        journey's own hub either of them (its agents pick up, or it delivers), the other another
        desipost hub; elsewhere the journey's hub alone."""
        if not self.m.desipost_routes or j.partner.format != "desipost":
            return (j.hub,)
        others = [h for h in self.hubs if h != j.hub and self.partner_of_hub[h] is j.partner]
        if not others:
            return (j.hub,)
        other = self.shapes.choice(others)
        return (j.hub, other) if self.shapes.random() < 0.5 else (other, j.hub)

    def _passing_incident(self, j: _Journey, hub: str, day: int) -> str | None:
        """An incident at a hub of the route other than the journey's own (whose incidents
        `emit` draws as it always has): pilferage from its onset where it is planted, else its
        honest rate. Returns the terminal it leads to, or None."""
        shapes, h = self.shapes, self.m.honest
        rate = self.pilfer_rate.get(("hub", hub), 0.0)
        if rate and day >= self.pilfer_from[("hub", hub)] and shapes.random() < rate:
            j.pilfered = True
            return "DELIVERED" if shapes.random() < 0.8 else shapes.choice(["LOST", "DAMAGED"])
        v = shapes.random() / self.hub_factor[hub]
        if v < h.weight_drop_rate:
            return "DELIVERED"
        if v < h.weight_drop_rate + h.lost_rate:
            return "LOST"
        if v < h.weight_drop_rate + h.lost_rate + h.damaged_rate:
            return "DAMAGED"
        return None

    def emit(self, j: _Journey, *, force_drop: bool = False) -> None:
        """The feed entry and the partner scans of one journey."""
        rng, h = self.rng, self.m.honest
        c = j.seller.category
        self.actions.append(
            Action(
                j.initiated_at,
                "return",
                j.return_id,
                {
                    "return_id": j.return_id,
                    "order_id": j.order_id or f"ORD-{j.return_id}",
                    "seller_id": j.seller.seller_id,
                    "buyer_id": j.buyer.buyer_id,
                    "category": c.name,
                    "item_value": j.item_value,
                    "qc_required": j.qc,
                    "partner_id": j.partner.partner_id,
                    "awb": f"AWB-{j.return_id}",
                    "initiated_at": j.initiated_at.isoformat(),
                    "buyer_contact_hash": j.buyer.contact_hash,
                    "buyer_address_hash": j.buyer.address_hash,
                },
            )
        )
        j.feed = self.actions[-1]
        weight = rng.randint(*c.weight_g)
        pickup_at = j.initiated_at + timedelta(hours=rng.uniform(12, 36))
        full = self.m.full_lifecycle
        # A two-hub route is picked up in its origin's pickup area, as desipost's sample is.
        routed = len(j.route) > 1
        area = f"PA-{j.route[0]}" if routed else j.hub
        if full:
            self._scan(
                j,
                "PICKUP_SCHEDULED",
                j.initiated_at + timedelta(hours=rng.uniform(1, 6)),
                None,
                hub=area,
            )
        self._scan(j, "QC_PASSED" if j.qc else "PICKED_UP", pickup_at, weight, hub=area)
        hub_at = pickup_at + timedelta(hours=rng.uniform(4, 12))
        if full and j.qc:
            self._scan(j, "PICKED_UP", pickup_at + timedelta(minutes=2), weight, hub=area)
        if full or routed:
            # A route's hubs are named only by these scans (unweighed, as in desipost's sample).
            transit_at = pickup_at + (hub_at - pickup_at) / 2
            self._scan(j, "IN_TRANSIT", transit_at, None, hub=j.route[0])
        end_at = hub_at + timedelta(hours=rng.uniform(24, 72))
        day = (end_at - self.m.start).days
        pilfer_rate = 0.0
        # A pilfering agent's rate stands for its hub's where both pilfer; neither before it
        # starts (`pilferage_onset`).
        for entity in (("hub", j.hub), ("agent", j.agent)):
            if entity in self.pilfer_rate and day >= self.pilfer_from[entity]:
                pilfer_rate = self.pilfer_rate[entity]
        u = rng.random()
        bad_day = j.hub == self.bad_day_hub and day == self.bad_day
        delivered_weight = weight + int(rng.gauss(0, 8))
        if force_drop or u < pilfer_rate:
            j.pilfered = not force_drop
            j.incident = True
            if rng.random() < 0.8:
                delivered_weight = int(weight * rng.uniform(0.3, 0.75))
            else:
                j.terminal = rng.choice(["LOST", "DAMAGED"])
        elif bad_day and rng.random() < h.bad_day_incident_rate:
            j.incident = True
            j.terminal = "DAMAGED"
        else:
            v = rng.random() / self.hub_factor[j.hub]
            if v < h.weight_drop_rate:
                j.incident = True
                delivered_weight = int(weight * rng.uniform(0.3, 0.8))
            elif v < h.weight_drop_rate + h.lost_rate:
                j.incident, j.terminal = True, "LOST"
            elif v < h.weight_drop_rate + h.lost_rate + h.damaged_rate:
                j.incident, j.terminal = True, "DAMAGED"
        j.incident_hub = j.hub if j.incident else None
        if routed and not j.incident and not force_drop:
            # The other hub of the route, on a stream of its own.
            other = next(hub for hub in j.route if hub != j.hub)
            outcome = self._passing_incident(j, other, day)
            if outcome is not None:
                j.incident, j.incident_hub = True, other
                if outcome == "DELIVERED":
                    delivered_weight = int(weight * self.shapes.uniform(0.3, 0.75))
                else:
                    j.terminal = outcome
        event = {
            "DELIVERED": "DELIVERED_TO_SELLER",
            "LOST": "LOST",
            "DAMAGED": "DAMAGED_IN_TRANSIT",
        }[j.terminal]
        # A parcel lost or damaged at its origin never reaches the destination: the origin
        # declares it. Otherwise the destination receives it and ends the journey.
        end_hub = j.route[-1]
        if routed and j.terminal != "DELIVERED" and j.incident_hub == j.route[0]:
            end_hub = j.route[0]
        if full or end_hub != j.route[0]:
            self._scan(j, "AT_HUB", hub_at, None, hub=end_hub)
        if full and j.terminal == "DELIVERED":
            self._scan(
                j,
                "OUT_FOR_DELIVERY",
                end_at - timedelta(hours=rng.uniform(2, 8)),
                None,
                hub=end_hub,
            )
        self._scan(
            j,
            event,
            end_at,
            max(delivered_weight, 1) if j.terminal == "DELIVERED" else None,
            hub=end_hub,
        )
        # The time intake will record: some formats carry only milliseconds or seconds.
        self.terminal_at[j.return_id] = partner_time(j.partner.format, end_at)
        if j.terminal == "DELIVERED":
            j.delivered_at = end_at
        # A late pilferer's record (relevant events, realized intensity) is its practice's:
        # counted from its onset, as the goal's "once it has 15 events" means.
        # Every hub of the route handles the parcel; its incident is the hub's where it happened
        # and the agent's when the scans name the agent (what a detector can count).
        handlers = [("hub", hub) for hub in j.route]
        if j.agent_named:
            handlers.append(("agent", j.agent))
        counted = [
            (etype, eid) for etype, eid in handlers if day >= self.pilfer_from.get((etype, eid), 0)
        ]
        for etype, eid in counted:
            self.trials[("pilferage", etype, eid)] += 1
        if j.terminal == "DELIVERED":
            self.trials[("claim_abuse", "seller", j.seller.seller_id)] += 1
            if not j.incident:
                self.trials[("wrong_used_returns", "buyer", j.buyer.buyer_id)] += 1
            if j.qc:
                self.trials[("qc_contradiction", "agent", j.agent)] += 1
        if j.incident:
            for etype, eid in counted:
                if etype == "agent" or eid == j.incident_hub:
                    self.truth.relevant[("pilferage", etype, eid)] += 1
        if j.pilfered:
            # The journey's own agent pilfers only where the journey's own hub's draw did.
            culprits = [("hub", j.incident_hub)]
            if j.incident_hub == j.hub:
                culprits.append(("agent", j.agent))
            for etype, eid in culprits:
                if (etype == "hub" and eid in self.pilfering_hubs) or (
                    etype == "agent" and eid in self.pilfering_agents
                ):
                    self.truth.plant("pilferage", (etype, eid), ("terminal", j.return_id), end_at)

    def _scan(
        self,
        j: _Journey,
        event: str,
        at: datetime,
        weight_g: int | None,
        *,
        hub: str | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "type": event,
            "awb": f"AWB-{j.return_id}",
            "return_id": j.return_id,
            "at": at,
            "hub": hub or j.hub,
            "agent": j.agent if j.agent_named else None,
            "images": [],
            "otp_verified": event == "DELIVERED_TO_SELLER",
            "weight_g": weight_g,
            "qc": j.qc,
        }
        self.actions.append(
            Action(at, "scan", j.return_id, body, j.partner.format, j.partner.partner_id)
        )

    def evidence(
        self, seller_id: str, *, reuse: bool, order_id: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """An honest evidence set; with `reuse`, one photo repeats (exactly or nearly) one the
        seller filed before. A return of a multi-item order carries the order's one invoice.
        Returns the items and whether a reuse was planted."""
        rng = self.rng
        items = [
            {
                "kind": "UNBOXING_VIDEO",
                "uri": f"https://evidence.example/{_hex(rng, 12)}.mp4",
                "sha256": _sha(rng),
            }
        ]
        photos = [(_sha(rng), _hex(rng, 16)) for _ in range(2)]
        reused = False
        pool = self.reuse_pool[seller_id]
        invoice = self.order_invoice.get(order_id or "")
        if reuse and pool:
            old_sha, old_phash = rng.choice(pool)
            if rng.random() < 0.5:
                photos[0] = (old_sha, old_phash)
            else:
                photos[0] = (_sha(rng), _flip_bits(old_phash, rng, rng.randint(1, 4)))
            reused = True
        pool.extend(photos)
        for sha, phash in photos:
            items.append(
                {
                    "kind": "PHOTO",
                    "uri": f"https://evidence.example/{_hex(rng, 12)}.jpg",
                    "sha256": sha,
                    "perceptual_hash": phash,
                }
            )
        items.append(
            {
                "kind": "LABEL_PHOTO",
                "uri": f"https://evidence.example/{_hex(rng, 12)}.jpg",
                "sha256": _sha(rng),
            }
        )
        if invoice is not None:
            items.append(
                {
                    "kind": "INVOICE",
                    "uri": f"https://evidence.example/{invoice[:12]}.pdf",
                    "sha256": invoice,
                }
            )
        return items, reused

    def claim(
        self,
        j: _Journey,
        claim_type: str,
        after_h: float,
        *,
        reuse: bool = False,
        planted: list[str] | None = None,
    ) -> None:
        base = j.delivered_at or (self.terminal_at[j.return_id])
        at = base + timedelta(hours=after_h)
        items, reused = self.evidence(j.seller.seller_id, reuse=reuse, order_id=j.order_id)
        if j.order_id in self.order_invoice:
            self.order_claims[j.order_id] += 1
            if self.order_claims[j.order_id] == 2:
                self.truth.lookalikes["multi_item_order"].add(("seller", j.seller.seller_id))
        if j.terminal == "DELIVERED" and not j.incident and claim_type in NAMING_CLAIMS:
            # A buyer's relevant events: the delivered, unharmed returns claimed as wrong, used
            # or missing (a parcel harmed in transit names the partner, not the buyer).
            self.truth.relevant[("wrong_used_returns", "buyer", j.buyer.buyer_id)] += 1
        if j.terminal == "DELIVERED":
            self.truth.relevant[("claim_abuse", "seller", j.seller.seller_id)] += 1
            if j.qc and claim_type in ("WRONG_ITEM", "USED_ITEM"):
                # Each buyer once, as the detector counts them: one buyer returning wrong items
                # again and again through the agent is the buyer's pattern (or the pair's), and
                # the repeat leaves the agent's passes too (`qc_contradiction.one_per_buyer`).
                if (j.agent, j.buyer.buyer_id) in self.qc_contradicted:
                    self.trials[("qc_contradiction", "agent", j.agent)] -= 1
                else:
                    self.qc_contradicted.add((j.agent, j.buyer.buyer_id))
                    self.truth.relevant[("qc_contradiction", "agent", j.agent)] += 1
        for item in items:
            item["captured_at"] = (at - timedelta(hours=1)).isoformat()
        body = {
            "return_id": j.return_id,
            "seller_id": j.seller.seller_id,
            "claim_type": claim_type,
            "claimed_amount": j.item_value,
            "description": f"{claim_type.replace('_', ' ').lower()} on return {j.return_id}",
            # The simulated desk agent files on the seller's behalf after the seller's email,
            # and gives the address it came from, so the seller's case mail has somewhere to go.
            "evidence": items,
            "channel": "EMAIL",
            "seller_email": f"{j.seller.seller_id.lower()}@sellers.example.com",
        }
        self.actions.append(
            Action(
                at,
                "escalation",
                j.return_id,
                body,
                facts={
                    "incident": j.incident,
                    "qc": j.qc,
                    "terminal": j.terminal,
                    "seller_id": j.seller.seller_id,
                },
            )
        )
        # The seller's claim on a parcel its planted hub or agent pilfered is a pilferage event
        # too, whoever the seller is: an outside evaluation (fraud.md's) counts the claim, and
        # the claim is what the desk pays. The terminal scan was planted when it was emitted.
        if ("terminal", j.return_id) in self.truth.events["pilferage"]:
            self.truth.events["pilferage"].add(("escalation", j.return_id))
        for pattern in planted or []:
            entity = {
                "claim_abuse": ("seller", j.seller.seller_id),
                "evidence_reuse": ("seller", j.seller.seller_id),
                "wrong_used_returns": ("buyer", j.buyer.buyer_id),
                "qc_contradiction": ("agent", j.agent),
            }.get(pattern)
            if pattern == "evidence_reuse" and not reused:
                continue
            if entity is not None:
                self.truth.plant(pattern, entity, ("escalation", j.return_id), at)
            else:
                self.truth.events[pattern].add(("escalation", j.return_id))

    def honest_claim_delay(self) -> float:
        return min(150.0, 2 + self.rng.expovariate(1 / self.m.honest.claim_delay_mean_h))

    def honest_claim_type(self, *, delivered: bool = False) -> str:
        share = self.m.honest.not_received_share
        if delivered and share and self.rng.random() < share:
            return "NOT_RECEIVED"
        return self.rng.choices(
            ["DAMAGED", "WRONG_ITEM", "USED_ITEM", "MISSING_ITEM"], self.m.honest.claim_mix
        )[0]

    # --- the world -------------------------------------------------------------------------

    def run(self) -> World:
        m, rng = self.m, self.rng
        la = m.honest.lookalikes
        if self.early_seller is not None:
            # Enough returns over the period for the early claims to be followed by ordinary
            # ones: about fifteen.
            total = sum(s.size for s in self.sellers if s is not self.early_seller)
            expected = m.honest.returns_per_day * m.days
            self.early_seller.size = total * 15 / max(expected - 15, 1)
        weights = [s.size for s in self.sellers]
        honest_buyers = self.buyers[: len(self.buyers) - 100]
        spare = self.buyers[len(self.buyers) - 100 :]  # accounts reserved for planted roles
        for day in range(m.days):
            n = self._poisson(m.honest.returns_per_day)
            for _ in range(n):
                at = m.start + timedelta(days=day, hours=rng.uniform(8, 20))
                seller = rng.choices(self.sellers, weights)[0]
                buyer = rng.choice(honest_buyers)
                j = self.journey(seller, buyer, at)
                multi = bool(la.multi_item_share) and rng.random() < la.multi_item_share
                if multi:
                    j.order_id = f"ORD-{j.return_id}"
                    self.order_invoice[j.order_id] = _sha(rng)
                self.emit(j)
                self._seller_behaviour(j)
                if multi:
                    self._more_items(j)
        self._plant_lookalike_buyers(honest_buyers)
        self._plant_buyer_fraud(spare)
        self._realized_intensities()
        self.actions.sort(key=lambda a: a.at)
        return World(seed=0, actions=self.actions, truth=self.truth, terminal_at=self.terminal_at)

    def _realized_intensities(self) -> None:
        fraud = self.truth.fraud_entities()
        category = {s.seller_id: s.category.name for s in self.sellers}
        touched = {a for h, a in self.agents if h in self.pilfering_hubs} | {
            h for h, a in self.agents if a in self.pilfering_agents
        }
        relevant, trials = self.truth.relevant, self.trials
        for pattern in ("claim_abuse", "pilferage", "qc_contradiction", "wrong_used_returns"):
            for etype, eid in sorted(self.truth.entities.get(pattern, set())):
                key = (pattern, etype, eid)
                # Honest peers, and none whose counts a planted entity lifts: no agent of a
                # pilfering hub, no hub of a pilfering agent.
                peers = [
                    k
                    for k in trials
                    if k[0] == pattern
                    and k[1] == etype
                    and (k[1], k[2]) not in fraud
                    and k[2] not in touched
                    and (etype != "seller" or category[k[2]] == category[eid])
                ]
                peer_rate = sum(relevant[k] for k in peers) / max(sum(trials[k] for k in peers), 1)
                if pattern == "pilferage" and etype == "agent":
                    # An agent's peers are its hub-mates (`_pilferage_peers_rate`), who run at
                    # their hub's honest rate. Two or three mates see too few incidents to
                    # measure it by, so it is the honest agents' rate moved to its hub's
                    # factor from theirs.
                    weight = sum(trials[k] for k in peers)
                    factor = (
                        sum(trials[k] * self.hub_factor[self._hub_of(k[1:])] for k in peers)
                        / weight
                        if weight
                        else 1.0
                    )
                    peer_rate *= self.hub_factor[self._hub_of((etype, eid))] / factor
                if trials[key] and peer_rate > 0:
                    self.truth.realized[key] = round(relevant[key] / trials[key] / peer_rate, 2)

    def _honest_named_rate(self) -> float:
        """About how often an honest buyer's delivered return is claimed as wrong, used or
        missing: a wrong/used buyer's intensity is a multiple of it."""
        h = self.m.honest
        _, wrong, used, missing = h.claim_mix
        return max(h.mean_claim_rate * (wrong + used + missing) / sum(h.claim_mix), 1e-6)

    def _more_items(self, first: _Journey) -> None:
        """One or two more items of `first`'s order, returned with it: same seller, buyer,
        agent and order, and when claimed, the same invoice."""
        most = self.m.honest.lookalikes.multi_item_extra
        extra = self.rng.choice([1, 1, 2]) if most == 2 else self.rng.randint(1, max(most, 1))
        for _ in range(extra):
            j = self.journey(
                first.seller,
                first.buyer,
                first.initiated_at + timedelta(minutes=self.rng.uniform(1, 30)),
                agent=(first.hub, first.agent),
                qc=first.qc,
            )
            j.order_id = first.order_id
            self.emit(j)
            self._seller_behaviour(j)

    def _plant_lookalike_buyers(self, honest_buyers: list[_Buyer]) -> None:
        """A household of accounts sharing an address and a phone, and a small town's buyers
        served by one agent, all returning as anyone does."""
        la, rng = self.m.honest.lookalikes, self.rng
        weights = [s.size for s in self.sellers]
        groups: list[tuple[str, list[_Buyer], tuple[str, str] | None, int]] = []
        if la.household_accounts < 2 and not la.small_town_buyers:
            return
        pool = list(honest_buyers)
        rng.shuffle(pool)
        if la.household_accounts >= 2:
            home = pool[: la.household_accounts]
            pool = pool[la.household_accounts :]
            address, contact = _hex(rng, 64), _hex(rng, 64)
            for b in home:
                b.address_hash, b.contact_hash = address, contact
                self.truth.lookalikes["household"].add(("buyer", b.buyer_id))
            groups.append(("household", home, None, 5))
        if la.small_town_buyers:
            planted = self.pilfering_agents | self.qc_agents | {a for _, a in self.ab_agents}
            candidates = [
                a
                for a in self.agents
                if a[1] not in planted
                and a[0] not in self.pilfering_hubs
                and self.partner_of_hub[a[0]].reports_agents
            ]
            if candidates:
                agent = rng.choice(candidates)
                town = pool[: la.small_town_buyers]
                for b in town:
                    b.home_agent = agent
                self.truth.lookalikes["small_town_agent"].add(("agent", agent[1]))
                groups.append(("town", town, agent, la.small_town_returns_each))
        for _, buyers, agent, each in groups:
            for b in buyers:
                for at in self._spread(each):
                    seller = rng.choices(self.sellers, weights)[0]
                    j = self.journey(seller, b, at, agent=agent or b.home_agent)
                    self.emit(j)
                    self._seller_behaviour(j)

    def _seller_behaviour(self, j: _Journey) -> None:
        rng, h, sid = self.rng, self.m.honest, j.seller.seller_id
        if j.terminal != "DELIVERED":
            if rng.random() < 0.3:
                self.claim(
                    j,
                    "NOT_RECEIVED" if j.terminal == "LOST" else "DAMAGED",
                    rng.uniform(240, 300) if j.terminal == "LOST" else rng.uniform(2, 48),
                )
            return
        if j.incident:
            if rng.random() < h.claim_after_incident:
                self.claim(j, rng.choice(["MISSING_ITEM", "DAMAGED"]), self.honest_claim_delay())
            return
        if sid in self.claim_abusers:
            # The abuser's intensity is a multiple of its category's rate, as it stands then.
            if rng.random() < self.abuse_rate[sid] * self._claim_factor(j.seller, j.initiated_at):
                red = self.m.fraud.abuser_red_flags
                if red >= 1 or rng.random() < red:
                    kind = "MISSING_ITEM" if rng.random() < 0.6 else "DAMAGED"
                    delay = (
                        rng.uniform(156, 167) if rng.random() < 0.7 else self.honest_claim_delay()
                    )
                else:
                    # A moderate abuser's claims look like anyone's: only their number shows.
                    kind, delay = self.honest_claim_type(), self.honest_claim_delay()
                dear = self.m.fraud.abuser_high_value
                if dear and self.dear.random() < dear:
                    self._dearer(j)
                self.claim(j, kind, delay, planted=["claim_abuse"])
            return
        if j.seller is self.early_seller and self.early_claims_left > 0:
            self.early_claims_left -= 1
            self.claim(j, self.honest_claim_type(), self.honest_claim_delay())
            return
        if sid in self.reusers:
            if rng.random() < self.m.fraud.evidence_reuser_claim_rate:
                self.claim(
                    j,
                    self.honest_claim_type(),
                    self.honest_claim_delay(),
                    reuse=True,
                    planted=["evidence_reuse"],
                )
            return
        if j.agent in self.qc_agents and j.qc and rng.random() < self.qc_rate[j.agent]:
            self.claim(
                j,
                rng.choice(["WRONG_ITEM", "USED_ITEM"]),
                self.honest_claim_delay(),
                planted=["qc_contradiction"],
            )
            return
        if rng.random() < j.seller.claim_rate * self._claim_factor(j.seller, j.initiated_at):
            self.claim(j, self.honest_claim_type(delivered=True), self.honest_claim_delay())

    def _dearer(self, j: _Journey) -> None:
        """The abuser's claimed item made one of its category's dearest tenth: an abuser who
        favours high-value items claims on them more often than it is sent them. Drawn from a
        stream of its own, so that every other draw of the world is the one it was without."""
        c = j.seller.category
        z = NormalDist().inv_cdf(self.dear.uniform(0.9, 0.999))
        j.item_value = max(j.item_value, int(c.median_rupees * math.exp(z * c.sigma) * 100))
        if j.feed is not None:
            j.feed.body["item_value"] = j.item_value

    def _spread(self, count: int) -> list[datetime]:
        m, rng = self.m, self.rng
        return sorted(m.start + timedelta(days=rng.uniform(0, m.days - 6)) for _ in range(count))

    def _plant_buyer_fraud(self, spare: list[_Buyer]) -> None:
        rng, f = self.rng, self.m.fraud
        honest_sellers = [
            s for s in self.sellers if s.seller_id not in self.claim_abusers | self.reusers
        ]
        take = iter(spare)
        # Buyers returning wrong or used items to many sellers.
        honest_named = self._honest_named_rate()
        for _ in range(f.wrong_used_buyers):
            buyer = next(take)
            span = f.wrong_used_returns_span
            each = rng.randint(*span) if span else f.wrong_used_returns_each
            share = rng.uniform(*f.wrong_used_claim_share) if f.wrong_used_claim_share else 0.85
            key = ("wrong_used_returns", "buyer", buyer.buyer_id)
            self.truth.entities["wrong_used_returns"].add(key[1:])
            self.truth.intensity[key] = round(share / honest_named, 3)
            for at in self._spread(each):
                seller = rng.choices(honest_sellers, [s.size for s in honest_sellers])[0]
                j = self.journey(seller, buyer, at, qc=None if f.wrong_used_qc else False)
                self.emit(j)
                if j.terminal == "DELIVERED" and rng.random() < share:
                    self.claim(
                        j,
                        rng.choice(["WRONG_ITEM", "USED_ITEM"]),
                        self.honest_claim_delay(),
                        planted=["wrong_used_returns"],
                    )
        # A seller and a buyer faking returns and claims together.
        for seller in self.sb_sellers:
            buyer = next(take)
            ring = {
                "pattern": "collusion",
                "kind": "seller_buyer",
                "members": [["seller", seller.seller_id], ["buyer", buyer.buyer_id]],
            }
            self.truth.rings.append(ring)
            for member in ring["members"]:
                self.truth.entities["collusion"].add((member[0], member[1]))
            for at in self._spread(f.seller_buyer_returns):
                j = self.journey(seller, buyer, at, qc=False)
                self.emit(j)
                if j.terminal == "DELIVERED":
                    self.claim(
                        j, rng.choice(["DAMAGED", "MISSING_ITEM"]), self.honest_claim_delay()
                    )
                    self._plant_ring_event(ring, j)
        # An agent passing one buyer's wrong items at pickup, again and again.
        for hub, agent in self.ab_agents:
            buyer = next(take)
            ring = {
                "pattern": "collusion",
                "kind": "agent_buyer",
                "members": [["agent", agent], ["buyer", buyer.buyer_id]],
            }
            self.truth.rings.append(ring)
            for member in ring["members"]:
                self.truth.entities["collusion"].add((member[0], member[1]))
            for at in self._spread(f.agent_buyer_returns):
                seller = rng.choices(honest_sellers, [s.size for s in honest_sellers])[0]
                j = self.journey(seller, buyer, at, agent=(hub, agent), qc=True)
                self.emit(j)
                if j.terminal == "DELIVERED":
                    self.claim(j, "WRONG_ITEM", self.honest_claim_delay())
                    self._plant_ring_event(ring, j)
        # Buyer accounts behind one address and phone, returning to one seller who claims.
        for seller in self.id_sellers:
            address, contact = _hex(rng, 64), _hex(rng, 64)
            accounts = [next(take) for _ in range(f.identity_ring_buyers)]
            ring = {
                "pattern": "collusion",
                "kind": "shared_identity",
                "members": [["seller", seller.seller_id]]
                + [["buyer", b.buyer_id] for b in accounts],
            }
            self.truth.rings.append(ring)
            for member in ring["members"]:
                self.truth.entities["collusion"].add((member[0], member[1]))
            for b in accounts:
                b.address_hash, b.contact_hash = address, contact
            times = self._spread(f.identity_ring_buyers * f.identity_ring_returns_each)
            for i, at in enumerate(times):
                j = self.journey(seller, accounts[i % len(accounts)], at, qc=False)
                self.emit(j)
                if j.terminal == "DELIVERED":
                    self.claim(
                        j, rng.choice(["DAMAGED", "MISSING_ITEM"]), self.honest_claim_delay()
                    )
                    self._plant_ring_event(ring, j)

    def _plant_ring_event(self, ring: dict[str, Any], j: _Journey) -> None:
        at = self.actions[-1].at
        self.truth.events["collusion"].add(("escalation", j.return_id))
        for etype, eid in ring["members"]:
            key = ("collusion", etype, eid)
            if key not in self.truth.first_event or at < self.truth.first_event[key]:
                self.truth.first_event[key] = at

    def _poisson(self, mu: float) -> int:
        # Knuth's method: fine for the small means of a day's returns.
        limit, k, p = math.exp(-mu), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1


def generate(market: Marketplace, seed: int, *, tag: str | None = None) -> World:
    """The world of one seed; `tag` makes its ids unique (defaults to the seed)."""
    world = _Generator(market, seed, tag or f"s{seed}").run()
    world.seed = seed
    return world
