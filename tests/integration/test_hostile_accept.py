"""`Accept` on every operation of the four services (hostile8, 2026-12-07). A request whose
`Accept` took none of the route's media types (`application/xml`, `image/png`, `text/csv` on a
JSON route) was answered in the route's own type with 200, and a write was done. Now it answers
406 problem+json naming `header.Accept` and listing what the route answers (`acceptable`),
before the route runs; what a client may ask for (none, `*/*`, `application/*`, the route's own
type, `application/problem+json`, q-values) is answered as before, and a route of several types
(a statement's CSV, a report's HTML) serves each.

Partner webhooks are not negotiated: a partner's delivery client reads the status alone, and a
406 there would be a refused scan (docs/trust-boundaries.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from services.intake.partners.route import PartnerWebhookRoute
from shared.access import route_access
from shared.negotiation import offered_types
from tests.conftest import Harness
from tests.integration.test_hostile_sweep import OPERATIONS, Operation, _key, _send, _url, check
from tests.support.db import scalar
from tests.support.routes import service_apps
from tests.support.scenario import AGENT
from tests.support.services import RunningService
from tests.support.stories import filed_case

PROBLEM = "application/problem+json"


def _routes() -> dict[tuple[str, str, str], APIRoute]:
    return {
        (service, r.method, r.path): r.route
        for service, app in service_apps().items()
        for r in route_access(app)
    }


_ROUTES = _routes()


def _negotiated(op: Operation) -> bool:
    route = _ROUTES[(op.service, op.method, op.path)]
    # A route of no declared type (an attachment, served in its own) is not negotiated.
    return (
        not isinstance(route, PartnerWebhookRoute)
        and route.status_code != 204
        and bool(offered_types(route))
    )


NEGOTIATED = [op for op in OPERATIONS if _negotiated(op)]


def test_the_operations_are_found() -> None:
    assert len(NEGOTIATED) > 50 and len(NEGOTIATED) < len(OPERATIONS), len(NEGOTIATED)


@pytest.mark.parametrize("op", NEGOTIATED, ids=[o.id for o in NEGOTIATED])
async def test_an_accept_the_route_cannot_answer_is_refused_naming_what_it_can(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation
) -> None:
    client = pipeline[op.service].client
    body = b"{}" if op.body is not None else None
    headers = {**_key(harness, op), "content-type": "application/json"}
    for accept in ("image/png", "application/xml", "application/json;q=0"):
        r = await _send(
            client, op.method, _url(op), headers={**headers, "accept": accept}, content=body
        )
        doc = check(r, f"Accept: {accept}")
        assert r.status_code == 406, (op.id, accept, r.status_code, r.text[:300])
        assert doc is not None and doc["errors"][0]["field"] == "header.Accept", doc
        assert doc["acceptable"] and "image/png" not in doc["acceptable"], doc
        assert r.headers["content-type"].startswith(PROBLEM)


ASKED_FOR = [
    None,
    "*/*",
    "application/*",
    "application/json",
    "application/problem+json",
    "application/xml, application/json;q=0.2",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
]
LISTS = [
    ("intake", "/v1/escalations", AGENT),
    ("reconciliation", "/v1/cases", AGENT),
    ("fraud", "/v1/alerts", AGENT),
    ("notifications", "/v1/messages?seller_id=S-DEMO-1", AGENT),
]


@pytest.mark.parametrize("service, path, key", LISTS, ids=[x[0] for x in LISTS])
async def test_what_a_client_may_ask_for_is_answered(
    harness: Harness, pipeline: dict[str, RunningService], service: str, path: str, key: str
) -> None:
    for accept in ASKED_FOR:
        headers = {**harness.key(key), **({"accept": accept} if accept else {})}
        r = await pipeline[service].client.get(path, headers=headers)
        assert r.status_code == 200, (accept, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/json"), (accept, r.headers)


async def test_a_report_and_a_statement_keep_their_own_types(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    recon = pipeline["reconciliation"]
    filed = await filed_case(harness, pipeline)
    case_id = filed.case["case_id"]
    agent = harness.key(AGENT)
    for accept in ("text/html", "text/*", "*/*", None):
        headers = {**agent, **({"accept": accept} if accept else {})}
        r = await recon.client.get(f"/v1/cases/{case_id}/report", headers=headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), accept
    r = await recon.client.get(
        f"/v1/cases/{case_id}/report", headers={**agent, "accept": "application/json"}
    )
    assert r.status_code == 406 and r.json()["acceptable"] == ["text/html"], r.text

    now = datetime.now(UTC)
    period = {
        "period_start": (now - timedelta(days=30)).isoformat(),
        "period_end": (now + timedelta(days=1)).isoformat(),
    }
    finance = harness.key("DISPUTEDESK_KEY_FINANCE")
    url = "/v1/ledger/partners/swiftship/statement"
    for fmt, accept, media in (
        ("csv", "text/csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "appl"),
        ("json", "application/json", "application/json"),
    ):
        r = await recon.client.get(
            url, params={**period, "format": fmt}, headers={**finance, "accept": accept}
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), r.text[:300]
    r = await recon.client.get(url, params=period, headers={**finance, "accept": "image/png"})
    assert r.status_code == 406 and "text/csv" in r.json()["acceptable"], r.text


async def test_a_refused_write_changes_nothing(harness: Harness, pipeline: dict[str, Any]) -> None:
    intake = pipeline["intake"]
    filed = await filed_case(harness, pipeline)
    r = await intake.client.post(
        f"/v1/returns/{filed.rid}/appeal",
        json={"reason": "Please look again."},
        headers={**harness.key(AGENT), "accept": "application/xml"},
    )
    assert r.status_code == 406, r.text
    appeals = await scalar(
        intake,
        "SELECT count(*) FROM outbox WHERE key = :k AND ce_type LIKE '%appeal%'",
        k=filed.rid,
    )
    assert appeals == 0
