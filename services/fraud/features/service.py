"""Update the features with one event, exactly once (inside the consumer's inbox transaction).

Each event adds to daily counters of every entity it concerns (and of their peer groups: the
category, the network of hubs, agents and buyers), so detectors read windows with one query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from services.fraud.features.custody import (
    DECLARED,
    END,
    PICKUP,
    SCAN,
    WEIGHT_DROP,
    Seen,
    custody,
    weight_drop,
)
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
PICKUP_SCANS = frozenset(
    {ShipmentEventType.PICKED_UP, ShipmentEventType.QC_PASSED, ShipmentEventType.QC_FAILED}
)
# The network-wide peer group of each entity type, stored under this entity type.
NETWORK = "network"
# A buyer's returns (handled) and naming claims (disputed) on parcels that name no pickup agent,
# by the hub they were picked up at: such a parcel at another hub than an agent's is certainly
# not that agent's (collusion's agent-buyer test reads it as the buyer's record elsewhere).
UNNAMED_HUB_BUYER = "unnamed_hub_buyer"
# A hub's parcels and incidents by the part of the journey it held (`pilferage_counts`).
PART_METRICS = frozenset(
    f"{m}_{p}" for m in ("handled", "incidents") for p in ("only", "last", "earlier")
)
# A journey's pilferage counts by (entity type, entity id, metric), all on its end's day.
PilferageCounts = Counter[tuple[str, str, str]]


@dataclass(slots=True)
class Increments:
    counts: Counter[CountKey] = field(default_factory=Counter)
    pairs: Counter[PairKey] = field(default_factory=Counter)
    identities: list[tuple[str, str, str]] = field(default_factory=list)
    # A scan after its journey's end changed the pilferage counts: its assessment runs the
    # pilferage tests as of the end (it completes their record).
    completed_end: bool = False

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
    # The QC failure may have reached fraud ahead of the feed entry naming the buyer: counted
    # now, on the day the return began (its pickup is a day or two later, inside any window).
    count_refusal(facts, inc, event.initiated_at.date())


def refusal_stands(facts: ReturnFacts) -> bool:
    """The return failed QC at pickup (its first QC result), its buyer is known, and it went
    no further: no pickup, no QC pass, no end (SOP rule P3 picks up a return after a failure;
    a failure can be followed by a pass)."""
    return bool(facts.buyer_id) and facts.qc_result == "FAILED" and not facts.moved_on


def count_refusal(facts: ReturnFacts, inc: Increments, day: date) -> None:
    """A return refused at pickup: the partner's agent found the item not the one sold or not
    unused, at the buyer's door. While the return stops there it is the buyer's wrong/used
    return named by the partner instead of the seller (no seller ever claims on it), and the
    buyer's wrong/used test counts it beside its named claims (`qc_failed`; the return a trial
    beside its delivered ones), with the seller it was for among those naming the buyer
    (`seller_buyer`/`qc_failed`). Any reason counts: partners word it freely, and what a QC at
    pickup checks is the item against the order; the buyers' own baseline holds how often
    honest returns fail it.

    A return that moves on (picked up after all, a pass, delivered) is counted as what it
    became, not as a refusal: its count is taken back, on the day it was counted under
    (`facts.refusal_day`). The count follows `refusal_stands` as the facts now stand, so a
    redelivered event counts nothing more and any arrival order ends at the same count."""
    counted = facts.refusal_day is not None
    if refusal_stands(facts) == counted:
        return
    n = -1 if counted else 1
    on = facts.refusal_day if counted else day
    assert on is not None
    inc.add("buyer", facts.buyer_id, "qc_failed", on, n)
    inc.add(NETWORK, "buyer", "qc_failed", on, n)
    inc.pair("seller_buyer", facts.seller_id, facts.buyer_id, "qc_failed", n)
    facts.refusal_day = None if counted else day


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
    ended = facts.terminal is not None
    before = pilferage_counts(facts) if ended else None
    if event.hub_id and event.hub_id not in (facts.hubs or []):
        facts.hubs = [*(facts.hubs or []), event.hub_id]
    if facts.custody is not None and not (ended and t in TERMINAL):
        # A second end (a loss after the delivery) is not counted, so not kept either.
        kind = END if t in TERMINAL else PICKUP if t in PICKUP_SCANS else SCAN
        seen = Seen(event.occurred_at, event.hub_id, event.weight_g, kind)
        facts.custody = [*facts.custody, seen.stored()]
    if t in PICKUP_SCANS:
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
    if t in (ShipmentEventType.PICKED_UP, ShipmentEventType.QC_PASSED) or t in TERMINAL:
        facts.moved_on = True
    count_refusal(facts, inc, day)
    if before is not None and t not in TERMINAL:
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
    facts.parts_counted = True
    for (etype, eid, metric), n in pilferage_counts(facts).items():
        inc.add(etype, eid, metric, day, n)
    return True


def incident_kind(facts: ReturnFacts) -> str | None:
    """What made the ended journey an incident: a delivery weighed short, or a declared loss or
    transit damage; None when it was not one (or has not ended)."""
    if facts.terminal is None:
        return None
    if facts.terminal != ShipmentEventType.DELIVERED_TO_SELLER.value:
        return DECLARED
    return WEIGHT_DROP if weight_drop(facts.pickup_weight_g, facts.delivered_weight_g) else None


def counted_hubs(facts: ReturnFacts) -> tuple[list[str], str | None]:
    """The hubs the ended journey counts as having handled it, and the one its incident is
    counted for (`features.custody`; every hub named, for a return first seen before the
    journey's scans were kept: None means all of them)."""
    if facts.custody is None:
        return list(facts.hubs or []), None
    found = custody(
        facts.return_id,
        [Seen.of(row) for row in facts.custody],
        pickup_weight_g=facts.pickup_weight_g,
        incident=incident_kind(facts),
    )
    return list(found.handled), found.incident_hub


def incident_after_pickup(facts: ReturnFacts, agent_id: str) -> bool:
    """Whether the ended journey came to harm (a delivery weighed short, a declared loss or
    transit damage) on a parcel `agent_id` picked up: the agent's incident as pilferage counts
    it, wherever along the journey the harm was found."""
    return facts.pickup_agent_id == agent_id and incident_kind(facts) is not None


def ended_at(facts: ReturnFacts, hubs: list[str]) -> str | None:
    """The journey's last hub: where it ended (delivered, declared lost or damaged), not the hub
    first seen last (a journey A -> B -> A ends at A; a late scan may name a hub after the end
    was seen). The hub last named where the end's hub is not known or not counted."""
    for row in facts.custody or ():
        seen = Seen.of(row)
        if seen.kind == END and seen.hub in hubs:
            return seen.hub
    return hubs[-1] if hubs else None


def pilferage_counts(facts: ReturnFacts) -> PilferageCounts:
    """Everything the ended journey adds to the pilferage counters, as its scans now stand: each
    hub that handled it (and its incident at the hub where it happened), its pickup agent, the
    agent's share of each hub, and the network totals. A pure function of the journey's scans,
    whatever order they came in."""
    out: PilferageCounts = Counter()
    incident = incident_kind(facts) is not None
    hubs, incident_hub = counted_hubs(facts)
    last = ended_at(facts, hubs)
    agent = facts.pickup_agent_id
    for hub in hubs:
        at_fault = incident and (incident_hub is None or hub == incident_hub)
        out[("hub", hub, "handled")] += 1
        out[(NETWORK, "hub", "handled")] += 1
        # The part of the journey the hub held: the only hub, the last of several (where a
        # loss on the way is declared), or an earlier one, each counted (parcels in none were
        # counted before the parts were kept): hubs are weighed by how exposed their parcels
        # were (`pilferage.exposure_scales`).
        # A journey whose scans were not kept (first seen before `custody`) tells neither where
        # it ended nor, whatever order its scans came in, which hub held which part: none.
        part = "only" if len(hubs) == 1 else "last" if hub == last else "earlier"
        if facts.custody is not None:
            out[("hub", hub, f"handled_{part}")] += 1
            if at_fault:
                out[("hub", hub, f"incidents_{part}")] += 1
        # Each agent's share of each hub: a hub's and its agents' incidents are the same
        # parcels, so telling which of them is the cause needs the agent's counts within it.
        pair = hub_agent(hub, agent)
        if pair:
            out[("hub_agent", pair, "handled")] += 1
        if at_fault:
            out[("hub", hub, "incidents")] += 1
            out[(NETWORK, "hub", "incidents")] += 1
            if pair:
                out[("hub_agent", pair, "incidents")] += 1
    if agent:
        out[("agent", agent, "handled")] += 1
        out[(NETWORK, "agent", "handled")] += 1
        if incident:
            out[("agent", agent, "incidents")] += 1
            out[(NETWORK, "agent", "incidents")] += 1
    return out


def count_late(facts: ReturnFacts, before: PilferageCounts, inc: Increments) -> None:
    """A scan that arrives after its journey's end (partners' events may arrive out of order: a
    swiftship pickup scan sent after the delivery, a rapidroute batch holding an earlier scan
    after the one that followed it) may change what the end was counted with: a hub, the pickup
    agent, the pickup weight (a weight drop revealed), the hub where the incident happened. The
    difference is counted on the end's day (a hub may give an incident back), so the counters
    come out exactly as if the scans had come in order."""
    if facts.terminal_at is None:  # an end is always stamped; nothing to count against
        return
    day = facts.terminal_at.date()
    facts.incident = facts.incident or incident_kind(facts) is not None
    after = pilferage_counts(facts)
    if not facts.parts_counted:
        # Its end was counted before the hubs' parts were kept: revising a part would take
        # back what was never added (a hub's `handled_only` at -1).
        before, after = _without_parts(before), _without_parts(after)
    for key in before.keys() | after.keys():
        n = after[key] - before[key]
        if n:
            inc.add(*key, day, n)
            inc.completed_end = True


def _without_parts(counts: PilferageCounts) -> PilferageCounts:
    return Counter({key: n for key, n in counts.items() if key[2] not in PART_METRICS})


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
    h = hours_after_delivery(facts, event.filed_at)
    late = h is not None and window_h - late_margin_h <= h <= window_h
    # The claim itself, dear or not, is a seller's claim once its delivery is known
    # (`count_claim_scans`). Whether it was filed late is known only against a delivery
    # already seen: a late claim whose delivery's scan came after it is not counted late.
    for etype, eid in sellers_rows(facts) if late else ():
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
    # A claim on a return delivered to the seller: it counts in the seller's rates
    # (`count_claim_scans`) whichever reached fraud first, the claim or the delivery's scan.
    # Not by comparing their times: the partner's clock and ours may disagree by minutes.
    seller_claim: bool
    qc_passed: bool
    qc_agent: str | None
    qc_hub: str | None
    pickup_agent: str | None
    incident: bool
    drop: bool | None
    # Where the parcel was picked up, as far as the scans say: the QC scan's hub, else the
    # first hub seen (`pickup_hub`).
    hub: str | None = None

    @classmethod
    def of(cls, facts: ReturnFacts) -> ScansRead:
        return cls(
            ended=facts.terminal is not None,
            seller_claim=delivered(facts) and facts.claimed_at is not None,
            qc_passed=facts.qc_result == "PASSED",
            qc_agent=facts.qc_agent_id,
            qc_hub=facts.qc_hub_id,
            pickup_agent=facts.pickup_agent_id,
            incident=bool(facts.incident),
            drop=weight_drop(facts.pickup_weight_g, facts.delivered_weight_g),
            hub=pickup_hub(facts),
        )


def pickup_hub(facts: ReturnFacts) -> str | None:
    """The hub a parcel was picked up at, as far as its scans say: its QC scan's, else the
    first hub it was seen at."""
    return facts.qc_hub_id or (facts.hubs[0] if facts.hubs else None)


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
    if not read.pickup_agent:
        # A parcel naming no agent, by its hub: collusion's record of the buyer elsewhere than
        # an agent's hub (`UNNAMED_HUB_BUYER`).
        inc.pair(UNNAMED_HUB_BUYER, read.hub, facts.buyer_id, "handled")
    if read.pickup_agent and facts.terminal_at is not None:
        inc.add(NETWORK, "agent_buyer", "handled", facts.terminal_at.date())


def count_claim_scans(facts: ReturnFacts, read: ScansRead, inc: Increments) -> None:
    """A claim's counts that depend on the journey's scans: the seller's claim on a delivered
    return (dear or not, a missing item with its weight intact), the buyer named (unless the
    parcel came to harm), the pickup agent's disputes of the buyer, and the QC pass the claim
    contradicts. The seller's counts move together: a claim whose delivery scan came after it
    counts as a claim once the delivery is known, never as a missing item alone."""
    if facts.claimed_at is None or facts.claim_type is None:
        return
    day = facts.claimed_at.date()
    claim = facts.claim_type
    # The claim rate is per delivered return: a claim about a parcel that never arrived (lost,
    # damaged in transit) is the partner's matter and stays out of the seller's rates.
    for etype, eid in sellers_rows(facts) if read.seller_claim else ():
        inc.add(etype, eid, "claims", day)
        if facts.dear:  # dear as its delivery was counted: among the seller's dear deliveries
            inc.add(etype, eid, "claims_high_value", day)
        if claim == "MISSING_ITEM" and read.drop is False:
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
    else:
        inc.pair(UNNAMED_HUB_BUYER, read.hub, facts.buyer_id, "disputed")
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
