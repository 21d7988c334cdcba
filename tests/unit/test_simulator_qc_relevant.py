"""The evaluation's goal population for QC contradictions: a QC agent's relevant events are
its passes contradicted by different buyers, as the detector counts them."""

from __future__ import annotations

from collections import defaultdict

from disputedesk.simulate import Marketplace, World, generate

SMALL = Marketplace(days=28, sellers=40, buyers=300)


def _contradicting_buyers(world: World) -> tuple[dict[str, set[str]], dict[str, int]]:
    """Per QC agent: the buyers whose wrong/used claims contradict its passes, and how many
    such claims there were, read from the world's actions."""
    buyer: dict[str, str] = {}
    passed_by: dict[str, str] = {}
    delivered: set[str] = set()
    for a in world.actions:
        if a.kind == "return":
            buyer[a.body["return_id"]] = a.body["buyer_id"]
        elif a.kind == "scan":
            if a.body["type"] == "QC_PASSED" and a.body.get("agent"):
                passed_by[a.body["return_id"]] = a.body["agent"]
            if a.body["type"] == "DELIVERED_TO_SELLER":
                delivered.add(a.body["return_id"])
    buyers: dict[str, set[str]] = defaultdict(set)
    claims: dict[str, int] = defaultdict(int)
    for a in world.actions:
        if a.kind in ("return", "scan"):
            continue
        r = a.body.get("return_id")
        if (
            r in passed_by
            and r in delivered
            and a.body.get("claim_type") in ("WRONG_ITEM", "USED_ITEM")
        ):
            buyers[passed_by[r]].add(buyer[r])
            claims[passed_by[r]] += 1
    return buyers, claims


def test_a_qc_agents_relevant_events_count_each_buyer_once() -> None:
    world = generate(SMALL, 5)
    buyers, claims = _contradicting_buyers(world)
    # The world holds buyers who return wrong or used items again and again through one agent,
    # so counting claims and counting buyers differ.
    assert sum(claims.values()) > sum(len(b) for b in buyers.values())
    relevant = {
        eid: v for (p, _, eid), v in world.truth.relevant.items() if p == "qc_contradiction"
    }
    assert relevant == {a: len(b) for a, b in buyers.items()}
