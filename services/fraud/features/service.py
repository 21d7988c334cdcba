"""Update the features with one event, exactly once (inside the consumer's inbox transaction).

Each event adds to daily counters of every entity it concerns (and of their peer groups: the
category, the network of hubs, agents and buyers), so detectors read windows with one query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from services.fraud.features.dear import is_dear, value_metric
from services.fraud.features.repository import CountKey, PairKey
from services.fraud.models import ReturnFacts
from shared.events import (
    ReturnInitiated,
    ReturnShipmentEvent,
    SellerEscalationFiled,
    ShipmentEventType,
)

NAMING_CLAIMS = frozenset({"WRONG_ITEM", "USED_ITEM", "MISSING_ITEM"})
# QC at pickup checks the item is the one sold and unused: a wrong or used item claimed later
# contradicts it. A missing item does not (it can vanish in transit after a sound pickup).
QC_CONTRADICTING_CLAIMS = frozenset({"WRONG_ITEM", "USED_ITEM"})
TERMINAL = frozenset(
    {
        ShipmentEventType.DELIVERED_TO_SELLER,
        ShipmentEventType.LOST,
        ShipmentEventType.DAMAGED_IN_TRANSIT,
    }
)
# The network-wide peer group of each entity type, stored under this entity type.
NETWORK = "network"


@dataclass(slots=True)
class Increments:
    counts: Counter[CountKey] = field(default_factory=Counter)
    pairs: Counter[PairKey] = field(default_factory=Counter)
    identities: list[tuple[str, str, str]] = field(default_factory=list)

    def add(
        self, entity_type: str, entity_id: str | None, metric: str, day: date, n: int = 1
    ) -> None:
        if entity_id:
            self.counts[(entity_type, entity_id, metric, day)] += n

    def pair(self, kind: str, left: str | None, right: str | None, metric: str, n: int = 1) -> None:
        if left and right:
            self.pairs[(kind, left, right, metric)] += n

    def add_changes(self, counted: Increments, recounted: Increments) -> None:
        """Add what `recounted` counts beyond `counted` (either way), and nothing where they
        agree."""
        for key, n in (recounted.counts - counted.counts).items():
            self.counts[key] += n
        for key, n in (counted.counts - recounted.counts).items():
            self.counts[key] -= n
        for pair, n in (recounted.pairs - counted.pairs).items():
            self.pairs[pair] += n
        for pair, n in (counted.pairs - recounted.pairs).items():
            self.pairs[pair] -= n


def weight_drop(pickup_g: int | None, delivered_g: int | None) -> bool | None:
    """SOP: delivered below pickup − max(50 g, 10 % of pickup); None if a weight is unknown."""
    if pickup_g is None or delivered_g is None:
        return None
    return delivered_g < pickup_g - max(50, pickup_g // 10)


def identity_entities(facts: ReturnFacts) -> list[tuple[str, str]]:
    out = []
    if facts.contact_hash:
        out.append(("contact", facts.contact_hash))
    if facts.address_hash:
        out.append(("address", facts.address_hash))
    return out


def category_seller(category: str | None, seller_id: str | None) -> str | None:
    """One seller's counts within its category: the category's sellers are each other's peers,
    one by one, so that a robust baseline can leave an outlier out."""
    return f"{category}|{seller_id}" if category and seller_id else None


def hub_agent(hub_id: str | None, agent_id: str | None) -> str | None:
    return f"{hub_id}|{agent_id}" if hub_id and agent_id else None


def record_return(facts: ReturnFacts, event: ReturnInitiated, inc: Increments) -> None:
    facts.order_id = event.order_id
    facts.seller_id = event.seller_id
    facts.buyer_id = event.buyer_id
    facts.category = event.category
    facts.item_value = event.item_value
    facts.partner_id = event.partner_id
    facts.contact_hash = event.buyer_contact_hash
    facts.address_hash = event.buyer_address_hash
    for kind, value in identity_entities(facts):
        inc.identities.append((kind, value, event.buyer_id))


def record_scan(
    facts: ReturnFacts, event: ReturnShipmentEvent, inc: Increments, *, dear_from: int | None
) -> bool:
    """Returns True when the scan ends the journey (delivery, loss, transit damage); a scan
    arriving after the end completes what the end was counted without (`count_late`), and one
    arriving after the delivery or the claim what they took from the scans (`recount_late`).
    `dear_from` is the lowest value bin that is dear in the return's category as it stands
    before this delivery (`dear.dear_from`; None: none yet)."""
    before = ScansRead.of(facts)
    ended = _count_scan(facts, event, inc, dear_from=dear_from)
    recount_late(facts, before, inc)
    return ended


def _count_scan(
    facts: ReturnFacts, event: ReturnShipmentEvent, inc: Increments, *, dear_from: int | None
) -> bool:
    day = event.occurred_at.date()
    t = event.event_type
    before = _Counted(list(facts.hubs or []), facts.pickup_agent_id, facts.pickup_weight_g)
    if event.hub_id and event.hub_id not in (facts.hubs or []):
        facts.hubs = [*(facts.hubs or []), event.hub_id]
    if t in (ShipmentEventType.PICKED_UP, ShipmentEventType.QC_PASSED, ShipmentEventType.QC_FAILED):
        if event.agent_id and not facts.pickup_agent_id:
            facts.pickup_agent_id = event.agent_id
        if event.weight_g is not None and facts.pickup_weight_g is None:
            facts.pickup_weight_g = event.weight_g
    if t in (ShipmentEventType.QC_PASSED, ShipmentEventType.QC_FAILED) and facts.qc_result is None:
        facts.qc_result = "PASSED" if t == ShipmentEventType.QC_PASSED else "FAILED"
        facts.qc_agent_id = event.agent_id
        facts.qc_hub_id = event.hub_id
        if t == ShipmentEventType.QC_PASSED:
            for etype, eid in (("agent", event.agent_id), ("hub", event.hub_id)):
                if eid:
                    inc.add(etype, eid, "qc_passed", day)
                    inc.add(NETWORK, etype, "qc_passed", day)
            inc.add("hub_agent", hub_agent(event.hub_id, event.agent_id), "qc_passed", day)
    if facts.terminal is not None and t not in TERMINAL:
        # Read by the next terminal scan of these hubs and agents: this scan's own time lies
        # before the end's day, outside the window its assessment reads.
        count_late(facts, before, inc)
        return False
    if t not in TERMINAL or facts.terminal is not None:
        return False
    facts.terminal = t.value
    facts.terminal_at = event.occurred_at
    if t == ShipmentEventType.DELIVERED_TO_SELLER:
        facts.delivered_weight_g = event.weight_g
        facts.incident = bool(weight_drop(facts.pickup_weight_g, event.weight_g))
        facts.dear = is_dear(facts.item_value, dear_from)
        hv = facts.dear
        if facts.item_value is not None:
            inc.add("category", facts.category, value_metric(facts.item_value), day)
        for etype, eid in (
            ("seller", facts.seller_id),
            ("category", facts.category),
            ("category_seller", category_seller(facts.category, facts.seller_id)),
        ):
            inc.add(etype, eid, "delivered", day)
            if hv:
                inc.add(etype, eid, "delivered_high_value", day)
        inc.add("buyer", facts.buyer_id, "delivered", day)
        inc.add(NETWORK, "buyer", "delivered", day)
        for kind, value in identity_entities(facts):
            inc.add(kind, value, "delivered", day)
            inc.add(NETWORK, kind, "delivered", day)
        inc.pair("seller_buyer", facts.seller_id, facts.buyer_id, "delivered")
        count_delivery_scans(facts, ScansRead.of(facts), inc)
    else:
        facts.incident = True
    handlers = [("hub", h) for h in (facts.hubs or [])]
    if facts.pickup_agent_id:
        handlers.append(("agent", facts.pickup_agent_id))
    for etype, eid in handlers:
        inc.add(etype, eid, "handled", day)
        inc.add(NETWORK, etype, "handled", day)
        if facts.incident:
            inc.add(etype, eid, "incidents", day)
            inc.add(NETWORK, etype, "incidents", day)
    # Each agent's share of each hub: a hub's and its agents' incidents are the same parcels, so
    # telling which of them is the cause needs the agent's counts within the hub.
    for hub in facts.hubs or []:
        pair = hub_agent(hub, facts.pickup_agent_id)
        inc.add("hub_agent", pair, "handled", day)
        if facts.incident:
            inc.add("hub_agent", pair, "incidents", day)
    return True


@dataclass(frozen=True, slots=True)
class _Counted:
    """What a journey's end was counted with: its hubs, pickup agent and pickup weight."""

    hubs: list[str]
    agent: str | None
    pickup_weight_g: int | None


