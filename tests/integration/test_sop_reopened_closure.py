"""A claim closed by a filing window, then reopened by the partner's record, on the running stack.

The closure email is in the seller's inbox before the case is decided again on the record
(`REOPENED_ON_DECLARATION` sends nothing of its own). The seller's next email, the decision,
must say plainly that it replaces the closure, naming the closure's email by its time: an email
the seller reads never contradicts the case's state without saying so."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from services.notifications.messages.rendering import seller_time
from tests.conftest import Harness
from tests.integration import test_sop_any_order as any_order
from tests.support.db import rows
from tests.support.factories import uid
from tests.support.sop_oracle import expected
from tests.support.waiting import eventually

_RECORD_LAST = next(t for t in any_order.TELLINGS if t.order == "record last")
_REOPENED = {
    s.name: s
    for s in any_order.SAMPLE
    if "after a claim out of its window" in s.name or "after a premature claim" in s.name
}


async def _decision_texts(harness: Harness, notifications: Any, rid: str) -> list[str]:
    found = await rows(
        notifications,
        "SELECT body_text FROM messages WHERE return_id = :r AND audience = 'seller' "
        "AND template = 'decision' AND status NOT IN ('cancelled', 'superseded') "
        "ORDER BY case_version",
        r=rid,
    )
    return [str(row.body_text) for row in found]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("story", sorted(_REOPENED))
async def test_the_decision_after_a_reopened_closure_says_the_closure_no_longer_stands(
    harness: Harness, pipeline: dict[str, Any], story: str
) -> None:
    """E3, E3b or E3c closes the claim (email one), the partner's record then settles it (L1,
    L7): the decision (email two) opens by saying it replaces the email of the closure's time,
    that the closure no longer stands; the closure's email says nothing of the kind."""
    told_story = any_order.SAMPLE[[s.name for s in any_order.SAMPLE].index(story)]
    told = any_order.Told(
        told_story,
        _RECORD_LAST,
        uid("RET-REOPEN"),
        uid("S-REOPEN"),
        f"{uid('reopen').lower()}@example.com",
        expected(told_story),
    )
    result = await any_order._run(harness, pipeline, told)
    assert not result.problems, result.problems
    recon = pipeline["reconciliation"]
    case = await any_order._case(harness, recon, told.rid)
    assert case is not None
    closed_at = next(
        datetime.fromisoformat(t["data"]["event"]["occurred_at"])
        for t in case["timeline"]
        if (t.get("data") or {}).get("event", {}).get("type", "").endswith("case_rejected.v1")
    )
    closure, decision = await eventually(
        lambda: _decision_texts(harness, pipeline["notifications"], told.rid),
        until=lambda texts: len(texts) == 2,
        timeout=60,
        what="the closure and the decision",
    )
    replaces = f"This email replaces our email of {seller_time(closed_at)} that closed your claim"
    assert replaces in decision, decision
    assert "that closure no longer stands" in decision
    assert "replaces our email" not in closure
