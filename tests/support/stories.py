"""The SOP stories the integration tests start from, told on the scenario builder: a claim
filed the usual way, a premature 'not received' claim, a parcel lost in transit, a claim on a
return the feed never named; and the clock moved for a case's timers without waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.support.db import execute
from tests.support.factories import uid
from tests.support.scenario import AGENT, Scenario, case_of


@dataclass(frozen=True)
class Filed:
    """A seller's claim as the test set it up: who filed it, where the seller's mail goes, and
    the case once it reached the state the test waits for."""

    rid: str
    seller: str
    to: str
    escalation_id: str
    case: dict[str, Any]
    story: Scenario


async def filed_case(
    harness: Any,
    pipeline: dict[str, Any],
    *,
    until: Any = lambda c: c["state"] == "CLOSED",
    item_value: int = 180_000,
    qc_required: bool = False,
    delivered_weight_kg: float | None = 1.2,
    delivered_ago: timedelta = timedelta(days=1),
    seller: str | None = None,
    qc_passed: bool = False,
    **claim: Any,
) -> Filed:
    """The usual story: the feed names a seller of the test's own, the partner picks the return
    up two days ago (1.2 kg) and delivers it a day ago (same weight, unless told), and a desk
    agent files the seller's claim by email (a damage claim of ₹1,500 with the checklist met,
    unless told). With no QC at pickup and no weight drop, that is L11: half, the buyer liable."""
    story = Scenario(harness, pipeline, **({"seller": seller} if seller else {}))
    story.return_(qc_required=qc_required or qc_passed, item_value=item_value)
    picked_up = story.now - delivered_ago - timedelta(days=1)
    if qc_passed:
        story.qc_passed(at=picked_up - timedelta(hours=1))
    story.picked_up(at=picked_up)
    if delivered_weight_kg is not None:
        story.delivered(ago=delivered_ago, weight_g=round(delivered_weight_kg * 1000))
    story.escalate(**{"claimed_amount": 150_000, **claim})
    case = await story.case(until)
    return Filed(story.rid, story.seller, story.to, story.escalation_id, case, story)


async def unknown_return_under_review(
    harness: Any, pipeline: dict[str, Any], rid_prefix: str
) -> Filed:
    """A claim on a return the feed never named (E1), its 48 hours over: UNDER_REVIEW,
    MISSING_FACTS, a person's to decide."""
    # No `return_`: the feed never names it, so intake holds the claim (202).
    story = Scenario(harness, pipeline, rid=uid(rid_prefix))
    story.escalate(claimed_amount=90_000, expect=202)
    case = await story.case(lambda c: c["waiting_for"] == "PENDING_FACTS")
    await fire_facts_wait(story.recon, case["case_id"])
    case = await story.case(lambda c: c["state"] == "UNDER_REVIEW")
    return Filed(story.rid, story.seller, story.to, story.escalation_id, case, story)


async def escalated_by_the_desk(
    harness: Any, recon: Any, filed: Filed, reason: str
) -> dict[str, Any]:
    """An agent escalates the filed claim's case to management; the case once ESCALATED."""
    r = await recon.client.post(
        f"/v1/cases/{filed.case['case_id']}/escalate",
        json={"reason": reason},
        headers=harness.key(AGENT),
    )
    assert r.status_code == 200, r.text
    return await case_of(harness, recon, filed.rid, lambda c: c["state"] == "ESCALATED")


async def directory_seller(harness: Any, pipeline: dict[str, Any], prefix: str) -> tuple[str, str]:
    """A seller the directory knows (id, address): for cases the desk opens before any filing,
    which carries no address."""
    story = await Scenario(harness, pipeline, seller=uid(prefix)).in_directory().run()
    return story.seller, story.to


async def lost_in_transit(
    harness: Any, pipeline: dict[str, Any], prefix: str
) -> tuple[str, str, str, dict[str, Any]]:
    """P1: a directory seller's return (₹900) picked up two days ago and declared lost by the
    partner a day ago, decided by L1 and closed. (return id, seller, address, case)"""
    story = Scenario(harness, pipeline, seller=uid(prefix)).in_directory()
    story.return_(qc_required=False, item_value=90_000)
    story.picked_up(ago=timedelta(days=2)).lost(ago=timedelta(days=1))
    case = await story.case()
    return story.rid, story.seller, story.to, case


