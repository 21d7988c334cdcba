"""The I/O half of the claim abuse detector (`detectors.claim_abuse`) and of the detectors that
read the same claim context: the seller's, buyer's (`detectors.returns_abuse`), pairs' and
shared identities' (`detectors.collusion`) counts, then the QC and evidence reads."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from services.fraud.alerts.repository import alerted
from services.fraud.detectors import (
    claim_abuse,
    collusion,
    pilferage,
    qc_contradiction,
    returns_abuse,
)
from services.fraud.detectors.findings import Finding
from services.fraud.detectors.sequential import stronger_of
from services.fraud.detectors.stats import (
    PeerSpread,
    RobustBaseline,
    Sequential,
    Thresholds,
    peer_rate,
    sequential_log_bf,
    sequential_test,
)
from services.fraud.features import repository as features
from services.fraud.features.custody import weight_drop
from services.fraud.features.service import (
    NAMING_CLAIMS,
    NETWORK,
    QC_CONTRADICTING_CLAIMS,
    UNNAMED_HUB_BUYER,
    category_seller,
    hours_after_delivery,
    identity_entities,
    pickup_hub,
)
from services.fraud.models import ReturnFacts
from services.fraud.risk import repository as risk_repo
from services.fraud.scoring.base import Scored, ScoringConfig
from services.fraud.scoring.baselines import Counts
from services.fraud.scoring.evidence_reuse import EvidenceInputs
from services.fraud.scoring.qc_contradiction import QcInputs
from services.fraud.scoring.returns_abuse import ReturnsInputs
from shared.events import EvidenceItem, ShipmentEventType

# The other parties' alerts whose fraud explains a seller's returns (`ClaimInputs.explained`).
PILFERAGE_AGENT = (f"{pilferage.PATTERN_PREFIX}AGENT",)
PILFERAGE_HUB = (f"{pilferage.PATTERN_PREFIX}HUB",)
QC_AGENT = (f"{qc_contradiction.PATTERN_PREFIX}AGENT",)
QC_HUB = (f"{qc_contradiction.PATTERN_PREFIX}HUB",)
DELIVERED = ShipmentEventType.DELIVERED_TO_SELLER.value

# What a claim reads of its parties over the long window (`claim_windows`).
CLAIM_METRICS = (
    "delivered",
    "delivered_high_value",
    "claims",
    "claims_high_value",
    "claims_missing_intact",
    "claims_late",
    "named_claims",
    "qc_failed",
    "handled",
    "disputed",
)
# What a QC-contradicting claim reads of the return's QC agent and hub (`QcInputs.qc`).
QC_METRICS = ("qc_passed", "qc_contradictions")
# What a claim may read of its seller in the category over its recent weeks (`recent_read`).
RECENT_METRICS = ("claims", "delivered")


def claim_windows(facts: ReturnFacts) -> list[features.Entity]:
    """The entities whose `CLAIM_METRICS` a claim on this return reads over the long window:
    its seller, category, seller in the category, buyer and the buyer's identities, with the
    network's totals they are weighed against."""
    seller, buyer = facts.seller_id, facts.buyer_id
    keys: list[features.Entity] = [(NETWORK, "buyer"), (NETWORK, "agent_buyer")]
    if seller:
        keys.append(("seller", seller))
    own_key = category_seller(facts.category, seller)
    if facts.category:
        keys.append(("category", facts.category))
    if own_key:
        keys.append(("category_seller", own_key))
    if buyer:
        keys.append(("buyer", buyer))
    for kind, value in identity_entities(facts):
        keys += [(kind, value), (NETWORK, kind)]
    return keys


def claim_pairs(facts: ReturnFacts) -> list[tuple[str, str, str]]:
    """The pairs whose lifetime counts a claim on this return reads."""
    seller, buyer, agent = facts.seller_id, facts.buyer_id, facts.pickup_agent_id
    pair_keys = []
    if seller and buyer:
        pair_keys.append(("seller_buyer", seller, buyer))
    if agent and buyer:
        pair_keys += [("agent_buyer", agent, buyer), ("qc_agent_buyer", agent, buyer)]
        # The buyer's parcels naming no agent at the agent's pickup hub (collusion's record
        # elsewhere leaves out only those at other hubs, which cannot be this agent's).
        hub = pickup_hub(facts)
        if hub:
            pair_keys.append((UNNAMED_HUB_BUYER, hub, buyer))
    return pair_keys


def qc_read(facts: ReturnFacts, claim_type: str) -> list[features.Entity]:
    """The QC entities whose `QC_METRICS` a claim of this type reads (`QcInputs.qc`): a wrong
    or used item on a return that passed QC."""
    if claim_type not in QC_CONTRADICTING_CLAIMS or facts.qc_result != "PASSED":
        return []
    return [(e, i) for e, i in (("agent", facts.qc_agent_id), ("hub", facts.qc_hub_id)) if i]


def recent_read(facts: ReturnFacts, config: ScoringConfig) -> list[features.Entity]:
    """The entity whose `RECENT_METRICS` a claim on this return may read over the seller's
    recent weeks (`ClaimInputs.recent_weeks`, when its whole record leans to abuse): the
    seller in its category."""
    own_key = category_seller(facts.category, facts.seller_id)
    return [("category_seller", own_key)] if own_key and config.seller_recent_days else []


@dataclass(frozen=True, slots=True)
class OpenWindows:
    """What a seller's record reads of its claim windows still open (`ClaimInputs.open_windows`):
    when the market's claims come, and the seller's deliveries not claimed yet inside their
    window, as the record tested weighs them."""

    delays: claim_abuse.HonestDelays
    deliveries: tuple[claim_abuse.OpenDelivery, ...]


# The market's claims' delays are read again once the event time has moved this far from the
# read kept (`ClaimInputs.honest_delays`): they change with the market's mix, over weeks.
DELAYS_MAX_DRIFT = timedelta(hours=24)
# One read kept per database engine (weakly held, as `baselines.peer_baselines`' are): (event
# time read at, the delays).
_DELAYS: weakref.WeakKeyDictionary[Any, tuple[datetime, claim_abuse.HonestDelays]] = (
    weakref.WeakKeyDictionary()
)
# At most this many of the market's delays are kept, evenly over their order: the CDF to a
# tenth of a percent.
DELAYS_KEPT = 1000


def kept_delays(hours: list[float]) -> claim_abuse.HonestDelays:
    """The market's claims' delays, sorted and thinned to `DELAYS_KEPT` quantiles."""
    ordered = sorted(hours)
    if len(ordered) > DELAYS_KEPT:
        step = len(ordered) / DELAYS_KEPT
        ordered = [ordered[int(i * step)] for i in range(DELAYS_KEPT)]
    return claim_abuse.HonestDelays(tuple(ordered))


@dataclass(frozen=True, slots=True)
class HonestSellers:
    """What `ClaimInputs.honest_sellers` reads of the category's sellers and the market's."""

    # The category's honest population (None before it has other sellers).
    population: PeerSpread | None = None
    # The honest rate of each category the seller sells in that has other sellers.
    rates: dict[str, float] = field(default_factory=dict)
    # The seller's (claims, deliveries) in its categories other than the claim's.
    cells: dict[str, tuple[int, int]] = field(default_factory=dict)
    # How alike honest sellers' whole records are, where the seller sells in several
    # categories (`claim_abuse.whole_records_concentration`, never narrower than the
    # categories' pooled spread); 0 where not read.
    whole_concentration: float = 0.0
    # The categories' pooled spread (0: not read).
    pooled: float = 0.0


