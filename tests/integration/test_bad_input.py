"""Bad input to every skeleton endpoint gets problem+json naming what is wrong — never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Harness
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.signing import swiftship_headers

PROBLEM = "application/problem+json"


def assert_problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    doc = r.json()
    assert doc["status"] == status and doc["title"]
    if field is not None:
        assert field in [e["field"] for e in doc.get("errors", [])], doc
    return doc


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b.pop("seller_id"), "body.seller_id"),
        (lambda b: b.update(item_value="lots"), "body.item_value"),
        (lambda b: b.update(item_value=-1), "body.item_value"),
        (lambda b: b.update(initiated_at="2026-11-24T10:00:00"), "body.initiated_at"),
        (lambda b: b.update(qc_required="perhaps"), "body.qc_required"),
        (lambda b: b.update(surprise=1), "body.surprise"),
    ],
)
async def test_returns_feed_names_the_bad_field(
    harness: Harness, pipeline: dict[str, Any], mutate: Any, field: str
) -> None:
    body = return_body()
    mutate(body)
    r = await pipeline["intake"].client.post(
        "/v1/returns", json=body, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert_problem(r, 422, field)


async def test_returns_feed_auth_and_malformed_json(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    client = pipeline["intake"].client
    assert_problem(await client.post("/v1/returns", json=return_body()), 401)
    assert_problem(
        await client.post(
            "/v1/returns", json=return_body(), headers={"Authorization": "Bearer not-a-key"}
        ),
        401,
    )
    assert_problem(
        await client.post(
            "/v1/returns", json=return_body(), headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
        ),
        403,
    )
    r = await client.post(
        "/v1/returns",
        content=b'{"return_id": ',
        headers={**harness.key("DISPUTEDESK_KEY_MARKETPLACE"), "content-type": "application/json"},
    )
    doc = assert_problem(r, 422, "body")
    assert "Malformed JSON" in doc["errors"][0]["message"]


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b.update(claim_type="BROKEN"), "body.claim_type"),
        (lambda b: b.update(claimed_amount=12.5), "body.claimed_amount"),
        (lambda b: b["evidence"][0].update(sha256="xyz"), "body.evidence.0.sha256"),
        (lambda b: b["evidence"][0].update(uri="not a uri"), "body.evidence.0.uri"),
        (lambda b: b.update(channel="FAX"), "body.channel"),
        (lambda b: b.pop("description"), "body.description"),
    ],
)
async def test_escalations_name_the_bad_field(
    harness: Harness, pipeline: dict[str, Any], mutate: Any, field: str
) -> None:
    body = escalation_body(uid("RET"))
    mutate(body)
    r = await pipeline["intake"].client.post(
        "/v1/escalations", json=body, headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
    )
    assert_problem(r, 422, field)


async def test_seller_portal_cannot_file_for_another_seller(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    body = escalation_body(uid("RET"), seller_id="S-SOMEONE-ELSE")
    r = await pipeline["intake"].client.post(
        "/v1/escalations", json=body, headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
    )
    assert_problem(r, 403)


async def test_webhook_errors(harness: Harness, pipeline: dict[str, Any]) -> None:
    client = pipeline["intake"].client
    secret = harness.secrets["SWIFTSHIP_SECRET"]
    body = swiftship_event(uid("RET"))

    r = await client.post("/v1/webhooks/nopost", content=body)
    assert_problem(r, 404)

    headers = swiftship_headers(secret, body, webhook_id=uid("msg"))
    r = await client.post("/v1/webhooks/swiftship", content=body + b" ", headers=headers)
    assert_problem(r, 401)

    stale = swiftship_headers(secret, body, webhook_id=uid("msg"), timestamp=1_000_000_000)
    assert_problem(await client.post("/v1/webhooks/swiftship", content=body, headers=stale), 401)

    broken = b'{"event": "return.delivered", "awb": '
    r = await client.post(
        "/v1/webhooks/swiftship",
        content=broken,
        headers=swiftship_headers(secret, broken, webhook_id=uid("msg")),
    )
    assert_problem(r, 422)

    wrong_type = json.dumps({**json.loads(body), "weight_kg": "heavy"}).encode()
    r = await client.post(
        "/v1/webhooks/swiftship",
        content=wrong_type,
        headers=swiftship_headers(secret, wrong_type, webhook_id=uid("msg")),
    )
    assert_problem(r, 422, "body.weight_kg")

    huge = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = await client.post(
        "/v1/webhooks/swiftship",
        content=huge,
        headers=swiftship_headers(secret, huge, webhook_id=uid("msg")),
    )
    assert_problem(r, 413)


async def test_a_key_twice_is_named_by_its_path(harness: Harness, pipeline: dict[str, Any]) -> None:
    """Deep in a body the key alone would not say which object held it twice."""
    body = (
        b'{"version": "dup-%s", "reason": "r", "changes": {"settlement_holds": '
        b'[{"x": 1}, {"finance_confirmation_above_paise": 1, '
        b'"finance_confirmation_above_paise": 2}]}}' % uid("v").lower().encode()
    )
    r = await pipeline["reconciliation"].client.post(
        "/v1/policies",
        content=body,
        headers={
            **harness.key("DISPUTEDESK_KEY_OPS_MANAGER"),
            "content-type": "application/json",
        },
    )
    doc = assert_problem(r, 422)
    assert [e["field"] for e in doc["errors"]] == [
        "body.changes.settlement_holds.1.finance_confirmation_above_paise"
    ], doc