@dataclass(frozen=True)
class Premature:
    """A 'not received' claim by email, without evidence, on a return picked up at `picked_up`
    and not delivered, closed as premature (E3b): the filing (to file again) and the case."""

    rid: str
    seller: str
    to: str
    picked_up: datetime
    body: dict[str, Any]
    case: dict[str, Any]
    story: Scenario

    async def wait_over(self, recon: Any) -> None:
        """The 10 days after the pickup are over now, without waiting for them: reconciliation's
        record of the pickup scan is moved back to 10 days and a second ago. E3b weighs the
        filing's time (stamped by intake on receipt) against the pickup scan reconciliation
        recorded, so a refiling from now on is judged as one after the days had passed."""
        async with recon.runtime.sessionmaker() as session, session.begin():
            moved = await session.execute(
                text(
                    "UPDATE shipment_events"
                    " SET occurred_at = now() - interval '10 days 1 second'"
                    " WHERE return_id = :r AND event_type = 'PICKED_UP'"
                ),
                {"r": self.rid},
            )
        assert moved.rowcount == 1, f"no pickup of {self.rid} recorded by reconciliation"


# How long before the 10 days after the pickup are over a premature claim is filed: ample for
# the return's feed, its pickup scan and the filing on a loaded machine, and never waited out
# (`Premature.wait_over`).
PREMATURE_FOR = timedelta(minutes=2)


async def premature_claim(
    harness: Any,
    pipeline: dict[str, Any],
    *,
    picked_up: datetime,
    seller: str | None = None,
    to: str | None = None,
) -> Premature:
    """E3b: the seller files 'not received' on a return picked up at `picked_up` (before the
    10 days are over) and never delivered; the case once rejected as premature."""
    story = Scenario(harness, pipeline, **{k: v for k, v in (("seller", seller), ("to", to)) if v})
    story.return_(qc_required=False, item_value=90_000).picked_up(at=picked_up)
    story.escalate(claim_type="NOT_RECEIVED", claimed_amount=90_000, evidence=[])
    case = await story.case(lambda c: c["state"] == "REJECTED")
    assert case["reason_code"] == "PREMATURE_CLAIM"
    return Premature(story.rid, story.seller, story.to, picked_up, story.filing, case, story)


async def file_again(harness: Any, intake: Any, claim: Premature, **over: Any) -> None:
    """The seller files the premature claim again (by the same email unless `over` says)."""
    r = await intake.client.post(
        "/v1/escalations", json={**claim.body, **over}, headers=harness.key(AGENT)
    )
    assert r.status_code == 201, r.text


async def fall_due(recon: Any, case_id: str, kind: str) -> None:
    """The case's pending `kind` timer falls due now (the timer loop polls every second;
    reconciliation's clock is the real one). Time moved to the timer's: the decision date the
    seller holds passes with it when it was not later."""
    await execute(
        recon,
        "UPDATE cases SET decision_promised_by = now() WHERE case_id = :c "
        "AND decision_promised_by <= (SELECT due_at FROM timers WHERE case_id = :c "
        "AND kind = :k AND fired_at IS NULL AND cancelled_at IS NULL)",
        c=case_id,
        k=kind,
    )
    await execute(
        recon,
        "UPDATE timers SET due_at = now() WHERE case_id = :c AND kind = :k "
        "AND fired_at IS NULL AND cancelled_at IS NULL",
        c=case_id,
        k=kind,
    )


async def fire_facts_wait(recon: Any, case_id: str) -> None:
    """The 48 hours of E1 pass: the case's pending FACTS_WAIT timer falls due now (the timer
    loop polls every second; reconciliation's clock is the real one)."""
    await fall_due(recon, case_id, "FACTS_WAIT")


def evidence_photo(kind: str, n: int) -> dict[str, str]:
    """An evidence item of `kind` as the seller portal sends it, numbered `n` (its hash too)."""
    return {
        "kind": kind,
        "uri": f"https://evidence.example/{kind.lower()}/{n}.jpg",
        "sha256": f"{n:064x}",
        "captured_at": datetime.now(UTC).isoformat(),
    }
