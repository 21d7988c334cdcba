"""Two replicas of every service at once (the session's pipeline and a second set in the same
consumer groups, sharing the databases): every escalation becomes exactly one case, one set of
fraud assessments and exactly one acknowledgement email, and no email goes out twice; nothing
is lost or doubled while the work is split between consumer group members, two outbox relays,
two timer loops and four dispatchers."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import SERVICES, Harness
from tests.support.db import scalar
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.mail import messages_mentioning
from tests.support.services import running
from tests.support.signing import swiftship_headers
from tests.support.waiting import eventually

CASES = 16


async def _assigned(service: Any) -> int:
    total = 0
    for runner in service.runtime.consumers:
        consumer = getattr(runner, "consumer", None)
        total += len(consumer.assignment()) if consumer is not None else 0
    return total


async def test_two_replicas_of_each_service_lose_and_double_nothing(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    async with running(*SERVICES) as second:
        # Both members of each group hold partitions before traffic starts: the work is split.
        for name in ("fraud", "reconciliation", "notifications"):
            for replica in (pipeline[name], second[name]):
                await eventually(lambda r=replica: _assigned(r), what=f"{name} partitions")

        intakes = [pipeline["intake"], second["intake"]]
        return_ids = [uid("RET-REPL") for _ in range(CASES)]

        async def one_story(index: int, rid: str) -> None:
            intake = intakes[index % 2]
            r = await intake.client.post(
                "/v1/returns",
                json=return_body(rid),
                headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
            )
            assert r.status_code == 202, r.text
            body = swiftship_event(rid, "return.delivered")
            r = await intakes[(index + 1) % 2].client.post(
                "/v1/webhooks/swiftship",
                content=body,
                headers=swiftship_headers(
                    harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")
                ),
            )
            assert r.status_code == 202, r.text
            r = await intake.client.post(
                "/v1/escalations",
                json=escalation_body(rid),
                headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
            )
            assert r.status_code == 201, r.text

        await asyncio.gather(*(one_story(i, rid) for i, rid in enumerate(return_ids)))

        recon = pipeline["reconciliation"]
        cases = await eventually(
            lambda: scalar(
                recon,
                "SELECT count(*) FROM cases WHERE return_id = ANY(:r)",
                r=return_ids,
            ),
            until=lambda n: n == CASES,
            timeout=90,
            what="a case per escalation",
        )
        assert cases == CASES
        case_ids = [
            await scalar(recon, "SELECT case_id FROM cases WHERE return_id = :r", r=rid)
            for rid in return_ids
        ]

        # Counted by subject: the demo seller's claims pile up over a session, so fraud may score
        # this one HIGH and the case then sends a legitimate "new date" email too.
        def mails_per_case() -> list[int]:
            return [
                sum(
                    "We have your claim" in str(m["Subject"])
                    for m in messages_mentioning(harness.mail_dir, case_id)
                )
                for case_id in case_ids
            ]

        def doubled_subjects() -> list[str]:
            subjects = [
                str(m["Subject"])
                for case_id in case_ids
                for m in messages_mentioning(harness.mail_dir, case_id)
            ]
            return sorted({s for s in subjects if subjects.count(s) > 1})

        counts = await eventually(
            lambda: asyncio.to_thread(mails_per_case),
            until=lambda c: all(n >= 1 for n in c),
            timeout=90,
            what="an acknowledgement per case",
        )
        fraud = pipeline["fraud"]
        assessed = await eventually(
            lambda: scalar(
                fraud,
                "SELECT count(*) FROM assessments WHERE return_id = ANY(:r) AND revision = 0",
                r=return_ids,
            ),
            until=lambda n: n >= 3 * CASES,
            timeout=90,
            what="three assessments per return",
        )
        # Late doubles would arrive after the first copies: give them time to show.
        await asyncio.sleep(3)
        counts = await asyncio.to_thread(mails_per_case)
        assert counts == [1] * CASES
        assert await asyncio.to_thread(doubled_subjects) == []
        assessed = await scalar(
            fraud,
            "SELECT count(*) FROM assessments WHERE return_id = ANY(:r) AND revision = 0",
            r=return_ids,
        )
        assert assessed == 3 * CASES
        intake = pipeline["intake"]
        unpublished = await scalar(intake, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert unpublished == 0