def stronger_pair(own: list[Finding], household: list[Finding]) -> list[Finding]:
    """The pair's finding, or the household's where it is the stronger (`household_pair`)."""
    if household and (
        not own or max(f.contribution for f in household) > max(f.contribution for f in own)
    ):
        return household
    return own


class ClaimInputs(ReturnsInputs, QcInputs, EvidenceInputs):
    """Builds a claim's context from the features and runs the detectors that concern it."""

    async def claim_context(
        self,
        facts: ReturnFacts,
        claim_type: str,
        new_evidence: list[EvidenceItem],
        escalation_id: str | None,
    ) -> None:
        """Everything that bears on a claim: the seller, the buyer, their pair, the agent's QC,
        shared identities, the claim's own red flags and its evidence."""
        cfg, t = self.config, self.t
        seller, buyer, agent = facts.seller_id, facts.buyer_id, facts.pickup_agent_id
        naming = claim_type in NAMING_CLAIMS
        since, until = self.window(cfg.long_window)
        idents = identity_entities(facts)
        totals = await features.window_totals(
            self.session, claim_windows(facts), list(CLAIM_METRICS), since, until
        )
        category = totals.get(("category", facts.category or ""), {})
        peers: dict[str, tuple[int, int]] | None = None
        if seller:
            found, peers = await self.seller_tests(facts, totals)
            self.evaluated_entity("seller", seller)
            self.evaluated[("seller", seller)].extend(found)
            # A claim on a parcel the partner lost, damaged or delivered light has its own
            # explanation: the seller's record colours it, as any entity's risk does, but does
            # not make it HIGH.
            self.add(found, direct=not facts.incident)
        # The claim's own red flags.
        drop = weight_drop(facts.pickup_weight_g, facts.delivered_weight_g)
        claim = claim_abuse.ClaimFacts(
            claim_type=claim_type,
            item_value=facts.item_value,
            weight_intact=None if drop is None else not drop,
            hours_after_delivery=(
                hours_after_delivery(facts, facts.claimed_at) if facts.claimed_at else None
            ),
            high_value=bool(facts.dear),
        )
        for code, detail, c, numbers in claim_abuse.claim_flags(
            claim, window_h=cfg.claim_window_h, late_margin_h=cfg.late_margin_h
        ):
            self.scored.append(
                Scored(
                    Finding(code, detail, c, claim_abuse.PATTERN, "seller", seller or "", numbers),
                    c,
                )
            )
        hub = pickup_hub(facts)
        pairs = await features.pair_counts(self.session, claim_pairs(facts))
        pair_found: list[Finding] = []
        # The accounts seen with each contact or address hash of the buyer's.
        accounts = await features.accounts_sharing(self.session, idents) if idents and buyer else {}
        if buyer:
            # A naming claim on a parcel that lost weight in transit names the partner's
            # handling: the buyer's record colours it but does not make it HIGH.
            await self.buyer_tests(buyer, totals, direct=naming and not facts.incident)
        if seller and buyer:
            pc = pairs.get(("seller_buyer", seller, buyer), {})
            # The yardstick is the category's ordinary sellers (robust baseline), not the pooled
            # category that the abusers and rings in it drag up.
            peer_claims, peer_delivered = (peers or {}).get("claims") or (
                category.get("claims", 0) - pc.get("claims", 0),
                category.get("delivered", 0) - pc.get("delivered", 0),
            )
            network = totals.get((NETWORK, "buyer"), {}).get("delivered", 0)
            seller_delivered = totals.get(("seller", seller), {}).get("delivered", 0)

            # The pair's claims and deliveries as the test reads them: by orders once the pair
            # stands out (`by_order`), item by item until then.
            pair_claims, pair_delivered = pc.get("claims", 0), pc.get("delivered", 0)
            buyer_delivered = totals.get(("buyer", buyer), {}).get("delivered", 0)

            def pair_findings(elsewhere: tuple[int, int] | None) -> list[Finding]:
                return collusion.seller_buyer_findings(
                    seller,
                    buyer,
                    pair_claims,
                    max(pair_delivered, pair_claims),
                    peer_claims,
                    peer_delivered,
                    t,
                    loyalty=collusion.Loyalty(
                        pair_delivered=pair_delivered,
                        buyer_delivered=buyer_delivered,
                        seller_share=seller_delivered / network,
                    )
                    if network
                    else None,
                    buyer_elsewhere=elsewhere,
                )

            found = pair_findings(None)
            if found:
                # The items of one order, returned and claimed together, are one trial of the
                # buyer's, not two (`collusion.counted_by_order`); read only when the pair
                # stands out, so an ordinary claim costs no query. The buyer's returns in all
                # lose what the pair's lose: its returns elsewhere stay as counted.
                pair_claims, pair_delivered = await self.by_order(seller, buyer, pc)
                buyer_delivered -= pc.get("delivered", 0) - pair_delivered
                found = pair_findings(None)
            if found:
                # The buyer's claims and deliveries with every seller (lifetime pair counts, as
                # the pair's own), less this pair's: the buyer's record elsewhere. Read only
                # when the pair stands out, so an ordinary claim costs no query.
                everywhere = await features.right_totals(
                    self.session,
                    kind="seller_buyer",
                    right_id=buyer,
                    metrics=["claims", "delivered"],
                )
                found = pair_findings(
                    (
                        max(0, everywhere.get("claims", 0) - pc.get("claims", 0)),
                        max(0, everywhere.get("delivered", 0) - pc.get("delivered", 0)),
                    )
                )
            if accounts and not any(f.alert for f in found):
                found = stronger_pair(
                    found,
                    await self.household_pair(
                        seller, buyer, accounts, pc, (peer_claims, peer_delivered)
                    ),
                )
            self.evaluated[("seller", seller)].extend(found)
            # A ring's claim on a parcel the partner lost, damaged or delivered light has the
            # partner's scans for its explanation, as the seller's and the buyer's own records
            # have (above): the ring colours it and is alerted all the same, but the claim is
            # not HIGH on the ring's account.
            self.add(found, direct=not facts.incident)
            pair_found = found
        if agent and buyer and naming:
            pc = pairs.get(("agent_buyer", agent, buyer), {})
            net = totals.get((NETWORK, "agent_buyer"), {})
            # The pair's disputes and pickups as the test reads them: by orders once the pair
            # stands out, item by item until then (as the seller-buyer pair's).
            disputed, handled = pc.get("disputed", 0), pc.get("handled", 0)

            def agent_pair_findings(elsewhere: tuple[int, int] | None) -> list[Finding]:
                return collusion.agent_buyer_findings(
                    agent,
                    buyer,
                    disputed,
                    max(handled, disputed),
                    net.get("disputed", 0) - pc.get("disputed", 0),
                    net.get("handled", 0) - pc.get("handled", 0),
                    t,
                    buyer_elsewhere=elsewhere,
                    vouched=pairs.get(("qc_agent_buyer", agent, buyer), {}).get("named", 0),
                )

            found = agent_pair_findings(None)
            if found:
                # The items of one order, picked up together and disputed together, are one
                # trial of the buyer's with the agent, not two (`collusion.counted_by_order`).
                disputed, handled = await self.agent_by_order(agent, buyer, pc)
                found = agent_pair_findings(None)
            if found:
                # The buyer's record elsewhere: its returns and disputes through every other
                # named agent, and on parcels naming no agent at other hubs than this one. A
                # parcel naming no agent at this hub (rapidroute leaves the agent off many) may
                # be this very agent's: counted as the buyer's return with someone else it hid
                # rings whose agent is named on part of their parcels (the share test near 1).
                # Left out altogether, a lone wrong/used buyer's returns through another
                # partner no longer cleared its area agent. Read only when the pair stands
                # out, as the seller-buyer pair's is; the record elsewhere only weakens it.
                named = await features.right_totals(
                    self.session,
                    kind="agent_buyer",
                    right_id=buyer,
                    metrics=["disputed", "handled"],
                )
                unnamed = await features.right_totals(
                    self.session,
                    kind=UNNAMED_HUB_BUYER,
                    right_id=buyer,
                    metrics=["disputed", "handled"],
                )
                here = pairs.get((UNNAMED_HUB_BUYER, hub or "", buyer), {})

                def beyond(metric: str) -> int:
                    return max(0, named.get(metric, 0) - pc.get(metric, 0)) + max(
                        0, unnamed.get(metric, 0) - here.get(metric, 0)
                    )

                found = agent_pair_findings((beyond("disputed"), beyond("handled")))
            self.evaluated_entity("agent", agent)
            self.evaluated[("agent", agent)].extend(found)
            self.add(found, direct=not facts.incident)
        if idents and buyer:
            sharing = {key: len(members) for key, members in accounts.items()}
            for kind, value in idents:
                if sharing.get((kind, value), 1) < 2:
                    continue
                own = totals.get((kind, value), {})
                # Every other contact (address) one by one, outliers left out: other rings do
                # not raise the bar for this one.
                peer_k, peer_n = (
                    await self.peers(
                        (kind, "", "long"),
                        [("claims", "delivered", collusion.PRIOR_RATE)],
                        own_id=value,
                        own=own,
                        load=partial(
                            features.entity_totals,
                            self.session,
                            kind,
                            ["claims", "delivered"],
                            since,
                            until,
                        ),
                    )
                )["claims"]
                # The accounts' claims and deliveries as the test reads them: by orders once
                # they stand out, item by item until then (as the pairs').
                claims, delivered = own.get("claims", 0), own.get("delivered", 0)
                identity_test = partial(
                    collusion.shared_identity_findings,
                    kind,
                    value,
                    buyer,
                    sharing.get((kind, value), 1),
                )
                found = identity_test(claims, max(delivered, claims), peer_k, peer_n, t)
                if found:
                    # A household's multi-item order, returned and claimed together, is one
                    # trial of the household's, not one per item; read only when the accounts
                    # stand out, so an ordinary claim costs no query.
                    claims, delivered = await self.identity_by_order(kind, value, own, since, until)
                    found = identity_test(claims, max(delivered, claims), peer_k, peer_n, t)
                self.evaluated_entity("buyer", buyer)
                self.evaluated[("buyer", buyer)].extend(found)
                self.add(found, direct=not facts.incident)
            shared = [key for key in idents if sharing.get(key, 1) >= 2]
            if seller and shared:
                await self.ring_accounts(
                    seller,
                    buyer,
                    {key: accounts[key] for key in shared},
                    pair_found,
                    harmed_in_transit=bool(facts.incident),
                )
        if claim_type in QC_CONTRADICTING_CLAIMS and facts.qc_result == "PASSED":
            await self.qc(facts)
        await self.evidence(facts, new_evidence, escalation_id)

    async def by_order(self, seller: str, buyer: str, pc: Counts) -> tuple[int, int]:
        """The pair's (claims, deliveries), `pc` item by item, with each of their multi-item
        orders counted once (`collusion.counted_by_order`)."""
        delivered_to_seller = ShipmentEventType.DELIVERED_TO_SELLER.value
        items = [
            collusion.PairItem(
                order_id=f.order_id,
                delivered=f.terminal == delivered_to_seller,
                claimed=f.claimed_at is not None,
            )
            for f in await features.pair_orders(self.session, seller, buyer)
            if f.order_id is not None
        ]
        return collusion.counted_by_order(pc.get("claims", 0), pc.get("delivered", 0), items)

    async def identity_by_order(
        self, kind: str, value: str, own: Counts, since: date, until: date
    ) -> tuple[int, int]:
        """The (claims, deliveries) of the accounts behind one contact or address hash over
        `since`..`until`, `own` item by item, with each of their multi-item orders counted once
        (`collusion.identity_counted_by_order`): a delivery counts on its delivery's day, a
        claim of any type on its filing's (`record_claim`)."""
        delivered_to_seller = ShipmentEventType.DELIVERED_TO_SELLER.value

        def day(at: datetime | None) -> date | None:
            return at.astimezone(UTC).date() if at is not None else None

        returns = [
            collusion.IdentityReturn(
                order_id=f.order_id,
                delivered_on=day(f.terminal_at) if f.terminal == delivered_to_seller else None,
                claimed_on=day(f.claimed_at),
            )
            for f in await features.identity_orders(
                self.session, kind, value, datetime.combine(since, time.min, tzinfo=UTC)
            )
            if f.order_id is not None
        ]
        return collusion.identity_counted_by_order(
            own.get("claims", 0), own.get("delivered", 0), returns, since, until
        )

    async def agent_by_order(self, agent: str, buyer: str, pc: Counts) -> tuple[int, int]:
        """The agent-buyer pair's (disputes, pickups), `pc` item by item, with each of their
        multi-item orders counted once (`collusion.counted_by_order`): a pickup counts once
        delivered (`count_delivery_scans`), a dispute is a claim naming the buyer
        (`count_claim_scans`)."""
        delivered_to_seller = ShipmentEventType.DELIVERED_TO_SELLER.value
        items = [
            collusion.PairItem(
                order_id=f.order_id,
                delivered=f.terminal == delivered_to_seller,
                claimed=f.claimed_at is not None and f.claim_type in NAMING_CLAIMS,
            )
            for f in await features.agent_pair_orders(self.session, agent, buyer)
            if f.order_id is not None
        ]
        return collusion.counted_by_order(pc.get("disputed", 0), pc.get("handled", 0), items)

    async def household_pair(
        self,
        seller: str,
        buyer: str,
        accounts: Mapping[tuple[str, str], list[str]],
        own: Counts,
        peers: tuple[int, int],
    ) -> list[Finding]:
        """The seller's claims on every account behind a contact or address the buyer shares,
        as one buyer: a ring spread over a household's accounts leaves each account's pair
        with two or three claims, short of the pair's test, while the seller claims on the
        household as often as on one ring buyer. The same test as the pair's, on the summed
        counts, and the household's claims and deliveries with every other seller as its
        record elsewhere; the buyer's own loyalty is not asked (the accounts' returns spread
        over sellers as the household shops). Nothing when the other accounts add no claim."""
        household = sorted(
            {m for members in accounts.values() if len(members) >= 2 for m in members} | {buyer}
        )
        if len(household) < 2:
            return []
        pairs = await features.pair_counts(
            self.session, [("seller_buyer", seller, m) for m in household]
        )
        claims = sum(c.get("claims", 0) for c in pairs.values())
        delivered = sum(c.get("delivered", 0) for c in pairs.values())
        if claims <= own.get("claims", 0):
            return []
        k_else = n_else = 0
        for m in household:
            everywhere = await features.right_totals(
                self.session, kind="seller_buyer", right_id=m, metrics=["claims", "delivered"]
            )
            mine = pairs.get(("seller_buyer", seller, m), {})
            k_else += max(0, everywhere.get("claims", 0) - mine.get("claims", 0))
            n_else += max(0, everywhere.get("delivered", 0) - mine.get("delivered", 0))

        def household_findings(claims: int, delivered: int) -> list[Finding]:
            return collusion.seller_buyer_findings(
                seller,
                buyer,
                claims,
                max(delivered, claims),
                *peers,
                self.t,
                buyer_elsewhere=(k_else, n_else),
            )

        found = household_findings(claims, delivered)
        if found:
            # As the pair's own test: the items of one order, returned and claimed together,
            # are one trial of the account that ordered them (`collusion.counted_by_order`),
            # read only when the household stands out. An order is one account's, so each
            # account's pair is read by its orders and the household's counts are their sum.
            by_order = [
                await self.by_order(seller, m, pairs.get(("seller_buyer", seller, m), {}))
                for m in household
            ]
            own_claims = by_order[household.index(buyer)][0]
            claims = sum(c for c, _ in by_order)
            if claims <= own_claims:
                return []
            found = household_findings(claims, sum(d for _, d in by_order))
        return [
            replace(
                f,
                detail=f"{len(household)} accounts at the buyer's contact or address: {f.detail}",
                numbers=f.numbers | {"household_accounts": len(household)},
            )
            for f in found
        ]

    async def ring_accounts(
        self,
        seller: str,
        buyer: str,
        accounts: Mapping[tuple[str, str], list[str]],
        pair_found: list[Finding],
        *,
        harmed_in_transit: bool = False,
    ) -> None:
        """The accounts behind a contact or address the claim's buyer shares, where one of
        them is the buyer of the seller's alerted seller-buyer ring: each account the seller
        claimed against is the ring's (`collusion.ring_account_findings`). The claim's own
        buyer is judged on this claim; when this claim's pair is the one alerting, the other
        accounts are judged now too, since they may never claim again and the alert names
        only this one. Read only for a buyer sharing an identity (a few in a hundred)."""

        def p_of(numbers: Mapping[str, object]) -> float:
            p = numbers.get("p_value")
            return float(p) if isinstance(p, int | float) else self.t.alpha_high

        standing = await risk_repo.standing(self.session, {("seller", seller)})
        ring: dict[str, float] = {}
        for alert in standing.alerts:
            numbers = (alert.evidence or {}).get("numbers") or {}
            if alert.pattern == collusion.SELLER_BUYER and numbers.get("buyer_id"):
                ring[str(numbers["buyer_id"])] = p_of(numbers)
        household = False
        for f in pair_found:
            if f.alert and f.pattern == collusion.SELLER_BUYER:
                ring[buyer] = p_of(f.numbers)
                household = "household_accounts" in f.numbers
        if not ring:
            return
        for (kind, _value), members in accounts.items():
            ring_here = [m for m in members if m in ring]
            if not ring_here:
                continue
            # Whom to judge: the claim's buyer against a ring account it lives with; and, when
            # the claim's buyer is itself the ring's, the accounts living with it.
            # A household's alert (`household_pair`) names its claim's account as one of them.
            judged = (
                [buyer]
                if buyer not in ring
                else [m for m in members if m not in ring or (household and m == buyer)]
            )
            if not judged:
                continue
            counts = await features.pair_counts(
                self.session, [("seller_buyer", seller, m) for m in judged]
            )
            for m in judged:
                ring_buyer = buyer if buyer in ring else min(ring_here, key=lambda r: ring[r])
                found = collusion.ring_account_findings(
                    m,
                    seller,
                    ring_buyer,
                    kind,
                    ring[ring_buyer],
                    counts.get(("seller_buyer", seller, m), {}).get("claims", 0),
                    self.t,
                    household=household,
                )
                if m == buyer:
                    self.evaluated[("buyer", buyer)].extend(found)
                    self.add(found, direct=not harmed_in_transit)
                else:
                    # Another account's: raised as its alert, not scored on this claim.
                    self.entity_alerts.extend(found)

    async def seller_tests(
        self, facts: ReturnFacts, totals: Mapping[tuple[str, str], Counts]
    ) -> tuple[list[Finding], dict[str, tuple[int, int]] | None]:
        """The seller's claim-abuse findings from its window totals (`seller`, `category` and
        `category_seller` keys of `totals`), and its category peers' robust baseline."""
        cfg, t = self.config, self.t
        seller = facts.seller_id or ""
        own_key = category_seller(facts.category, seller)
        category = totals.get(("category", facts.category or ""), {})
        since, until = self.window(cfg.long_window)
        peers: dict[str, tuple[int, int]] | None = None
        spreads: dict[str, PeerSpread] = {}
        # The honest sellers' spread, where the category has other sellers, is the claim
        # rate's; the peers' own spread is estimated only where it is not (no other rate's
        # spread is read).
        read = (
            await self.honest_sellers(facts.category, own_key, seller)
            if facts.category and own_key
            else HonestSellers()
        )
        honest = read.population
        if facts.category and own_key:
            # The category's other sellers one by one, outliers left out: a claim abuser in
            # the category does not raise the bar for the next one.
            peers = await self.peers(
                ("category_seller", f"{facts.category}|", "long"),
                [(num, den, prior) for _, _, num, den, prior in claim_abuse.RATES],
                own_id=own_key,
                own=totals.get(("category_seller", own_key), {}),
                load=partial(
                    features.entity_totals,
                    self.session,
                    "category_seller",
                    sorted({m for _, _, num, den, _ in claim_abuse.RATES for m in (num, den)}),
                    since,
                    until,
                    id_prefix=f"{facts.category}|",
                ),
                spreads=spreads,
                spread_of=() if honest is not None else ("claims",),
            )
        prior = claim_abuse.RATES[0][4]
        if honest is not None:
            spreads["claims"] = honest
        claims_rate = prior
        if "claims" in spreads:
            claims_rate = spreads["claims"].rate
        elif peers is not None:
            claims_rate = peer_rate(*peers["claims"], prior, t.prior_strength)
        min_delivered = claim_abuse.min_deliveries(claims_rate, cfg.seller_min_expected_claims)
        own = totals.get(("seller", seller), {})
        mine = totals.get(("category_seller", own_key), {}) if own_key else None
        # The seller's record in every category it sells in, its own category's counts as this
        # claim reads them (`claim_abuse.whole_record`).
        across = (
            claim_abuse.whole_record(
                {**read.cells, facts.category: (mine.get("claims", 0), mine.get("delivered", 0))},
                read.rates,
            )
            if mine is not None and facts.category and read.rates
            else None
        )
        if across is not None:
            across = replace(across, concentration=read.whole_concentration or read.pooled)
            if [c for c, _ in across.categories] == [facts.category]:
                # The seller's one category with other sellers is this one: its own test.
                across = None
        record = partial(
            self.seller_record,
            seller,
            category=category,
            peers=peers,
            spreads=spreads,
            min_delivered=min_delivered,
            across=across,
        )
        found = record(own, mine)
        counted: tuple[Mapping[str, int], Mapping[str, int] | None] = (own, mine)
        explained_claims = 0
        whole = self.sequential.get((claim_abuse.PATTERN, "seller", seller))
        if whole is not None and whole.log_bf > 0:
            # A record that leans towards abuse is read again without the returns other
            # parties' fraud explains (`claim_abuse.explained_by`); an ordinary seller's claim
            # costs no query. Read at every scoring from the alerts open then, so a party's
            # flag cleared puts its returns back at the seller's next claim or delivery, and
            # the revisions follow the seller's alert as they follow any.
            less = await self.explained(since, seller=seller)
            if less:
                # The peers without theirs alike: claims on a wrong/used buyer's returns or on
                # pilfered parcels are in every seller's counts, and left out of this seller's
                # alone they would lower its rate against its peers' by their share (an
                # abuser's evidence with it).
                everyone = await self.explained(since, category=facts.category)
                others = {m: max(0, everyone.get(m, 0) - less.get(m, 0)) for m in everyone}
                factor = claim_abuse.explained_rate_factor(
                    category.get("claims", 0) - own.get("claims", 0),
                    category.get("delivered", 0) - own.get("delivered", 0),
                    others,
                )
                record = partial(
                    self.seller_record,
                    seller,
                    category=category,
                    peers=claim_abuse.peers_scaled(peers, factor),
                    spreads={
                        m: PeerSpread(v.rate * factor, v.concentration) if m == "claims" else v
                        for m, v in spreads.items()
                    },
                    min_delivered=min_delivered,
                    across=None
                    if across is None
                    else claim_abuse.WholeRecord(
                        claims=max(0, across.claims - less.get("claims", 0)),
                        delivered=max(0, across.delivered - less.get("delivered", 0)),
                        rate=across.rate * factor,
                        categories=across.categories,
                        concentration=across.concentration,
                    ),
                )
                counted = (
                    claim_abuse.unexplained(own, less),
                    None if mine is None else claim_abuse.unexplained(mine, less),
                )
                explained_claims = less.get("claims", 0)
                found = record(*counted, explained=explained_claims)
        opened: OpenWindows | None = None
        orders: claim_abuse.OrderTrials | None = None
        if (
            (cfg.seller_open_windows or cfg.seller_order_trials)
            and peers is not None
            and mine is not None
            and facts.category
        ):
            whole = self.sequential.get((claim_abuse.PATTERN, "seller", seller))
            if whole is not None and whole.log_bf > 0:
                # Only a record that leans to abuse is read again (an ordinary seller's claim
                # costs no query). By orders: the items of a multi-item order are one trial.
                # As it stands: the deliveries whose claims may not have come yet weigh what
                # the market's claims by their age would have shown.
                weighed = (
                    [c for c, _ in across.categories] if across is not None else [facts.category]
                )
                if cfg.seller_order_trials:
                    orders = await self.order_trials(seller)
                    if not orders.items:
                        orders = None
                if cfg.seller_open_windows:
                    opened = await self.open_windows(seller, facts.category, weighed, orders)
                if orders is not None or opened is not None:
                    found = record(
                        *counted,
                        explained=explained_claims,
                        open_windows=opened,
                        orders=orders,
                        weighed=weighed,
                    )
        if peers is not None and own_key:
            # The recent weeks read the categories the test weighed, each at its rate.
            rates = (
                {own_key: 0.0}
                if across is None
                else {category_seller(c, seller) or own_key: r for c, r in across.categories}
            )
            found = await self.recent_weeks(
                rates,
                ("seller", seller),
                found,
                mix=across.rate if across else 0.0,
                opened=opened,
                orders=orders,
                categories=[c for c, _ in across.categories] if across else [facts.category or ""],
            )
        return found, peers

    async def order_trials(self, seller: str) -> claim_abuse.OrderTrials:
        """The seller's multi-item orders delivered over the long window, each item with its
        order, category and whether it is claimed by the event's time
        (`claim_abuse.OrderTrials`)."""
        since, _ = self.window(self.config.long_window)
        rows = await features.shared_orders(
            self.session, seller, datetime.combine(since, time(), tzinfo=UTC)
        )
        return claim_abuse.OrderTrials.of(
            [
                claim_abuse.OrderItem(
                    return_id=f.return_id,
                    order_id=f.order_id,
                    category=f.category,
                    delivered_at=f.terminal_at,
                    claimed=f.claimed_at is not None and f.claimed_at <= self.at,
                )
                for f in rows
                if f.order_id is not None and f.terminal_at is not None
            ]
        )

    async def honest_delays(self) -> claim_abuse.HonestDelays:
        """When the market's honest claims come: the hours after delivery of the claims filed
        over the long window, but those of sellers under a claim-abuse alert (a late filer's
        delays would make lateness ordinary). One read of the window's claims, kept for the
        database engine until the event time has moved `DELAYS_MAX_DRIFT` (by event time, as
        the peers' baselines are: how fast events are scored does not change what they read)."""
        bind = self.session.bind
        engine = getattr(bind, "sync_engine", bind)
        kept = _DELAYS.get(engine) if engine is not None else None
        if kept is not None and abs(self.at - kept[0]) <= DELAYS_MAX_DRIFT:
            return kept[1]
        abusers = sorted(await alerted(self.session, "seller", (claim_abuse.PATTERN,)))
        hours = await features.claim_delays(
            self.session, self.at - self.config.long_window, self.at, leave_out=abusers
        )
        delays = kept_delays(hours)
        if engine is not None:
            _DELAYS[engine] = (self.at, delays)
        return delays

    async def open_windows(
        self,
        seller: str,
        category: str,
        categories: list[str],
        orders: claim_abuse.OrderTrials | None = None,
    ) -> OpenWindows:
        """The seller's deliveries in `categories` not claimed yet whose claim window is still
        open at the event's time, with their ages (those in `category`, the claim's, have
        their late filing weighed: `claim_abuse.OpenDelivery.weighed`; an item of a
        multi-item order in `orders` is its part of a trial), and the market's claims'
        delays they are read at."""
        window = timedelta(hours=self.config.claim_window_h)
        wanted = set(categories)
        deliveries = []
        for f in await features.deliveries_since(self.session, seller, self.at - window):
            if f.terminal_at is None or f.category not in wanted:
                continue
            if f.claimed_at is not None and f.claimed_at <= self.at:
                continue
            age = (self.at - f.terminal_at).total_seconds() / 3600
            if 0 <= age < self.config.claim_window_h:
                deliveries.append(
                    claim_abuse.OpenDelivery(
                        age,
                        weighed=f.category == category,
                        share=orders.share(f.return_id) if orders is not None else 1.0,
                    )
                )
        return OpenWindows(await self.honest_delays(), tuple(deliveries))

    def seller_record(
        self,
        seller: str,
        own: Mapping[str, int],
        mine: Mapping[str, int] | None,
        *,
        category: Mapping[str, int],
        peers: Mapping[str, tuple[int, int]] | None,
        spreads: Mapping[str, PeerSpread],
        min_delivered: float,
        explained: int = 0,
        across: claim_abuse.WholeRecord | None = None,
        open_windows: OpenWindows | None = None,
        orders: claim_abuse.OrderTrials | None = None,
        weighed: list[str] | None = None,
    ) -> list[Finding]:
        """The seller's claim-abuse findings from its counts (`own`: the seller's, `mine`: the
        seller's in its category), against its category's peers (`peers`, robust baseline per
        metric) and the honest sellers' spread (`spreads`). `explained`: the claims left out
        of the counts as other parties' fraud (`claim_abuse.explained_by`), named in the
        findings' numbers. `across`: the seller's record in all its categories against the
        honest rate of its mix (`claim_abuse.whole_record`), which the claim-rate sequential
        test weighs instead of the one category's where the honest sellers' spread is known.
        `open_windows`: the record is read as it stands, its open claim windows part-trials and
        its late claims in the same likelihood (`claim_abuse.open_windows_log_bf`), the late
        sign no longer added on its own. `orders`: the seller's multi-item orders, each one
        trial in the claim-rate test's record (`claim_abuse.OrderTrials`), its items in the
        `weighed` categories (the test's) read at 1/m each."""
        cfg, t = self.config, self.t
        found = claim_abuse.seller_findings(
            seller,
            own,
            category,
            t,
            peers=peers,
            min_events=cfg.sequential.min_events,
            min_delivered=min_delivered,
        )
        if peers is not None and mine is not None:
            # The claims' own signs, each a share of the seller's claims against the
            # category's ordinary sellers' share (the robust baseline's counts), and its
            # high-value claims against its own high-value deliveries.
            signs = 0.0
            for num, _ in claim_abuse.SIGNS:
                if open_windows is not None and num == "claims_late":
                    continue  # weighed with the open windows, below
                flagged, of = peers.get(num, (0, 0))
                signs += claim_abuse.signs_log_bf(
                    mine.get(num, 0),
                    mine.get("claims", 0),
                    flagged / of if of else 0.0,
                    floor=cfg.seller_sign_floor,
                )
            # Many high-value claims, against the seller's own high-value deliveries: a seller
            # of expensive goods claims on expensive goods as anyone would.
            signs += claim_abuse.high_value_log_bf(
                mine.get("claims_high_value", 0),
                mine.get("claims", 0),
                mine.get("delivered_high_value", 0),
                mine.get("delivered", 0),
                claim_abuse.high_value_odds(
                    *peers.get("claims_high_value", (0, 0)), *peers["claims"]
                ),
            )
            k, n, spread, min_trials = (
                mine.get("claims", 0),
                mine.get("delivered", 0),
                spreads.get("claims"),
                min_delivered,
            )
            what = "claim rate in the category"
            if across is not None:
                # A seller of several categories holds a few deliveries in each: its claims are
                # weighed together, against the honest rate of its own mix of categories.
                k, n = across.claims, across.delivered
                # Where the event's category has no other seller, its record is left out of
                # the whole record (`claim_abuse.whole_record`), which is tested all the same:
                # the one category's test against the prior would replace it, and clear it.
                spread = PeerSpread(
                    across.rate,
                    across.concentration or (spread.concentration if spread else 0.0),
                )
                min_trials = claim_abuse.min_deliveries(across.rate, cfg.seller_min_expected_claims)
                what = (
                    f"claim rate in its {len(across.categories)} categories"
                    if len(across.categories) > 1
                    else f"claim rate in category {across.categories[0][0]}"
                )
            as_it_stands: Callable[[PeerSpread], float] | None = None
            read_k, read_n = float(k), float(n)
            if orders is not None:
                read_k, read_n = orders.read(k, n, weighed)
            if open_windows is not None:
                flagged, of = peers.get("claims_late", (0, 0))
                late_share = max(flagged / of if of else 0.0, cfg.seller_sign_floor)
                as_it_stands = partial(
                    claim_abuse.open_windows_log_bf,
                    read_k,
                    mine.get("claims_late", 0),
                    read_n,
                    open_windows.deliveries,
                    s=cfg.seller_sequential,
                    delays=open_windows.delays,
                    late_share=late_share if late_share < claim_abuse.SIGN_CEILING else None,
                    window_h=cfg.claim_window_h,
                    late_margin_h=cfg.late_margin_h,
                    timed=mine.get("claims", 0),
                )
            elif orders is not None and (read_k, read_n) != (k, n):
                as_it_stands = partial(_by_orders_log_bf, read_k, read_n, s=cfg.seller_sequential)
            found += self.sequential_test(
                code="SELLER_CLAIM_RATE_SEQUENTIAL",
                what=what,
                pattern=claim_abuse.PATTERN,
                entity=("seller", seller),
                k=k,
                n=n,
                peers=peers["claims"],
                spread=spread,
                prior_rate=claim_abuse.RATES[0][4],
                action=claim_abuse.ACTION,
                min_trials=min_trials,
                extra_log_bf=signs,
                s=cfg.seller_sequential,
                as_it_stands=as_it_stands,
            )
            noted: dict[str, float | int | str] = {}
            if open_windows is not None:
                noted["open_deliveries"] = len(open_windows.deliveries)
            if orders is not None and (read_k, read_n) != (k, n):
                # What the test read: the claims and deliveries counted by orders.
                noted |= {
                    "orders_shared": orders.orders,
                    "claims_by_orders": round(read_k, 2),
                    "delivered_by_orders": round(read_n, 2),
                }
            if noted:
                found = [
                    replace(f, numbers=f.numbers | noted)
                    if f.code == "SELLER_CLAIM_RATE_SEQUENTIAL"
                    else f
                    for f in found
                ]
            found = stronger_of(found, "SELLER_CLAIM_RATE_HIGH", "SELLER_CLAIM_RATE_SEQUENTIAL")
        if explained:
            found = [
                replace(f, numbers=f.numbers | {"claims_explained_by_others": explained})
                for f in found
            ]
        return found

    async def explained(
        self, since: date, *, seller: str | None = None, category: str | None = None
    ) -> dict[str, int]:
        """What the returns other parties' fraud explains add to a seller's (or a category's
        sellers') window totals since `since` (`claim_abuse.explained_counts`), from the alerts
        open now: buyers under a wrong/used alert, pickup agents and hubs under a pilferage
        alert, QC agents and hubs under a QC-contradiction alert; with `seller_light_parcels`,
        every return delivered light as well. Nothing is read when no such party is flagged
        and the light parcels are not read."""
        session, cfg = self.session, self.config
        flagged = claim_abuse.FlaggedParties(
            buyers=frozenset(await alerted(session, "buyer", (returns_abuse.PATTERN,))),
            pilfering_agents=frozenset(await alerted(session, "agent", PILFERAGE_AGENT)),
            pilfering_hubs=frozenset(await alerted(session, "hub", PILFERAGE_HUB)),
            qc_agents=frozenset(await alerted(session, "agent", QC_AGENT)),
            qc_hubs=frozenset(await alerted(session, "hub", QC_HUB)),
            light_parcels=cfg.seller_light_parcels,
        )
        if not flagged:
            return {}
        rows = await features.returns_touched(
            session,
            seller_id=seller,
            category=category,
            delivered_since=datetime.combine(since, time(), tzinfo=UTC),
            buyers=sorted(flagged.buyers),
            agents=sorted(flagged.pilfering_agents | flagged.qc_agents),
            hubs=sorted(flagged.pilfering_hubs | flagged.qc_hubs),
            light=flagged.light_parcels,
        )
        late_from = cfg.claim_window_h - cfg.late_margin_h
        returns = []
        for f in rows:
            if f.terminal != DELIVERED or f.terminal_at is None:
                continue
            h = hours_after_delivery(f, f.claimed_at) if f.claimed_at else None
            returns.append(
                claim_abuse.SellerReturn(
                    buyer_id=f.buyer_id,
                    pickup_agent_id=f.pickup_agent_id,
                    hubs=tuple(f.hubs or ()),
                    lost_weight=bool(f.incident),
                    qc_passed=f.qc_result == "PASSED",
                    qc_agent_id=f.qc_agent_id,
                    qc_hub_id=f.qc_hub_id,
                    delivered_on=f.terminal_at.date(),
                    dear=bool(f.dear),
                    claimed_on=f.claimed_at.date() if f.claimed_at else None,
                    missing_intact=f.claim_type == "MISSING_ITEM"
                    and weight_drop(f.pickup_weight_g, f.delivered_weight_g) is False,
                    late=h is not None and late_from <= h <= cfg.claim_window_h,
                    contradicts_qc=f.claim_type in QC_CONTRADICTING_CLAIMS,
                )
            )
        return claim_abuse.explained_counts(returns, flagged, since, self.day)

    async def recent_weeks(
        self,
        rates: Mapping[str, float],
        entity: tuple[str, str],
        found: list[Finding],
        *,
        mix: float = 0.0,
        opened: OpenWindows | None = None,
        orders: claim_abuse.OrderTrials | None = None,
        categories: list[str] | None = None,
    ) -> list[Finding]:
        """The seller's claim-rate findings read against its recent weeks
        (`claim_abuse.after_spell`): a spell that is over stands the flag down. Read only when
        the whole record leans towards abuse (otherwise there is nothing to stand down), so an
        ordinary seller's claim costs no query. `rates`: the `category_seller` keys the test
        weighed, each with its category's honest rate, and `mix` the rate of the whole record's
        mix of them (0: one category, read at the test's rate). `opened`: the seller's open
        claim windows, which the recent weeks (where they all lie) read as the whole record
        did, at the honest delays (the recent counts hold no late claims to weigh). `orders`:
        the seller's multi-item orders, read in the recent weeks' `categories` as the whole
        record read them (one trial each)."""
        days = self.config.seller_recent_days
        key = (claim_abuse.PATTERN, *entity)
        whole = self.sequential.get(key)
        if not days or whole is None or whole.log_bf <= 0:
            return found
        since, until = self.window(timedelta(days=days))
        # The seller's recent weeks in the categories its whole record counts, against the
        # honest rate of the recent weeks' own mix (`recent_rate`).
        keys = list(rates)
        read = await features.window_totals(
            self.session,
            [("category_seller", key) for key in keys],
            list(RECENT_METRICS),
            since,
            until,
        )
        recent = {
            metric: sum(read.get(("category_seller", key), {}).get(metric, 0) for key in keys)
            for metric in RECENT_METRICS
        }
        rate = recent_rate(
            {key: read.get(("category_seller", key), {}).get("delivered", 0) for key in keys},
            rates,
            mix,
            whole.peer,
        )
        test = sequential_test(
            recent.get("claims", 0),
            recent.get("delivered", 0),
            PeerSpread(rate, whole.concentration),
            self.config.sequential,
        )
        read_k, read_n = float(test.k), float(test.n)
        if orders is not None:
            read_k, read_n = orders.read(
                test.k, test.n, categories, datetime.combine(since, time(), tzinfo=UTC)
            )
        if opened is not None:
            cfg = self.config
            test = replace(
                test,
                log_bf=claim_abuse.open_windows_log_bf(
                    read_k,
                    0,
                    read_n,
                    opened.deliveries,
                    PeerSpread(rate, whole.concentration),
                    cfg.sequential,
                    opened.delays,
                    late_share=None,
                    window_h=cfg.claim_window_h,
                    late_margin_h=cfg.late_margin_h,
                ),
            )
        elif (read_k, read_n) != (test.k, test.n):
            test = replace(
                test,
                log_bf=sequential_log_bf(
                    read_k, read_n, PeerSpread(rate, whole.concentration), self.config.sequential
                ),
            )
        found, over = claim_abuse.after_spell(found, test, self.config.sequential)
        if over:
            # The clearing rule (`service.clear_alerts`) reads the evidence that proves the
            # seller ordinary: its recent weeks'.
            self.sequential[key] = test
        return found

    async def honest_sellers(self, category: str, own_key: str, seller: str) -> HonestSellers:
        """The honest population of the category's claim rates for the sequential test, the
        honest rate of each other category the seller sells in and its record there
        (`honest_sellers_of`). One read of every seller's claims and deliveries in the window,
        kept for the session, as are what is read from it for each seller: its honest market
        (`HonestMarket`, the telling shops left out) and the whole records' spread, both
        forgotten when a count of the read changes (`HonestReads`)."""
        since, until = self.window(self.config.long_window)
        metrics = ["claims", "delivered"]
        everyone = await features.entity_totals(
            self.session, "category_seller", metrics, since, until
        )
        kept = await features.entity_totals_view(
            self.session, HonestReads, "category_seller", metrics, since, until
        )

        def whole(bases: Mapping[str, RobustBaseline]) -> float:
            # Every seller's whole record, this one's included (docs: an abuser can only widen
            # the spread, which loses detection and raises no false alarm), standardised by the
            # categories' rates without this seller. Those rates are this seller's own (its
            # records in its categories left out of them), so the spread is kept by them:
            # several events of one seller in a consumer poll read it once, another seller's
            # event reads its own (recomputed per claim it cost 0.13 s at 3,000 sellers).
            key = _standardising_rates(bases)
            if key not in kept.whole:
                kept.whole[key] = whole_records_spread(everyone, bases, self.t)
            return kept.whole[key]

        return honest_sellers_of(
            everyone,
            category,
            own_key,
            seller,
            self.t,
            self.config.sequential,
            whole,
            markets=kept.markets,
        )

    async def reexamine_seller(self, facts: ReturnFacts) -> None:
        """A flagged seller's record read again on a delivery to it, not only on its claims:
        a seller flagged on a few early claims whose later deliveries go unclaimed at an
        ordinary rate proves ordinary on those deliveries, and may be cleared there
        (`service.clear_alerts`). The findings refresh the seller's risk; they are not this
        delivery's evidence, so they do not score it."""
        seller = facts.seller_id
        if not seller:
            return
        since, until = self.window(self.config.long_window)
        keys: list[tuple[str, str]] = [("seller", seller)]
        if facts.category:
            keys.append(("category", facts.category))
        own_key = category_seller(facts.category, seller)
        if own_key:
            keys.append(("category_seller", own_key))
        metrics = sorted(
            {m for _, _, num, den, _ in claim_abuse.RATES for m in (num, den)} | {"delivered"}
        )
        totals = await features.window_totals(self.session, keys, metrics, since, until)
        found, _ = await self.seller_tests(facts, totals)
        self.evaluated_entity("seller", seller)
        self.evaluated[("seller", seller)].extend(found)


