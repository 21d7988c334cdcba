"""Free text of whitespace alone, a seller's weight of 0 g, and a partner's photo link that no
one on the desk may safely open, on the real stack: each refused naming its field (422
problem+json), or, for a partner's 0 g, kept as a scan that was not weighed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Harness
from tests.support.db import scalar
from tests.support.factories import (
    desipost_snapshot,
    escalation_body,
    rapidroute_batch,
    rapidroute_event,
    return_body,
    swiftship_event,
    uid,
)
from tests.support.feed import feed_return
from tests.support.signing import desipost_headers, rapidroute_headers, swiftship_headers

PROBLEM = "application/problem+json"
BLANK = " \t\n  "

# Every body field of free text a caller must write, in every service, sent as whitespace
# alone. The object named need not exist: the body is refused before it is looked up.
BLANK_TEXT: list[tuple[str, str, str, str, dict[str, Any], str]] = [
    (
        "intake",
        "POST",
        "/v1/escalations",
        "DISPUTEDESK_KEY_SELLER_PORTAL",
        escalation_body("RET-BLANK", description=BLANK),
        "body.description",
    ),
    (
        "intake",
        "POST",
        "/v1/escalations/ESC-NONE/appeal",
        "DISPUTEDESK_KEY_SELLER_PORTAL",
        {"reason": BLANK},
        "body.reason",
    ),
    (
        "intake",
        "POST",
        "/v1/returns/RET-NONE/appeal",
        "DISPUTEDESK_KEY_SELLER_PORTAL",
        {"reason": BLANK},
        "body.reason",
    ),
    (
        "intake",
        "POST",
        "/v1/returns",
        "DISPUTEDESK_KEY_MARKETPLACE",
        return_body(category=BLANK),
        "body.category",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/cases/CASE-NONE/notes",
        "DISPUTEDESK_KEY_OPS_AGENT",
        {"note": BLANK},
        "body.note",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/cases/CASE-NONE/assign",
        "DISPUTEDESK_KEY_OPS_MANAGER",
        {"assignee": BLANK},
        "body.assignee",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/cases/CASE-NONE/decision",
        "DISPUTEDESK_KEY_OPS_AGENT",
        {"liable_party": "PARTNER", "payout_pct": 100, "reason": BLANK},
        "body.reason",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/cases/CASE-NONE/evidence-requests",
        "DISPUTEDESK_KEY_OPS_AGENT",
        {"checklist": ["The invoice", BLANK], "reason": "To confirm the value"},
        "body.checklist.1",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/cases/CASE-NONE/tasks",
        "DISPUTEDESK_KEY_OPS_AGENT",
        {"team": "finance", "ask": BLANK},
        "body.ask",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/partner-notices/00000000-0000-0000-0000-000000000000/ruling",
        "DISPUTEDESK_KEY_OPS_MANAGER",
        {"outcome": "UPHELD", "reason": BLANK},
        "body.reason",
    ),
    (
        "fraud",
        "POST",
        "/v1/watchlist",
        "DISPUTEDESK_KEY_OPS_MANAGER",
        {"entity_type": "seller", "entity_id": "S-X", "reason": BLANK},
        "body.reason",
    ),
    (
        "notifications",
        "PUT",
        "/v1/sellers/S-BLANK",
        "DISPUTEDESK_KEY_MARKETPLACE",
        {"emails": ["blank@example.com"], "display_name": BLANK},
        "body.display_name",
    ),
]


@pytest.mark.parametrize(("service", "method", "url", "key", "body", "field"), BLANK_TEXT)
async def test_free_text_of_whitespace_alone_is_refused_naming_the_field(
    harness: Harness,
    pipeline: dict[str, Any],
    service: str,
    method: str,
    url: str,
    key: str,
    body: dict[str, Any],
    field: str,
) -> None:
    r = await pipeline[service].client.request(
        method,
        url,
        content=json.dumps(body).encode(),
        headers={**harness.key(key), "content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "whitespace" in errors[field], errors


async def test_a_description_is_stored_trimmed(harness: Harness, pipeline: dict[str, Any]) -> None:
    intake = pipeline["intake"]
    rid = (await feed_return(intake, harness))["return_id"]
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, description="\n  Cracked screen.  \n"),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert r.status_code in (200, 201, 202), r.text
    stored = await scalar(
        intake,
        "SELECT payload->>'description' FROM outbox WHERE key = :k "
        "AND ce_type = 'disputedesk.intake.seller_escalation_filed.v1'",
        k=rid,
    )
    assert stored == "Cracked screen."


@pytest.mark.parametrize("weight", [0, -1])
async def test_a_sellers_weight_of_nothing_is_refused(
    harness: Harness, pipeline: dict[str, Any], weight: int
) -> None:
    intake = pipeline["intake"]
    portal = harness.key("DISPUTEDESK_KEY_SELLER_PORTAL")
    rid = (await feed_return(intake, harness))["return_id"]
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, claim_type="MISSING_ITEM", received_weight_g=weight),
        headers=portal,
    )
    assert r.status_code == 422, r.text
    assert "body.received_weight_g" in [e["field"] for e in r.json()["errors"]]
    r = await intake.client.post(
        "/v1/escalations/ESC-NONE/evidence", json={"received_weight_g": weight}, headers=portal
    )
    assert r.status_code == 422, r.text
    assert "body.received_weight_g" in [e["field"] for e in r.json()["errors"]]


async def _shipment_weight(intake: Any, return_id: str) -> Any:
    return await scalar(
        intake,
        "SELECT payload->'weight_g' FROM outbox WHERE key = :k "
        "AND ce_type = 'disputedesk.intake.return_shipment_event.v1'",
        k=return_id,
    )


async def test_a_partners_zero_grams_is_a_scan_not_weighed(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    ret = await feed_return(intake, harness, partner_id="rapidroute", awb=uid("RR"))
    rid = ret["return_id"]
    body = rapidroute_batch([rapidroute_event(rid, "RDL", awb=ret["awb"], weight_g=0)])
    secret = harness.secrets["RAPIDROUTE_SECRET"]
    r = await intake.client.post(
        "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(secret, body)
    )
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1
    assert await _shipment_weight(intake, rid) is None


BAD_LINKS = [
    "javascript:alert(1)",
    "http://cdn.partner.example/a.jpg",
    "https://user:pw@cdn.partner.example/a.jpg",
    "https://10.0.0.5/a.jpg",
    "not a link",
]


@pytest.mark.parametrize("link", BAD_LINKS)
async def test_a_scan_photo_link_is_held_to_the_evidence_rule(
    harness: Harness, pipeline: dict[str, Any], link: str
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    good = "https://cdn.partner.example/qc/a.jpg"

    body = swiftship_event(rid, photos=[good, link])
    headers = swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg"))
    r = await intake.client.post("/v1/webhooks/swiftship", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert "body.photos.1" in [e["field"] for e in r.json()["errors"]], r.text

    body = rapidroute_batch([rapidroute_event(rid, "RQP", images=[link])])
    headers = rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body)
    r = await intake.client.post("/v1/webhooks/rapidroute", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert "body.events.0.images.0" in [e["field"] for e in r.json()["errors"]], r.text

    body = desipost_snapshot(
        rid,
        uid("DP"),
        [("QC PASSED", "24-11-2026 15:42:10")],
        qc={"status": "PASSED", "image": link},
    )
    headers = desipost_headers(harness.secrets["DESIPOST_API_KEY"])
    r = await intake.client.post("/v1/webhooks/desipost", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert "body.qc.image" in [e["field"] for e in r.json()["errors"]], r.text
