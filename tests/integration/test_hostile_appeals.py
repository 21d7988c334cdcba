"""The seller's appeal through intake, as the hostile client sends it (hostile8, 2026-12-07):
ten copies of one appeal without an Idempotency-Key, at once and one after another, by both
routes; and an appeal on another seller's return, ten times. Effects are read from the
databases and the SMTP sink, not only from the status codes.

- Ten copies were ten 201s (ten `AppealFiled` events, ten appeals stored by the case, which
  answered one). A copy of the appeal just filed (same seller, same words, nothing recorded
  about the return since, within minutes) is that appeal: 200 with its answer (`repeat`),
  nothing filed or emitted. Other words are a new appeal.
- Another seller's return gets the unknown return's answer, word for word, every time, and the
  desk does nothing for it: no event, no stored appeal, no email.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import uid
from tests.support.keys import add_key
from tests.support.scenario import case_of, mails_saying
from tests.support.stories import filed_case

COPIES = 10
APPEAL_FILED = "disputedesk.intake.appeal_filed.v1"
HEARD = "We have your appeal"


async def _outbox_appeals(intake: Any, rid: str) -> int:
    return int(
        await scalar(
            intake,
            "SELECT count(*) FROM outbox WHERE key = :k AND ce_type = :t",
            k=rid,
            t=APPEAL_FILED,
        )
    )


async def _stored_appeals(recon: Any, rid: str) -> int:
    return int(await scalar(recon, "SELECT count(*) FROM appeals WHERE return_id = :r", r=rid))


async def test_ten_copies_of_an_appeal_are_one_appeal_at_intake(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    filed = await filed_case(harness, pipeline)
    rid = filed.rid
    seller = add_key(harness.env, f"portal:{filed.seller}", ["seller_portal"], filed.seller)
    paths = [f"/v1/escalations/{filed.escalation_id}/appeal", f"/v1/returns/{rid}/appeal"]
    reason = "The buyer broke it; I should get the whole amount."

    async def send(i: int, words: str = reason) -> Any:
        return await intake.client.post(
            paths[i % len(paths)], json={"reason": words}, headers=seller
        )

    at_once = await asyncio.gather(*(send(i) for i in range(COPIES)))
    assert sorted(r.status_code for r in at_once) == [200] * (COPIES - 1) + [201], [
        r.text for r in at_once
    ]
    (first,) = [r.json() for r in at_once if r.status_code == 201]
    assert first["repeat"] is False
    for r in at_once:
        if r.status_code == 200:
            assert r.json() == {**first, "repeat": True}, r.text
    one_by_one = [await send(i) for i in range(COPIES)]
    assert [r.status_code for r in one_by_one] == [200] * COPIES
    assert all(r.json()["event_id"] == first["event_id"] for r in one_by_one)
    assert await _outbox_appeals(intake, rid) == 1

    # Other words are another appeal: filed, and the case answers it.
    other = await send(1, "And the box was crushed in transit.")
    assert other.status_code == 201 and other.json()["event_id"] != first["event_id"]
    assert await _outbox_appeals(intake, rid) == 2
    case = await case_of(
        harness,
        recon,
        rid,
        lambda c: any(t["kind"] == "APPEAL_REPEATED" for t in c["timeline"]),
    )
    assert case["state"] == "APPEALED"
    assert sum(t["kind"] == "CaseAppealed" for t in case["timeline"]) == 1
    assert await _stored_appeals(recon, rid) == 2
    assert len(await asyncio.to_thread(mails_saying, harness, rid, HEARD)) == 1


async def test_another_sellers_return_is_answered_as_an_unknown_one_and_moves_nothing(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    filed = await filed_case(harness, pipeline)
    rid = filed.rid
    stranger = add_key(harness.env, "portal:S-STRANGER-8", ["seller_portal"], "S-STRANGER-8")
    before_events = await _outbox_appeals(intake, rid)
    unknown_rid, unknown_esc = uid("RET"), uid("ESC")
    body = {"reason": "This one is mine, please look again."}

    async def both(path: str, unknown: str) -> None:
        sends = [intake.client.post(path, json=body, headers=stranger) for _ in range(COPIES)]
        answers = [*await asyncio.gather(*sends)]
        answers += [await intake.client.post(path, json=body, headers=stranger) for _ in "ab"]
        nowhere = await intake.client.post(unknown, json=body, headers=stranger)
        assert nowhere.status_code == 404, nowhere.text
        for r in answers:
            assert r.status_code == 404, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert (r.json()["title"], r.json()["detail"]) == (
                nowhere.json()["title"],
                nowhere.json()["detail"],
            )

    await both(f"/v1/returns/{rid}/appeal", f"/v1/returns/{unknown_rid}/appeal")
    await both(
        f"/v1/escalations/{filed.escalation_id}/appeal", f"/v1/escalations/{unknown_esc}/appeal"
    )
    await asyncio.sleep(2)  # anything emitted would have reached the case by now
    assert await _outbox_appeals(intake, rid) == before_events
    assert await _stored_appeals(recon, rid) == 0
    assert not await asyncio.to_thread(mails_saying, harness, rid, "ppeal")
