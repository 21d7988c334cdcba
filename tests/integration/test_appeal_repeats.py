"""The seller's appeal sent again word for word (a double click, a retry without an
Idempotency-Key, ten copies at once), end to end: intake's routes, the case on the real topics,
the emails read back from the SMTP sink. From the hostile7 pass (2026-12-07): ten copies of an
appeal appealed the case once, and wrote the seller nine "already with a manager" emails.

A copy of the appeal just answered, with nothing moved on the case since, is stored and answers
nothing: the seller holds the first copy's answer. Other words are another appeal and are
answered; the same words once the case has moved (a premature appeal sent again after the
decision) are heard.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import escalation_body
from tests.support.scenario import AGENT, case_of, mails_about, mails_saying
from tests.support.stories import filed_case

COPIES = 10
ALREADY = "is already with a manager"


async def _copies(harness: Harness, intake: Any, paths: list[str], reason: str) -> list[int]:
    sends = [
        intake.client.post(
            paths[i % len(paths)], json={"reason": reason}, headers=harness.key(AGENT)
        )
        for i in range(COPIES)
    ]
    return [r.status_code for r in await asyncio.gather(*sends)]


async def _appeals(pipeline: dict[str, Any], rid: str) -> int:
    return int(
        await scalar(
            pipeline["reconciliation"], "SELECT count(*) FROM appeals WHERE return_id = :r", r=rid
        )
    )


def _kinds(case: dict[str, Any], kind: str) -> int:
    return sum(t["kind"] == kind for t in case["timeline"])


async def _settled_count(pipeline: dict[str, Any], rid: str, n: int) -> bool:
    """Whether reconciliation stored `n` appeals on the return within 30 s: each copy's
    answer, if any, is written in the transaction that stores it."""
    for _ in range(300):
        if await _appeals(pipeline, rid) >= n:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_ten_copies_of_an_appeal_appeal_once_and_write_one_email(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    filed = await filed_case(harness, pipeline)
    rid, esc = filed.rid, filed.escalation_id
    paths = [f"/v1/escalations/{esc}/appeal", f"/v1/returns/{rid}/appeal"]
    reason = "The buyer broke it; I should get the whole amount."
    assert await _copies(harness, intake, paths, reason) == [201] * COPIES
    await case_of(harness, recon, rid, lambda c: c["state"] == "APPEALED")
    # Another appeal in other words, after the copies: it is answered, and its answer is the
    # mark that every copy before it was handled.
    r = await intake.client.post(
        paths[0], json={"reason": "And the box was crushed."}, headers=harness.key(AGENT)
    )
    assert r.status_code == 201, r.text
    case = await case_of(harness, recon, rid, lambda c: _kinds(c, "APPEAL_REPEATED") >= 1)
    [_] = await mails_about(harness, rid, ALREADY)
    [_] = await mails_about(harness, rid, "We have your appeal")
    assert await _appeals(pipeline, rid) == COPIES + 1  # every copy recorded
    assert _kinds(case, "CaseAppealed") == 1 and _kinds(case, "APPEAL_REPEATED") == 1
    # The other words sent again: they were just answered, and nothing moved since.
    r = await intake.client.post(
        paths[1], json={"reason": "And the box was crushed."}, headers=harness.key(AGENT)
    )
    assert r.status_code == 201, r.text
    assert await _settled_count(pipeline, rid, COPIES + 2)
    case = await case_of(harness, recon, rid, lambda c: c["state"] == "APPEALED")
    assert _kinds(case, "APPEAL_REPEATED") == 1, case["timeline"]
    assert len(await asyncio.to_thread(mails_saying, harness, rid, ALREADY)) == 1
    assert len(await asyncio.to_thread(mails_saying, harness, rid, "We have your appeal")) == 1


async def test_ten_copies_of_a_premature_appeal_are_answered_once_and_heard_after_the_decision(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    filed = await filed_case(
        harness, pipeline, evidence=[], until=lambda c: c["state"] == "AWAITING_EVIDENCE"
    )
    rid, esc = filed.rid, filed.escalation_id
    paths = [f"/v1/escalations/{esc}/appeal", f"/v1/returns/{rid}/appeal"]
    early = "I disagree with whatever you decide."
    assert await _copies(harness, intake, paths, early) == [201] * COPIES
    assert await _settled_count(pipeline, rid, COPIES)
    case = await case_of(harness, recon, rid, lambda c: _kinds(c, "APPEAL_IGNORED") >= 1)
    assert case["state"] == "AWAITING_EVIDENCE"
    assert _kinds(case, "APPEAL_IGNORED") == 1, case["timeline"]
    [_] = await mails_about(harness, rid, "no decision to appeal yet")

    # The evidence decides the claim: the same words now are the seller's appeal, heard.
    r = await intake.client.post(
        f"/v1/escalations/{esc}/evidence",
        json={"evidence": escalation_body(rid)["evidence"]},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 201, r.text
    await case_of(harness, recon, rid, lambda c: c["state"] == "CLOSED")
    r = await intake.client.post(paths[1], json={"reason": early}, headers=harness.key(AGENT))
    assert r.status_code == 201, r.text
    await case_of(harness, recon, rid, lambda c: c["state"] == "APPEALED")
    [_] = await mails_about(harness, rid, "We have your appeal")
    assert (
        len(await asyncio.to_thread(mails_saying, harness, rid, "no decision to appeal yet")) == 1
    )
