"""Every appeal is answered, end to end on the real stack: one naming another seller's return
is answered at the appealing seller's own address with nothing of the other seller's case, and
one with no case, from a seller the directory has no address for, waits for one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.events import AppealFiled
from tests.conftest import Harness
from tests.integration import test_seller_directory as directory
from tests.support.db import rows, scalar
from tests.support.factories import uid
from tests.support.mail import html_part, messages_mentioning, text_part
from tests.support.notifications import envelope, publish
from tests.support.stories import (
    directory_seller,
    lost_in_transit,
)
from tests.support.waiting import eventually


async def test_an_appeal_on_another_sellers_return_is_told_only_that_it_is_not_theirs(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """Intake files appeals only for the return's own seller; one reaching the topic another
    way is refused (seller_mismatch) and still answered: at the appealing seller's directory
    address, saying that what it names is not theirs, and nothing of the case it names (its
    id, its seller, its decision, its money)."""
    recon = pipeline["reconciliation"]
    rid, owner, owner_to, case = await lost_in_transit(harness, pipeline, "S-OWNER")
    other, other_to = await directory_seller(harness, pipeline, "S-ELSEWHERE")
    appeal = AppealFiled(
        escalation_id=uid("APL"),
        return_id=rid,
        seller_id=other,
        reason="Please pay me for this one.",
        filed_at=datetime.now(UTC),
    )
    await publish(harness.env["KAFKA_BOOTSTRAP_SERVERS"], envelope(appeal))

    not_yours = "it names a claim or a return that is not yours"
    [answer] = await directory._mails(harness, rid, not_yours)
    assert answer["To"] == other_to
    directory._in_both(
        answer,
        f"Your appeal about return {rid} names a claim or a return that is not one of yours",
        "has not used up anything",
    )
    told = f"{answer['Subject']}\n{text_part(answer)}\n{html_part(answer)}"
    for theirs in (case["case_id"], owner, owner_to, "₹"):
        assert theirs not in told, theirs
    assert (
        await scalar(recon, "SELECT disposition FROM appeals WHERE return_id = :r", r=rid)
        == "REFUSED"
    )
    after = await directory._case(harness, recon, rid, lambda c: True)
    assert (after["state"], after["version"]) == ("CLOSED", case["version"])
    # The case's own seller is not written to about someone else's appeal.
    assert not [
        m
        for m in messages_mentioning(harness.mail_dir, rid)
        if m["To"] == owner_to and "appeal about" in str(m["Subject"])
    ]


async def test_an_appeal_without_a_case_waits_for_the_sellers_address_then_goes_out(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The return route's appeal on a return with no case, from a seller the directory has no
    address for (and no filing names one): the answer is held, and goes out once the
    marketplace gives the seller an address."""
    intake, notifications = pipeline["intake"], pipeline["notifications"]
    seller = uid("S-NOADDRESS")
    rid = await directory._feed(harness, intake, seller, qc_required=False, item_value=90_000)
    r = await intake.client.post(
        f"/v1/returns/{rid}/appeal",
        json={"reason": "I disagree with the refund to the buyer."},
        headers=harness.key(directory.AGENT),
    )
    assert r.status_code == 201, r.text

    held = await eventually(
        lambda: rows(
            notifications,
            "SELECT template, status, recipient FROM messages WHERE return_id = :r",
            r=rid,
        ),
        until=lambda found: len(found) >= 1,
        what="the answer to the appeal, held",
    )
    assert [tuple(m) for m in held] == [("appeal_not_heard", "held", "")]
    assert messages_mentioning(harness.mail_dir, rid) == []

    address = directory._address()
    saved = await directory._put_seller(harness, notifications, seller, directory._profile(address))
    assert saved["released_messages"] == 1
    [answer] = await directory._mails(harness, rid, "no decision on this return to appeal")
    assert answer["To"] == address
    directory._in_both(answer, f"There is no decision on return {rid}", "not used up anything")