# What the whole records' spread depends on besides the sellers' records: each category's
# honest rate that standardises them (`claim_abuse.whole_records_concentration`), None where a
# category's baseline has no spread.
StandardisingRates = tuple[tuple[str, float | None], ...]


def _by_orders_log_bf(k: float, n: float, honest: PeerSpread, *, s: Sequential) -> float:
    """The claim-rate test's log Bayes factor on a record counted by orders
    (`claim_abuse.OrderTrials.read`), against the honest population read."""
    return sequential_log_bf(k, n, honest, s)


def _standardising_rates(bases: Mapping[str, RobustBaseline]) -> StandardisingRates:
    return tuple(
        sorted((c, b.spread.rate if b.spread is not None else None) for c, b in bases.items())
    )


@dataclass(slots=True)
class HonestReads:
    """What the session read of its `category_seller` read for the sellers it scored
    (`ClaimInputs.honest_sellers`): each seller's honest market (`HonestMarket`, by
    `market_key`) and the whole records' spread by the categories' rates it was standardised
    with. Read once per consumer batch for all of a seller's events, as the all-sellers read
    they come from is kept (`features.entity_totals_view`), and forgotten whenever a count of
    that read changes: a seller's counts move every other seller's honest market (not its
    own, which leaves them out) and the whole records' spread."""

    markets: dict[tuple[str, str | None], HonestMarket | None] = field(default_factory=dict)
    whole: dict[StandardisingRates, float] = field(default_factory=dict)

    def update(self, entity_id: str, totals: Mapping[str, int]) -> None:
        if not self.markets:
            # The view's build tells it of every seller of the read: nothing kept yet.
            self.whole.clear()
            return
        self.whole.clear()
        # Kept: the markets that leave this cell out (`honest_sellers_of`), so a seller's own
        # claims and deliveries in the batch keep its market.
        name = entity_id.partition("|")[0]
        self.markets = {
            key: market
            for key, market in self.markets.items()
            if entity_id in (key[1], category_seller(name, key[0]))
        }


