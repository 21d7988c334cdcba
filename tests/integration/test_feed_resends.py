"""The marketplace feed resends; a resend says what the first entry said. The same return or
refund id with other values is refused with 409 naming each field that differs, instead of being
answered `duplicate: true` while its values are dropped: a return's seller, partner and AWB
decide who may claim on it and who may scan it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.conftest import Harness
from tests.support.db import rows, scalar
from tests.support.factories import return_body, uid
from tests.support.services import RunningService

PROBLEM = "application/problem+json"
INDIA = timezone(timedelta(hours=5, minutes=30))


async def _post(
    intake: RunningService, harness: Harness, path: str, body: dict[str, Any]
) -> httpx.Response:
    return await intake.client.post(
        path, json=body, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )


def _refused(r: httpx.Response, fields: list[str]) -> None:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert sorted(e["field"] for e in r.json()["errors"]) == sorted(fields), r.json()


@pytest.fixture
def intake(pipeline: dict[str, RunningService]) -> RunningService:
    return pipeline["intake"]


async def test_a_return_resent_with_another_owner_is_refused_naming_the_fields(
    harness: Harness, intake: RunningService
) -> None:
    body = return_body()
    rid = body["return_id"]
    first = await _post(intake, harness, "/v1/returns", body)
    assert first.status_code == 202 and first.json()["duplicate"] is False, first.text

    # The same entry, its instant written in India time: the same return, a duplicate.
    initiated = datetime.fromisoformat(body["initiated_at"]).astimezone(INDIA).isoformat()
    again = await _post(intake, harness, "/v1/returns", {**body, "initiated_at": initiated})
    assert again.status_code == 202 and again.json() == {**first.json(), "duplicate": True}

    r = await _post(intake, harness, "/v1/returns", {**body, "seller_id": "S-SOMEONE-ELSE"})
    _refused(r, ["body.seller_id"])
    r = await _post(
        intake, harness, "/v1/returns", {**body, "partner_id": "desipost", "awb": "DP-OTHER-1"}
    )
    _refused(r, ["body.partner_id", "body.awb"])
    r = await _post(intake, harness, "/v1/returns", {**body, "item_value": 1})
    _refused(r, ["body.item_value"])

    stored = await rows(
        intake, "SELECT seller_id, partner_id, awb FROM returns WHERE return_id = :r", r=rid
    )
    assert [tuple(s) for s in stored] == [(body["seller_id"], body["partner_id"], body["awb"])]
    emitted = await scalar(
        intake,
        "SELECT count(*) FROM outbox WHERE key = :k AND ce_type LIKE '%return_initiated%'",
        k=rid,
    )
    assert emitted == 1


async def test_a_refund_resent_with_another_amount_is_refused(
    harness: Harness, intake: RunningService
) -> None:
    ret = return_body()
    assert (await _post(intake, harness, "/v1/returns", ret)).status_code == 202
    refund = {
        "refund_id": uid("RF"),
        "return_id": ret["return_id"],
        "order_id": ret["order_id"],
        "amount": 249_900,
        "issued_at": datetime.now(UTC).isoformat(),
    }
    first = await _post(intake, harness, "/v1/refunds", refund)
    assert first.status_code == 202, first.text
    again = await _post(intake, harness, "/v1/refunds", refund)
    assert again.status_code == 202 and again.json()["duplicate"] is True
    r = await _post(intake, harness, "/v1/refunds", {**refund, "amount": 999_999})
    _refused(r, ["body.amount"])
    r = await _post(intake, harness, "/v1/refunds", {**refund, "return_id": uid("RET")})
    _refused(r, ["body.return_id"])
    amount = await scalar(
        intake,
        "SELECT payload->>'amount' FROM refunds WHERE refund_id = :r",
        r=refund["refund_id"],
    )
    assert amount == "249900"