def count_late(facts: ReturnFacts, before: _Counted, inc: Increments) -> None:
    """A scan that arrives after its journey's end (partners' events may arrive out of order: a
    swiftship pickup scan sent after the delivery, a rapidroute batch holding an earlier scan
    after the one that followed it) and names what the end was counted without: a hub, the
    pickup agent, the pickup weight. The parcel is counted for them on the end's day, and a
    weight drop the late pickup weight reveals is an incident of every hub and agent of the
    journey, exactly as if the scans had come in order: otherwise a reordered parcel is missing
    from its agent's record and its weight drop from everyone's, whichever partner sent it."""
    if facts.terminal_at is None:  # an end is always stamped; nothing to count against
        return
    day = facts.terminal_at.date()
    revealed = (
        not facts.incident
        and before.pickup_weight_g is None
        and bool(weight_drop(facts.pickup_weight_g, facts.delivered_weight_g))
    )
    if revealed:
        facts.incident = True
    agent = facts.pickup_agent_id
    new_agent = agent if agent and not before.agent else None
    handlers = [("hub", h) for h in facts.hubs or [] if h not in before.hubs]
    if new_agent:
        handlers.append(("agent", new_agent))
    counted_before = [("hub", h) for h in before.hubs]
    if before.agent:
        counted_before.append(("agent", before.agent))
    pairs_before = {hub_agent(h, before.agent) for h in before.hubs} - {None}
    pairs = [hub_agent(h, agent) for h in facts.hubs or []]
    new_pairs = [p for p in pairs if p and p not in pairs_before]
    for etype, eid in handlers:
        inc.add(etype, eid, "handled", day)
        inc.add(NETWORK, etype, "handled", day)
    for pair in new_pairs:
        inc.add("hub_agent", pair, "handled", day)
    # The new handlers take the parcel as it now stands; those counted at the end take only
    # the incident the late weight revealed.
    incident_of = (handlers if facts.incident else []) + (counted_before if revealed else [])
    for etype, eid in incident_of:
        inc.add(etype, eid, "incidents", day)
        inc.add(NETWORK, etype, "incidents", day)
    incident_pairs = (new_pairs if facts.incident else []) + (
        [p for p in pairs if p and p in pairs_before] if revealed else []
    )
    for pair in incident_pairs:
        inc.add("hub_agent", pair, "incidents", day)