@dataclass(frozen=True, slots=True)
class HonestMarket:
    """The other sellers of a scored seller's market as its honest populations read them: each
    category's sellers (the scored seller and the telling shops left out), their baselines and
    the categories' pooled spread. It does not depend on the category of the event scored, so
    one seller's events in a batch read it once (`honest_sellers_of`)."""

    by_category: dict[str, list[tuple[int, int]]]
    bases: dict[str, RobustBaseline]
    concentration: float
    # Each category's honest population, read when first asked.
    populations: dict[str, PeerSpread] = field(default_factory=dict)

    def population(self, name: str, t: Thresholds, s: Sequential) -> PeerSpread:
        found = self.populations.get(name)
        if found is None:
            found = self.populations[name] = claim_abuse.honest_population(
                self.bases[name],
                self.by_category[name],
                self.concentration,
                t,
                s,
                prior_rate=claim_abuse.RATES[0][4],
            )
        return found


def market_key(own_key: str, seller: str) -> tuple[str, str | None]:
    """What a seller's honest market depends on besides the read: the seller, whose every
    cell leaves it, and the event's own key where that is not one of the seller's cells as the
    read's keys are split (a category whose name holds the separator)."""
    name = own_key.partition("|")[0]
    return (seller, None if own_key == category_seller(name, seller) else own_key)


