"""The specification-only fraud world, tiny, through a real stack: every request is accepted,
the pipeline settles, and the scoring tells a blatant claim abuser (found) from the large honest
seller (not flagged). It runs the four services as processes on a stack of its own, like the
fault drill, since they use the same consumer groups as the in-process pipeline of other tests."""

from __future__ import annotations

import os

from disputedesk.fraudworld.runner import WorldRun
from disputedesk.fraudworld.world import build_world
from disputedesk.stack import Stack
from tests.support.stacks import own_stack

# Its own stack, 300 ports above the test stack's (the drills take 100 and 200 above it).
WORLD_STACK = own_stack("FWORLD", "fworld-test", step=300)


async def test_a_tiny_world_is_scored_a_blatant_abuser_found_an_honest_seller_not() -> None:
    world = build_world(17, scale=0.05, blatant=True)
    blatant = next(s for s in world.truth["claim_abuse"]["seller"] if s.endswith("-S-BLATANT"))
    large = next(s for s, what in world.lookalikes["seller"].items() if "large" in what)
    run = WorldRun(world, environ={**os.environ, **WORLD_STACK}, settle_timeout_s=600)
    try:
        report = await run.run()
    finally:
        if os.environ.get("KEEP_TEST_STACK") != "1":
            Stack.from_env(WORLD_STACK).down()

    assert report["settle"]["settled"], report["settle"]
    assert not report["replay"]["refused"], report["replay"]["refused"][:3]
    assert report["replay"]["escalations_filed"] == len(world.claims)
    result = report["result"]
    # Every claim reached a case with fraud's assessment, read back over the APIs.
    assert result["events"]["claim_abuse"]["planted"] == sum(
        "claim_abuse" in c.patterns for _, c in world.claims
    )
    flagged = {line.split(":")[0] for line in result["false_entities"]}
    assert f"seller {blatant}" not in str(result["missed_entities"]["claim_abuse"])
    assert result["entities"]["claim_abuse"]["flagged"] >= 1
    assert not any(large in f for f in flagged), result["false_entities"]
    assert "| claim abuse |" in report["table"]
