"""Collusion: a seller's claims concentrated on a few buyers, an agent repeatedly handling one
buyer's disputed returns, buyer accounts sharing a contact or address hash whose returns end in
claims."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.fraud.detectors.findings import Finding
from services.fraud.detectors.stats import (
    Thresholds,
    binomial_sf,
    contribution_from_p,
    fisher_combined,
    fmt_p,
    hypergeometric_sf,
    rate_test,
    tolerance_null,
)

PRIOR_RATE = 0.05
# The accounts behind one contact or address are tested against twice everyone else's *odds*
# (`stats.tolerance_null`), not twice their rate: a ring claims on nearly every return, and
# where honest claims are common (a quarter of returns) twice their rate is more than a
# dozen claims in a row can be shown to exceed. Where claims are rare the two are the same.
# The pairs keep the rate: a seller-buyer pair has a second witness (where the buyer's
# returns go) that finds its rings there too, and at twice the odds a claim abuser's pairs
# named its ordinary buyers who happened to return to it four times (wide world 5014).
IDENTITY_ODDS = True
# The patterns whose alerts name a ring: the seller of a seller-buyer pair, and the buyer
# accounts behind one contact or address.
SELLER_BUYER = "COLLUSION_SELLER_BUYER"
SHARED_IDENTITY = "COLLUSION_SHARED_IDENTITY"


@dataclass(frozen=True, slots=True)
class Loyalty:
    """Where a buyer's returns go: how many to this seller, how many in all, and the seller's
    share of all returns in the network (what an ordinary buyer's returns would follow)."""

    pair_delivered: int
    buyer_delivered: int
    seller_share: float


@dataclass(frozen=True, slots=True)
class PairItem:
    """One of a seller-buyer pair's returns that shares its order with another of theirs."""

    order_id: str
    delivered: bool
    claimed: bool


def counted_by_order(claims: int, delivered: int, items: Iterable[PairItem]) -> tuple[int, int]:
    """A pair's (claims, deliveries), counted item by item, read as orders: the items of one
    order were bought, returned and claimed together, one decision of one buyer, so the order
    is one delivery, and one claimed item makes it one claim. Counted item by item, an honest
    seller's one two-item order claimed as a whole reads as the buyer's every return to it
    claimed twice over. A ring claims on separate orders and keeps its count.

    `items` are the pair's returns whose order holds another of its returns (any others are
    already one order each)."""
    per_order: dict[str, list[PairItem]] = defaultdict(list)
    for item in items:
        per_order[item.order_id].append(item)
    claims_less = delivered_less = 0
    for order in per_order.values():
        delivered_less += max(sum(i.delivered for i in order) - 1, 0)
        claims_less += max(sum(i.claimed for i in order) - 1, 0)
    read_claims = max(claims - claims_less, 0)
    return read_claims, max(delivered - delivered_less, 0)


@dataclass(frozen=True, slots=True)
class IdentityReturn:
    """One of the returns behind a contact or address hash that shares its order with another
    of them: the days its delivery and its claim were counted under (None: not yet)."""

    order_id: str
    delivered_on: date | None
    claimed_on: date | None


def identity_counted_by_order(
    claims: int, delivered: int, returns: Iterable[IdentityReturn], since: date, until: date
) -> tuple[int, int]:
    """The (claims, deliveries) of the accounts behind one contact or address over the days
    `since` to `until`, counted item by item, read as orders (`counted_by_order`): a household
    returning and claiming the items of one order together made one decision, not several. Only
    what the window counted is taken back, so an order delivered before it leaves its items'
    claims in it as they were counted.

    `returns` are the hash's returns whose order holds another of them."""

    def counted(day: date | None) -> bool:
        return day is not None and since <= day <= until

    items = [
        PairItem(
            order_id=r.order_id, delivered=counted(r.delivered_on), claimed=counted(r.claimed_on)
        )
        for r in returns
    ]
    return counted_by_order(claims, delivered, items)


def seller_buyer_findings(
    seller_id: str,
    buyer_id: str,
    pair_claims: int,
    pair_delivered: int,
    peer_claims: int,
    peer_delivered: int,
    t: Thresholds,
    *,
    loyalty: Loyalty | None = None,
    buyer_elsewhere: tuple[int, int] | None = None,
) -> list[Finding]:
    """The pair's claim rate against the category's (a buyer who keeps returning to one seller
    and whose every return ends in a claim).

    `buyer_elsewhere` (claims, deliveries) is the buyer's record with every other seller. A
    buyer whose returns are claimed by other sellers too abuses on their own (wrong/used
    returns), and the seller who sells them most (a large seller) holds most of their claims
    by that alone. When the buyer is claimed elsewhere, the pair must also hold more of the
    buyer's claims than of the buyer's deliveries (the exact two-sample test); a ring buyer
    claimed by no one else is judged as before.

    With `loyalty`, the buyer's returns are also judged by how concentrated they are on this
    seller against the seller's share of the network: a fake buyer serves one seller, an
    ordinary one spreads over many. Where both tests are significant on their own
    (alpha_medium), they combine by Fisher's method: they are independent under the null
    (where a buyer returns, and whether its seller claims). A loyal buyer whose returns are
    not claimed, or a claimed buyer who also shops elsewhere, gets nothing from loyalty."""
    test = rate_test(
        pair_claims,
        pair_delivered,
        peer_claims,
        peer_delivered,
        t,
        prior_rate=PRIOR_RATE,
    )
    p = test.p
    numbers = test.numbers() | {"buyer_id": buyer_id}
    detail = f"seller's claims on buyer {buyer_id}: {test.detail()}"
    if loyalty is not None and test.p <= t.alpha_medium:
        returns = max(loyalty.buyer_delivered, loyalty.pair_delivered)
        null = tolerance_null(
            loyalty.seller_share, ratio=t.tolerance_ratio, min_excess=t.min_excess
        )
        p_loyal = binomial_sf(loyalty.pair_delivered, returns, null)
        if p_loyal <= t.alpha_medium:
            p = min(p, fisher_combined([test.p, p_loyal]))
        numbers |= {
            "p_claims": numbers["p_value"],
            "p_value": float(f"{p:.3g}"),
            "buyer_returns": returns,
            "returns_to_seller": loyalty.pair_delivered,
            "seller_share": round(loyalty.seller_share, 4),
            "p_concentration": float(f"{p_loyal:.3g}"),
        }
        detail += (
            f"; {loyalty.pair_delivered} of the buyer's {returns} returns went to this "
            f"seller (share {loyalty.seller_share:.3f}, p={fmt_p(p_loyal)}); "
            f"combined p={fmt_p(p)}"
        )
    if buyer_elsewhere is not None and buyer_elsewhere[0] > 0:
        k_else, n_else = buyer_elsewhere
        p_share = hypergeometric_sf(
            pair_claims,
            pair_delivered,
            pair_claims + k_else,
            pair_delivered + max(n_else, k_else),
        )
        p = max(p, p_share)
        numbers |= {
            "p_value": float(f"{p:.3g}"),
            "buyer_claims_elsewhere": k_else,
            "p_share_of_buyer_claims": float(f"{p_share:.3g}"),
        }
        detail += f"; share of the buyer's claims p={fmt_p(p_share)}"
    c = contribution_from_p(p, t)
    if c <= 0:
        return []
    return [
        Finding(
            code=SELLER_BUYER,
            detail=detail,
            contribution=c,
            pattern=SELLER_BUYER,
            entity_type="seller",
            entity_id=seller_id,
            numbers=numbers,
            alert=p <= t.alpha_high,
            suggested_action="Freeze payouts between this seller and buyer; check order history.",
        )
    ]


def agent_buyer_findings(
    agent_id: str,
    buyer_id: str,
    pair_disputed: int,
    pair_handled: int,
    peer_disputed: int,
    peer_handled: int,
    t: Thresholds,
    *,
    buyer_elsewhere: tuple[int, int] | None = None,
    vouched: int | None = None,
) -> list[Finding]:
    """The pair's dispute rate against the network's. `buyer_elsewhere` (disputed, handled) is
    the buyer's record with everyone else: a buyer whose returns are disputed whoever picks
    them up abuses on their own (wrong/used returns), and the agent who happens to serve them
    most is not the common factor. The pair must then stand out against that record too; with
    little record elsewhere it shrinks to the network's rate and barely bites.

    `vouched` is how many of the buyer's disputed returns this agent passed at QC. An agent
    who vouched for none of them only carried the buyer's parcels, which is what the agent of
    the buyer's area does: a buyer abusing on their own looks the same. The finding then stays
    below HIGH and raises no alert; passing the buyer's wrong items at QC is the agent's act."""
    test = rate_test(
        pair_disputed,
        pair_handled,
        peer_disputed,
        peer_handled,
        t,
        prior_rate=PRIOR_RATE,
    )
    p = test.p
    numbers = test.numbers() | {"buyer_id": buyer_id}
    detail = f"agent's pickups from buyer {buyer_id} later disputed: {test.detail()}"
    if buyer_elsewhere is not None:
        k_else, n_else = buyer_elsewhere
        vs_elsewhere = rate_test(
            pair_disputed, pair_handled, k_else, n_else, t, prior_rate=test.peer
        )
        p = max(p, vs_elsewhere.p)
        numbers |= {
            "buyer_rate_elsewhere": round(vs_elsewhere.peer, 4),
            "p_vs_buyer_elsewhere": float(f"{vs_elsewhere.p:.3g}"),
        }
        detail += (
            f"; vs the buyer with other agents {vs_elsewhere.peer:.3f} p={fmt_p(vs_elsewhere.p)}"
        )
        if n_else > 0:
            # The buyer returns through other agents too: the agent who serves them most (their
            # area's) sees most of their disputes by that alone. Shrunk to the network, a short
            # record elsewhere would hide that; the exact two-sample test asks whether this
            # agent holds more of the buyer's disputes than of the buyer's returns. Asked even
            # when none of the returns elsewhere was disputed: a buyer returning wrong items to
            # many sellers, five of six returns through their area's agent and the sixth not
            # claimed, holds all their disputes there by chance one time in six, not one in
            # ten thousand. Only a buyer seen by no other agent is judged on the rate alone.
            p_share = hypergeometric_sf(
                pair_disputed, pair_handled, pair_disputed + k_else, pair_handled + n_else
            )
            p = max(p, p_share)
            numbers |= {"p_share_of_buyer_disputes": float(f"{p_share:.3g}")}
            detail += f"; share of the buyer's disputes p={fmt_p(p_share)}"
    c = contribution_from_p(p, t)
    if c <= 0:
        return []
    alert = p <= t.alpha_high
    if vouched == 0:
        c, alert = min(c, 0.79), False
        numbers |= {"vouched_at_qc": 0}
        detail += "; none of them passed by the agent at QC"
    return [
        Finding(
            code="COLLUSION_AGENT_BUYER",
            detail=detail,
            contribution=c,
            pattern="COLLUSION_AGENT_BUYER",
            entity_type="agent",
            entity_id=agent_id,
            numbers=numbers,
            alert=alert,
            suggested_action=(
                "Assign a different agent to this buyer's pickups and audit past ones."
            ),
        )
    ]


def shared_identity_findings(
    hash_kind: str,
    hash_value: str,
    buyer_id: str,
    distinct_buyers: int,
    claims: int,
    delivered: int,
    peer_claims: int,
    peer_delivered: int,
    t: Thresholds,
) -> list[Finding]:
    """Returns of all buyer accounts behind one contact/address hash, against all buyers."""
    if distinct_buyers < 2:
        return []
    test = rate_test(
        claims, delivered, peer_claims, peer_delivered, t, prior_rate=PRIOR_RATE, odds=IDENTITY_ODDS
    )
    c = contribution_from_p(test.p, t)
    if c <= 0:
        return []
    return [
        Finding(
            code=SHARED_IDENTITY,
            detail=(
                f"{distinct_buyers} buyer accounts share one {hash_kind} hash; their returns "
                f"claimed {test.detail()}"
            ),
            contribution=c,
            pattern=SHARED_IDENTITY,
            entity_type="buyer",
            entity_id=buyer_id,
            numbers=test.numbers()
            | {
                "distinct_buyers": distinct_buyers,
                "hash_kind": hash_kind,
                "hash_prefix": hash_value[:8],
            },
            alert=test.p <= t.alpha_high,
            suggested_action=(
                "Link the accounts, hold their refunds and review the sellers involved."
            ),
        )
    ]


def ring_account_findings(
    buyer_id: str,
    seller_id: str,
    ring_buyer_id: str,
    hash_kind: str,
    ring_p: float,
    pair_claims: int,
    t: Thresholds,
    *,
    household: bool = False,
) -> list[Finding]:
    """A buyer account behind the same contact or address as a buyer whose claims with
    `seller_id` are an alerted seller-buyer ring (`ring_p`, the pair's p), claimed against by
    that seller (`pair_claims` times): the ring is the seller and the household, not one
    account of it. The pair's test counts account by account, and a ring spread over three
    accounts at one address leaves each with two or three claims, too few for its own pair
    or the address's test, while the seller's alert names one account only. An account the
    seller never claimed against is no part of what the alert found, and gets nothing.
    `household`: the alert was raised on the household's claims together (the accounts as one
    buyer), so the account it names is one of them too; otherwise that account is the pair's."""
    if pair_claims < 1 or ring_p > t.alpha_high:
        return []
    if buyer_id == ring_buyer_id and not household:
        return []
    c = contribution_from_p(ring_p, t)
    return [
        Finding(
            code="COLLUSION_RING_ACCOUNT",
            detail=(
                f"shares one {hash_kind} hash with buyer {ring_buyer_id}, whose claims with "
                f"seller {seller_id} are an alerted ring (p={fmt_p(ring_p)}); "
                f"the seller claimed against this account {pair_claims} times"
            ),
            contribution=c,
            pattern=SHARED_IDENTITY,
            entity_type="buyer",
            entity_id=buyer_id,
            numbers={
                "hash_kind": hash_kind,
                "ring_seller_id": seller_id,
                "ring_buyer_id": ring_buyer_id,
                "p_value": float(f"{ring_p:.3g}"),
                "pair_claims": pair_claims,
            },
            alert=True,
            suggested_action=(
                "Link the accounts to the seller's ring, hold their refunds and review the "
                "seller's claims on them."
            ),
        )
    ]