def whole_records_spread(
    everyone: Mapping[str, Mapping[str, int]],
    bases: Mapping[str, RobustBaseline],
    t: Thresholds,
) -> float:
    """`claim_abuse.whole_records_concentration` of every seller's whole record in `everyone`
    (`category_seller` window totals)."""
    sellers: dict[str, dict[str, tuple[int, int]]] = {}
    for key, counts in everyone.items():
        name, _, who = key.partition("|")
        sellers.setdefault(who, {})[name] = (counts.get("claims", 0), counts.get("delivered", 0))
    return claim_abuse.whole_records_concentration(
        list(sellers.values()), bases, t, prior_rate=claim_abuse.RATES[0][4]
    )


def honest_sellers_of(
    everyone: Mapping[str, Mapping[str, int]],
    category: str,
    own_key: str,
    seller: str,
    t: Thresholds,
    s: Sequential,
    whole: Callable[[Mapping[str, RobustBaseline]], float],
    *,
    markets: dict[tuple[str, str | None], HonestMarket | None] | None = None,
) -> HonestSellers:
    """The honest population of the category's claim rates for the sequential test
    (`claim_abuse.honest_population`): the category's ordinary sellers' rate, with the spread
    of every category's sellers pooled; the honest rate of each other category the seller
    sells in (its other sellers' population there, with the same spread), and the seller's
    (claims, deliveries) in those categories (`claim_abuse.whole_record`). No population
    before the category has other sellers, but the seller's other categories are read all the
    same: a seller whose whole record is tested is tested on it whatever category its event
    is in (a lone category's event does not replace that test with its own). `whole`: the
    whole records' spread from the categories' baselines. `markets`: the seller's honest
    market kept by `market_key` for its next events on the same read (`HonestReads`)."""
    cells: dict[str, tuple[int, int]] = {}
    rows: list[tuple[str, str, tuple[int, int]]] = []
    key = market_key(own_key, seller)
    cached = markets is not None and key in markets
    for cell, counts in everyone.items():
        if cell == own_key:
            continue
        name, _, who = cell.partition("|")
        if cell == category_seller(name, seller):
            # The seller's record in its other categories: weighed, not its own peer there
            # (in the categories' baselines and pooled spread as in their honest rates).
            cells[name] = (counts.get("claims", 0), counts.get("delivered", 0))
        elif not cached:
            rows.append((name, who, (counts.get("claims", 0), counts.get("delivered", 0))))
    if markets is None:
        market = honest_market(rows, t, s)
    elif cached:
        market = markets[key]
    else:
        market = markets[key] = honest_market(rows, t, s)
    if market is None:
        return HonestSellers()
    by_category, concentration = market.by_category, market.concentration
    honest = market.population(category, t, s) if by_category.get(category) else None
    rates = {category: honest.rate} if honest is not None else {}
    for name in cells:
        # The category's sellers but this one (none: no honest rate, left out).
        if by_category.get(name):
            rates[name] = market.population(name, t, s).rate
    if len(rates) > 1 or (rates and honest is None):
        # The whole record is weighed against the sellers' whole records' spread where it is
        # wider than the categories' (`claim_abuse.whole_records_concentration`).
        return HonestSellers(
            honest,
            rates,
            cells,
            min(concentration, whole(market.bases)),
            concentration,
        )
    return HonestSellers(honest, rates, cells, pooled=concentration)