def hours_after_delivery(facts: ReturnFacts, filed_at: datetime) -> float | None:
    if facts.terminal != ShipmentEventType.DELIVERED_TO_SELLER.value or facts.terminal_at is None:
        return None
    return (filed_at - facts.terminal_at).total_seconds() / 3600


def record_claim(
    facts: ReturnFacts,
    event: SellerEscalationFiled,
    inc: Increments,
    *,
    window_h: float,
    late_margin_h: float,
) -> bool:
    """Count the return's first claim; a later escalation on the same return is an update."""
    if facts.claimed_at is not None:
        return False
    day = event.filed_at.date()
    claim = event.claim_type.value
    facts.claim_type = claim
    facts.claimed_at = event.filed_at
    facts.escalation_id = event.escalation_id
    seller = facts.seller_id or event.seller_id
    facts.seller_id = seller
    # Dear as its delivery was counted (`dear`): the seller's dear claims are among its dear
    # deliveries.
    hv = bool(facts.dear)
    h = hours_after_delivery(facts, event.filed_at)
    late = h is not None and window_h - late_margin_h <= h <= window_h
    # The claim rate is per delivered return: a claim about a parcel that never arrived (lost,
    # damaged in transit) is the partner's matter and stays out of the seller's rates.
    for etype, eid in sellers_rows(facts) if delivered(facts) else ():
        inc.add(etype, eid, "claims", day)
        if hv:
            inc.add(etype, eid, "claims_high_value", day)
        if late:
            inc.add(etype, eid, "claims_late", day)
    inc.pair("seller_buyer", seller, facts.buyer_id, "claims")
    for kind, value in identity_entities(facts):
        inc.add(kind, value, "claims", day)
        inc.add(NETWORK, kind, "claims", day)
    count_claim_scans(facts, ScansRead.of(facts), inc)
    return True


def delivered(facts: ReturnFacts) -> bool:
    return facts.terminal == ShipmentEventType.DELIVERED_TO_SELLER.value


def sellers_rows(facts: ReturnFacts) -> tuple[tuple[str, str | None], ...]:
    return (
        ("seller", facts.seller_id),
        ("category", facts.category),
        ("category_seller", category_seller(facts.category, facts.seller_id)),
    )


@dataclass(frozen=True, slots=True)
class ScansRead:
    """What a delivery's and a claim's counts take from the journey's scans: whether it has
    ended, its QC pass (agent, hub), its pickup agent, whether it came to harm and whether its
    weight dropped. Scans arrive in any order (a swiftship pickup scan sent after the delivery,
    a rapidroute batch or a desipost snapshot late by hours), so these may still change after
    the delivery and the claim were counted (`recount_late`)."""

    ended: bool
    qc_passed: bool
    qc_agent: str | None
    qc_hub: str | None
    pickup_agent: str | None
    incident: bool
    drop: bool | None

    @classmethod
    def of(cls, facts: ReturnFacts) -> ScansRead:
        return cls(
            ended=facts.terminal is not None,
            qc_passed=facts.qc_result == "PASSED",
            qc_agent=facts.qc_agent_id,
            qc_hub=facts.qc_hub_id,
            pickup_agent=facts.pickup_agent_id,
            incident=bool(facts.incident),
            drop=weight_drop(facts.pickup_weight_g, facts.delivered_weight_g),
        )


