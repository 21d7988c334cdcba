"""Claim abusers that favour high-value items (`FraudPlan.abuser_high_value`): drawn from a
stream of its own, so a world drawn without them is the world it was, and with them only the
abusers' claimed items change."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from statistics import NormalDist

from disputedesk.simulate.generator import World, generate
from disputedesk.simulate.marketplace import Marketplace
from disputedesk.simulate.ranges import DEV_SEEDS, HELD_OUT_SEEDS, describe, draw_market


def _world(seed: int, share: float) -> World:
    market = draw_market(seed)
    # Twelve days: enough for every kind of event, quick enough for a unit test. Without the
    # partners' published shapes (drawn since 2026-12-05 from a stream of their own, so that a
    # world without them is the world it was).
    market = replace(
        market,
        days=12,
        fraud=replace(market.fraud, abuser_high_value=share),
        rapidroute_agentless_share=0.0,
        desipost_routes=False,
    )
    return generate(market, seed)


def _entries(world: World) -> list[str]:
    return [
        json.dumps(
            [a.at.isoformat(), a.kind, a.return_id, a.body, a.partner_format, a.partner_id],
            sort_keys=True,
            default=str,
        )
        for a in world.actions
    ]


def test_every_drawn_world_draws_a_share_and_keeps_what_it_drew_before() -> None:
    shares = [draw_market(seed).fraud.abuser_high_value for seed in DEV_SEEDS + HELD_OUT_SEEDS]
    assert all(0.0 <= s <= 0.6 for s in shares)
    assert max(shares) - min(shares) > 0.2  # worlds differ in how much their abusers favour
    assert describe(draw_market(101))["abuser_high_value"] == round(shares[0], 2)
    # The default world's abusers claim on whatever they are sent.
    assert Marketplace().fraud.abuser_high_value == 0.0


def test_without_the_share_a_world_is_the_one_drawn_before_it_existed() -> None:
    # The digests of two drawn worlds (twelve days) as generated before the share existed:
    # other patterns' figures are compared on these worlds before and after.
    for seed, before in (
        (101, "d68fd90c266002e8fce66691a6f56e7820e7fb144d600c582325ad98b324c42b"),
        (9001, "6c799ba388c89e160e4d3562ba7ce5774f762f3e0f38311909706cf1cdd4f212"),
    ):
        h = hashlib.sha256()
        for entry in _entries(_world(seed, 0.0)):
            h.update(entry.encode())
        assert h.hexdigest() == before, seed


def test_with_the_share_only_the_abusers_claimed_items_are_dearer() -> None:
    plain, dear = _world(101, 0.0), _world(101, 0.6)
    assert len(plain.actions) == len(dear.actions)
    abusers = {s for _, s in plain.truth.entities["claim_abuse"]}
    planted = {rid for _, rid in plain.truth.events["claim_abuse"]}
    categories = {c.name: c for c in draw_market(101).categories}
    changed: set[str] = set()
    differing = 0
    for a, b in zip(plain.actions, dear.actions, strict=True):
        if a.body == b.body:
            continue
        differing += 1
        assert (a.at, a.kind, a.return_id) == (b.at, b.kind, b.return_id)
        key = "item_value" if a.kind == "return" else "claimed_amount"
        assert {k: v for k, v in a.body.items() if k != key} == {
            k: v for k, v in b.body.items() if k != key
        }
        assert b.body[key] > a.body[key]
        if a.kind == "return":
            assert a.body["seller_id"] in abusers
            c = categories[a.body["category"]]
            # One of the category's dearest tenth.
            tenth = c.median_rupees * math.exp(NormalDist().inv_cdf(0.9) * c.sigma) * 100
            assert b.body["item_value"] >= int(tenth)
            changed.add(a.return_id)
    assert changed and changed <= planted
    # Each planted claim made dearer changed its feed entry and its claim, nothing else.
    assert differing == 2 * len(changed)
    assert plain.truth.relevant == dear.truth.relevant