def honest_market(
    rows: list[tuple[str, str, tuple[int, int]]], t: Thresholds, s: Sequential
) -> HonestMarket | None:
    """The other sellers' (category, seller, (claims, deliveries)) `rows` as the honest
    populations read them (`HonestMarket`); None where there are none left."""
    if not rows:
        return None
    prior = claim_abuse.RATES[0][4]
    by_category = _by_category(rows)
    bases, concentration = claim_abuse.pooled_concentration(by_category, t, prior_rate=prior)

    def population(name: str, peers: list[tuple[int, int]]) -> PeerSpread:
        return claim_abuse.honest_population(
            bases[name], peers, concentration, t, s, prior_rate=prior
        )

    # The other sellers whose own whole record is telling (`claim_abuse.telling_shops`) leave
    # every category's baseline and honest rate: a shop abusing at 3x holds a few claims per
    # category, never telling in one, and kept there it lifted the honest rate of every
    # category it sells in (a sixth on the specification's worlds), hiding itself and the
    # next abuser. Read again at the rates without them, as `honest_population` reads a
    # category's. The pooled spread and the whole records' spread keep them: left out of the
    # spreads too, honest shops in a market where shops differ widely were taken for telling
    # and the narrower spread alerted more honest shops (simulated 0.62 % -> 0.83 %).
    others: dict[str, dict[str, tuple[int, int]]] = {}
    for name, who, pair in rows:
        others.setdefault(who, {})[name] = pair
    telling: set[str] = set()
    for _ in range(3):
        more = claim_abuse.telling_shops(
            {who: record for who, record in others.items() if who not in telling},
            {name: population(name, peers).rate for name, peers in by_category.items()},
            concentration,
            s,
        )
        if not more:
            break
        telling |= more
        by_category = _by_category([r for r in rows if r[1] not in telling])
        if not by_category:
            return None
        trimmed, _ = claim_abuse.pooled_concentration(by_category, t, prior_rate=prior)
        bases = {**bases, **trimmed}
    return HonestMarket(by_category, bases, concentration)


def _by_category(
    rows: list[tuple[str, str, tuple[int, int]]],
) -> dict[str, list[tuple[int, int]]]:
    """The (category, seller, (claims, deliveries)) rows' counts per category, in their order."""
    out: dict[str, list[tuple[int, int]]] = {}
    for name, _, pair in rows:
        out.setdefault(name, []).append(pair)
    return out


def recent_rate(
    delivered: Mapping[str, float], rates: Mapping[str, float], mix: float, peer: float
) -> float:
    """The honest rate of a seller's recent weeks (`ClaimInputs.recent_weeks`): its recent
    deliveries in each category (`delivered`) weighed by that category's rate (`rates`), scaled
    as the whole record's test scaled its mix's rate (`mix`) to its own (`peer`: the claims
    other parties' fraud explains, left out, lower it). A shop whose recent weeks lie in its
    low-claim categories is read against their rate, not the long window's mix. `mix` 0: the
    test's own rate (one category)."""
    total = sum(max(n, 0) for n in delivered.values())
    if mix <= 0 or total <= 0:
        return peer
    recent = sum(max(n, 0) * rates.get(key, mix) for key, n in delivered.items()) / total
    return peer * recent / mix
