"""The seller's appeal through intake, as the hostile client sends it (hostile8, 2026-12-07): an
appeal on another seller's return (and on its claim), ten times at once and twice more. Effects
are read from the databases and the SMTP sink, not only from the status codes: another seller's
return gets the unknown return's answer, word for word, every time, and the desk does nothing
for it — no event, no stored appeal, no email.

(Ten copies of one's own appeal are each 201 at intake and answered once by the case:
test_appeal_repeats.py.)
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import uid
from tests.support.keys import add_key
from tests.support.scenario import mails_saying
from tests.support.stories import filed_case

COPIES = 10
APPEAL_FILED = "disputedesk.intake.appeal_filed.v1"


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