def count_delivery_scans(facts: ReturnFacts, read: ScansRead, inc: Increments) -> None:
    """A delivery's counts that name who handled the parcel: the QC agent whose pass was
    delivered to the buyer's seller, and the pickup agent's returns of the buyer (collusion's
    denominator). The network's agent-buyer returns count only parcels whose pickup agent is
    named, as its disputes do: a parcel that names none (desipost's, a partner that never names
    agents) can be no pair's, and counted in the network's returns alone it would lower the
    network's dispute rate every agent-buyer pair is weighed against."""
    if read.qc_passed:
        inc.pair("qc_agent_buyer", read.qc_agent, facts.buyer_id, "delivered")
    inc.pair("agent_buyer", read.pickup_agent, facts.buyer_id, "handled")
    if read.pickup_agent and facts.terminal_at is not None:
        inc.add(NETWORK, "agent_buyer", "handled", facts.terminal_at.date())


def count_claim_scans(facts: ReturnFacts, read: ScansRead, inc: Increments) -> None:
    """A claim's counts that depend on the journey's scans: a missing item with its weight
    intact, the buyer named (unless the parcel came to harm), the pickup agent's disputes of
    the buyer, and the QC pass the claim contradicts."""
    if facts.claimed_at is None or facts.claim_type is None:
        return
    day = facts.claimed_at.date()
    claim = facts.claim_type
    if claim == "MISSING_ITEM" and read.drop is False and delivered(facts):
        for etype, eid in sellers_rows(facts):
            inc.add(etype, eid, "claims_missing_intact", day)
    if claim not in NAMING_CLAIMS:
        return
    if not read.incident:
        # A parcel that lost weight (or worse) in transit explains a missing or swapped
        # item: such a claim names the partner's handling, not the buyer.
        inc.add("buyer", facts.buyer_id, "named_claims", day)
        inc.add(NETWORK, "buyer", "named_claims", day)
        inc.pair("seller_buyer", facts.seller_id, facts.buyer_id, "named")
        if read.qc_passed:
            # Where the buyer's named claims fell: on a QC entity's passes or elsewhere
            # (`qc_contradiction.named_elsewhere`).
            inc.pair("qc_agent_buyer", read.qc_agent, facts.buyer_id, "named")
            inc.pair("qc_hub_buyer", read.qc_hub, facts.buyer_id, "named")
    inc.pair("agent_buyer", read.pickup_agent, facts.buyer_id, "disputed")
    if read.pickup_agent:
        inc.add(NETWORK, "agent_buyer", "disputed", day)
    if read.qc_passed and claim in QC_CONTRADICTING_CLAIMS:
        for etype, eid in (("agent", read.qc_agent), ("hub", read.qc_hub)):
            if eid:
                inc.add(etype, eid, "qc_contradictions", day)
                inc.add(NETWORK, etype, "qc_contradictions", day)
        inc.add("hub_agent", hub_agent(read.qc_hub, read.qc_agent), "qc_contradictions", day)
        # Per buyer, so that a QC entity is judged on how many buyers' passes were
        # contradicted, not how often one buyer disputes (see scoring's qc step).
        inc.pair("qc_agent_buyer", read.qc_agent, facts.buyer_id, "contradicted")
        inc.pair("qc_hub_buyer", read.qc_hub, facts.buyer_id, "contradicted")


def recount_late(facts: ReturnFacts, before: ScansRead, inc: Increments) -> None:
    """A scan that arrives after the delivery or the claim was counted and changes what they
    took from the scans (the QC pass and its agent, the pickup agent, a weight drop the late
    pickup weight reveals): their counts are made again as they would have been with every
    scan in hand, on their own days, and only the difference is added. Without it a parcel
    whose QC or pickup scan came late was missing from its agent's pairs with the buyer
    (collusion's handled and disputed returns, QC's passes delivered), and a claim filed before
    such a scan contradicted no QC pass at all."""
    after = ScansRead.of(facts)
    if after == before:
        return
    counted, recounted = Increments(), Increments()
    if before.ended and delivered(facts):
        count_delivery_scans(facts, before, counted)
        count_delivery_scans(facts, after, recounted)
    count_claim_scans(facts, before, counted)
    count_claim_scans(facts, after, recounted)
    inc.add_changes(counted, recounted)
