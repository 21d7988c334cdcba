"""A claim that goes to a person is told so whatever the timing of its facts.

E5: a claim assessed HIGH goes to a person (`FRAUD_REVIEW`). When the assessment reaches
reconciliation before the claim, the case goes to review straight after opening (version 2);
when it comes after, the case first waits for it and goes to review later. The seller's emails
must be one set either way: the acknowledgement, then `timeline_change` saying a person decides
(it used to be left out straight after opening, so that seller never heard why the date was 48
hours away). Notifications' consumer is held back until the case is under review, as a slow
consumer would be, so the acknowledgement is composed after the review in both timings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.events import MODEL_OF_TYPE
from tests.conftest import Harness
from tests.support import reconciliation as recon_support
from tests.support.db import rows
from tests.support.mail import text_part
from tests.support.notifications import envelope, publish
from tests.support.reconciliation import Engine, assessed, engine, escalation
from tests.support.scenario import mails_about
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
async def clocked(harness: Harness) -> AsyncIterator[Engine]:
    """A reconciliation of its own on a manual clock, whose fraud assessments come only when
    the test sends them: the test decides whether the claim or its assessment comes first."""
    async with engine(harness, "reviewtiming") as eng:
        yield eng


async def _review_told(
    harness: Harness,
    pipeline: dict[str, Any],
    clocked: Engine,
    *,
    assessed_first: bool,
    language: str,
) -> tuple[list[str], str, str]:
    """The seller's emails (templates, in order) for a claim assessed HIGH, the assessment
    reaching reconciliation before the claim or after it; and the review email's subject and
    text."""
    rid, seller, now = await recon_support.delivered_to_a_new_seller(
        harness, pipeline["notifications"], clocked, tag="RVT", language=language
    )
    claim = clocked.envelope(escalation(rid, amount=150_000, filed_at=now, seller=seller))
    fraud = assessed(claim, "HIGH", at=now)
    if assessed_first:
        await clocked.send(fraud)
        await eventually(
            lambda: clocked.sql("SELECT 1 FROM assessments WHERE return_id = :r", r=rid),
            until=bool,
            timeout=30,
            what="the assessment stored before the claim",
        )
        await clocked.send(claim)
    else:
        await clocked.send(claim)
        await clocked.wait_case(rid, lambda c: c["waiting_for"] == "FRAUD_ASSESSMENT")
        await clocked.send(fraud)
    case = await clocked.wait_case(rid, lambda c: c["state"] == "UNDER_REVIEW")
    assert case["reason_code"] == "FRAUD_REVIEW", case
    # Notifications hears the case only now, every event at once.
    events = [
        MODEL_OF_TYPE[e["ce_type"]].model_validate(e["payload"])
        for e in await clocked.events(case["case_id"])
    ]
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], *(envelope(e) for e in events))
    reviewed = "डेस्क का एक सदस्य" if language == "hi" else "A member of the desk decides"
    moved = "नई तारीख" if language == "hi" else "A new date for the decision"
    [review] = await mails_about(harness, rid, reviewed if assessed_first else moved)
    found = await eventually(
        lambda: rows(
            pipeline["notifications"],
            "SELECT template FROM messages WHERE return_id = :r AND audience = 'seller' "
            "AND status NOT IN ('cancelled', 'superseded') ORDER BY case_version, created_at",
            r=rid,
        ),
        until=lambda found: len(found) >= 2,
        timeout=30,
        what=f"the seller's emails about {rid}",
    )
    return [row.template for row in found], str(review["Subject"]), text_part(review)


@pytest.mark.parametrize("language", ["en", "hi"])
async def test_a_claim_sent_to_a_person_is_told_so_whether_its_fraud_check_came_first_or_after(
    harness: Harness, pipeline: dict[str, Any], clocked: Engine, language: str
) -> None:
    first = await _review_told(harness, pipeline, clocked, assessed_first=True, language=language)
    after = await _review_told(harness, pipeline, clocked, assessed_first=False, language=language)
    assert first[0] == after[0] == ["acknowledgement", "timeline_change"], (first, after)
    straight_subject, straight_text = first[1], first[2]
    later_subject, later_text = after[1], after[2]
    if language == "en":
        # Straight after opening the acknowledgement gave the review's date: it holds.
        assert "the date we gave you holds" in straight_text, straight_text
        assert "closer look by a member of the desk" in straight_text, straight_text
        assert "change in the timeline" in later_text, later_text
        assert "closer look by a member of the desk" in later_text, later_text
    else:
        assert "वही लागू है" in straight_text and "नई तारीख" not in straight_subject
        assert "समय-सीमा बदल गई है" in later_text and "नई तारीख" in later_subject
    assert "fraud" not in (straight_text + later_text).lower()
