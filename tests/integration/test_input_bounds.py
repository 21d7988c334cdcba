"""Hostile input to every service answers 422 (or 413) problem+json naming the field, never a 500:
control characters in paths, queries and bodies, chunked bodies over the limit, numbers and dates
past their bounds, money that is not strict integer paise, implausible timestamps, unknown
fields."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.paging import encode_cursor
from tests.conftest import Harness
from tests.support.factories import escalation_body, return_body, uid
from tests.support.feed import feed_return

PROBLEM = "application/problem+json"
MANAGER = "DISPUTEDESK_KEY_OPS_MANAGER"
MARKETPLACE = "DISPUTEDESK_KEY_MARKETPLACE"
PORTAL = "DISPUTEDESK_KEY_SELLER_PORTAL"
ADMIN = "DISPUTEDESK_KEY_ADMIN"


def assert_problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    doc: dict[str, Any] = r.json()
    assert doc["status"] == status
    if field is not None:
        assert field in [e["field"] for e in doc.get("errors", [])], doc
    return doc


async def _call(
    harness: Harness,
    pipeline: dict[str, Any],
    service: str,
    method: str,
    url: str,
    key: str,
    body: Any = None,
    **kw: Any,
) -> Any:
    client = pipeline[service].client
    headers = {**harness.key(key), **kw.pop("headers", {})}
    if body is not None:
        kw["content"] = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    return await client.request(method, url, headers=headers, **kw)


# --- control characters in paths -----------------------------------------------------------

PATHS = [
    ("intake", "POST", "/v1/webhooks/swift%00ship", ADMIN, "path.partner_id"),
    ("intake", "GET", "/v1/returns/RET%01X/events", MANAGER, "path.return_id"),
    ("reconciliation", "GET", "/v1/cases/CASE%00X", MANAGER, "path.case_id"),
    ("reconciliation", "GET", "/v1/policies/sop%00v1", MANAGER, "path.version"),
    ("reconciliation", "GET", "/v1/ledger/cases/C%1F", MANAGER, "path.case_id"),
    ("fraud", "GET", "/v1/risk/seller/S%00X", MANAGER, "path.entity_id"),
    ("notifications", "GET", "/v1/templates/ack%00/preview", MANAGER, "path.name"),
]


@pytest.mark.parametrize("service, method, url, key, field", PATHS)
async def test_control_characters_in_a_path_answer_422(
    harness: Harness,
    pipeline: dict[str, Any],
    service: str,
    method: str,
    url: str,
    key: str,
    field: str,
) -> None:
    r = await _call(harness, pipeline, service, method, url, key)
    assert_problem(r, 422, field)


# --- control characters in queries ----------------------------------------------------------

QUERIES = [
    ("intake", "/v1/escalations?return_id=R%00", PORTAL, "query.return_id"),
    ("intake", "/v1/admin/unmapped-statuses?partner_id=swift%0Aship", ADMIN, "query.partner_id"),
    ("reconciliation", "/v1/cases?assignee=asha%00", MANAGER, "query.assignee"),
    ("reconciliation", "/v1/cases?seller_id=S%00", MANAGER, "query.seller_id"),
    ("fraud", "/v1/alerts?pattern=p%00", MANAGER, "query.pattern"),
    ("fraud", "/v1/alerts?entity_id=E%07", MANAGER, "query.entity_id"),
    ("notifications", "/v1/messages?case_id=C%00", MANAGER, "query.case_id"),
]


@pytest.mark.parametrize("service, url, key, field", QUERIES)
async def test_control_characters_in_a_query_answer_422(
    harness: Harness, pipeline: dict[str, Any], service: str, url: str, key: str, field: str
) -> None:
    r = await _call(harness, pipeline, service, "GET", url, key)
    assert_problem(r, 422, field)


# --- control characters in bodies -----------------------------------------------------------

BODIES: list[tuple[str, str, str, str, dict[str, Any], str]] = [
    (
        "intake",
        "POST",
        "/v1/escalations",
        PORTAL,
        {**escalation_body("RET-X"), "description": "cracked\x00"},
        "body.description",
    ),
    (
        "intake",
        "POST",
        "/v1/seller-feedback",
        PORTAL,
        {"seller_id": "S-DEMO-1", "rating": 3, "text": "ok\x1b[2J"},
        "body.text",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/policies",
        MANAGER,
        {"version": "sop-nul-draft", "changes": {"windows": {"note\x00": "x"}}},
        "body.changes",
    ),
    (
        "reconciliation",
        "POST",
        "/v1/policies",
        MANAGER,
        {"version": "sop-nul-draft", "based_on": "sop-v1\x00", "changes": {}},
        "body.based_on",
    ),
    (
        "fraud",
        "POST",
        "/v1/watchlist",
        MANAGER,
        {"entity_type": "seller", "entity_id": "S-1", "reason": "because\x00"},
        "body.reason",
    ),
    (
        "fraud",
        "POST",
        "/v1/labels",
        MANAGER,
        {"entity_type": "seller", "entity_id": "S-1", "verdict": "legitimate", "note": "\ud800"},
        "body.note",
    ),
    (
        "notifications",
        "POST",
        "/v1/suppressions",
        MANAGER,
        {"address": "nul@example.com", "detail": "asked\x00"},
        "body.detail",
    ),
    (
        "notifications",
        "POST",
        "/v1/suppressions/lookup",
        MANAGER,
        {"address": "n\x00l@example.com"},
        "body.address",
    ),
]


@pytest.mark.parametrize("service, method, url, key, body, field", BODIES)
async def test_control_characters_in_a_body_answer_422(
    harness: Harness,
    pipeline: dict[str, Any],
    service: str,
    method: str,
    url: str,
    key: str,
    body: dict[str, Any],
    field: str,
) -> None:
    r = await _call(harness, pipeline, service, method, url, key, body)
    assert_problem(r, 422, field)


async def test_tabs_and_line_breaks_stay_allowed_in_free_text(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    body = {"entity_type": "seller", "entity_id": uid("S"), "reason": "line one\n\tline two\r\n"}
    r = await _call(harness, pipeline, "fraud", "POST", "/v1/watchlist", MANAGER, body)
    assert r.status_code == 201, r.text


# --- chunked bodies over the limit ----------------------------------------------------------

CHUNKED = [
    ("intake", "/v1/returns", MARKETPLACE),
    ("intake", "/v1/webhooks/swiftship", ADMIN),
    ("reconciliation", "/v1/policies", MANAGER),
    ("fraud", "/v1/watchlist", MANAGER),
    ("notifications", "/v1/suppressions", MANAGER),
]


@pytest.mark.parametrize("service, url, key", CHUNKED)
async def test_a_chunked_body_over_the_limit_answers_413(
    harness: Harness, pipeline: dict[str, Any], service: str, url: str, key: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"pad": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    client = pipeline[service].client
    headers = {**harness.key(key), "content-type": "application/json"}
    r = await client.post(url, content=chunks(), headers=headers)
    assert "content-length" not in r.request.headers
    assert_problem(r, 413)


# --- numbers and dates with bounds ----------------------------------------------------------

BOUNDS = [
    ("reconciliation", "/v1/cases?max_age_hours=1e12", MANAGER, "query.max_age_hours"),
    ("reconciliation", "/v1/cases?min_age_hours=1e12", MANAGER, "query.min_age_hours"),
    ("reconciliation", "/v1/cases?max_age_hours=inf", MANAGER, "query.max_age_hours"),
    ("reconciliation", "/v1/cases?min_age_hours=nan", MANAGER, "query.min_age_hours"),
    ("reconciliation", "/v1/reports/management-pack?week_of=9999-12-31", MANAGER, "query.week_of"),
    ("reconciliation", "/v1/reports/management-pack?week_of=0001-01-01", MANAGER, "query.week_of"),
    (
        "reconciliation",
        "/v1/reports/kpis?start=0001-01-01T00:00:00Z&end=2026-01-01T00:00:00Z",
        MANAGER,
        "query.start",
    ),
    (
        "reconciliation",
        "/v1/reports/kpis?start=2026-01-01T00:00:00Z&end=9999-12-31T23:59:59Z",
        MANAGER,
        "query.end",
    ),
    (
        "reconciliation",
        "/v1/reports/recurring-problems?as_of=9999-12-31T23:59:59Z",
        MANAGER,
        "query.as_of",
    ),
    (
        "reconciliation",
        "/v1/ledger/partners/swiftship/statement"
        "?period_start=0001-01-01T00:00:00Z&period_end=2026-01-01T00:00:00Z",
        MANAGER,
        "query.period_start",
    ),
    # Cursors: only what a page handed out, and never a key past what the database holds.
    ("fraud", "/v1/alerts?cursor=not-a-cursor", MANAGER, "query.cursor"),
    ("fraud", f"/v1/watchlist?cursor={encode_cursor([10**25])}", MANAGER, "query.cursor"),
    ("intake", f"/v1/escalations?cursor={encode_cursor(['x', 'y'])}", PORTAL, "query.cursor"),
    ("intake", "/v1/returns/RET-1/events?cursor=e30", MANAGER, "query.cursor"),
    ("reconciliation", f"/v1/cases?cursor={encode_cursor([1, 2])}", MANAGER, "query.cursor"),
    ("notifications", "/v1/messages?case_id=C-1&cursor=%21", MANAGER, "query.cursor"),
    ("notifications", "/v1/suppressions?cursor=W10", MANAGER, "query.cursor"),
    # A key in digits of another script: int() would read "١٢" as 12.
    ("fraud", f"/v1/watchlist?cursor={encode_cursor(['١٢'])}", MANAGER, "query.cursor"),
    ("fraud", f"/v1/watchlist?cursor={encode_cursor(['１２'])}", MANAGER, "query.cursor"),
]


@pytest.mark.parametrize("service, url, key, field", BOUNDS)
async def test_numbers_and_dates_past_their_bounds_answer_422(
    harness: Harness, pipeline: dict[str, Any], service: str, url: str, key: str, field: str
) -> None:
    r = await _call(harness, pipeline, service, "GET", url, key)
    assert_problem(r, 422, field)


async def test_a_row_id_past_bigint_answers_422(harness: Harness, pipeline: dict[str, Any]) -> None:
    r = await _call(
        harness, pipeline, "fraud", "DELETE", "/v1/watchlist/99999999999999999999", MANAGER
    )
    assert_problem(r, 422, "path.entry_id")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"from": "0001-01-01T00:00:00Z"}, "body.from"),
        ({"to": "9999-12-31T23:59:59Z"}, "body.to"),
        ({"from": 0}, "body.from"),
    ],
)
async def test_what_if_dates_past_their_bounds_answer_422(
    harness: Harness, pipeline: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    r = await _call(
        harness, pipeline, "reconciliation", "POST", "/v1/policies/sop-v1/what-if", MANAGER, body
    )
    assert_problem(r, 422, field)


# --- money is strict integer paise ----------------------------------------------------------

NOT_PAISE = [True, "249900", 249900.0, -1, 10**20]


def _refund() -> dict[str, Any]:
    return {
        "refund_id": uid("RF"),
        "return_id": uid("RET"),
        "order_id": uid("O"),
        "amount": 1000,
        "issued_at": "2026-01-02T10:00:00Z",
    }


def _partner() -> dict[str, Any]:
    return {
        "partner_id": uid("p").lower(),
        "display_name": "P",
        "scheme": "swiftship",
        "liability_cap": 100000,
        "secret": "s" * 32,
    }


MONEY = [
    ("/v1/returns", MARKETPLACE, lambda: return_body(), "item_value"),
    ("/v1/refunds", MARKETPLACE, _refund, "amount"),
    ("/v1/escalations", PORTAL, lambda: escalation_body(uid("RET")), "claimed_amount"),
    ("/v1/admin/partners", ADMIN, _partner, "liability_cap"),
]


@pytest.mark.parametrize("value", NOT_PAISE, ids=repr)
@pytest.mark.parametrize("url, key, make, field", MONEY)
async def test_money_that_is_not_integer_paise_answers_422(
    harness: Harness,
    pipeline: dict[str, Any],
    url: str,
    key: str,
    make: Any,
    field: str,
    value: Any,
) -> None:
    body = {**make(), field: value}
    r = await _call(harness, pipeline, "intake", "POST", url, key, body)
    assert_problem(r, 422, f"body.{field}")


# --- timestamps: aware, plausible -----------------------------------------------------------


def _with_captured_at(value: Any) -> dict[str, Any]:
    body = escalation_body(uid("RET"))
    body["evidence"][0]["captured_at"] = value
    return body


TIMESTAMPS = [
    ("/v1/returns", MARKETPLACE, lambda: {**return_body(), "initiated_at": 0}, "initiated_at"),
    (
        "/v1/returns",
        MARKETPLACE,
        lambda: {**return_body(), "initiated_at": "1999-12-31T23:59:59Z"},
        "initiated_at",
    ),
    (
        "/v1/returns",
        MARKETPLACE,
        lambda: {**return_body(), "initiated_at": "2999-01-01T00:00:00Z"},
        "initiated_at",
    ),
    (
        "/v1/refunds",
        MARKETPLACE,
        lambda: {**_refund(), "issued_at": "9999-12-31T23:59:59Z"},
        "issued_at",
    ),
    (
        "/v1/escalations",
        PORTAL,
        lambda: _with_captured_at("9999-12-31T23:59:59Z"),
        "evidence.0.captured_at",
    ),
    ("/v1/escalations", PORTAL, lambda: _with_captured_at(0), "evidence.0.captured_at"),
]


@pytest.mark.parametrize("url, key, make, field", TIMESTAMPS)
async def test_implausible_timestamps_answer_422(
    harness: Harness, pipeline: dict[str, Any], url: str, key: str, make: Any, field: str
) -> None:
    r = await _call(harness, pipeline, "intake", "POST", url, key, make())
    assert_problem(r, 422, f"body.{field}")


async def test_evidence_added_later_has_the_same_bounds(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    item = {**escalation_body("RET-X")["evidence"][0], "captured_at": "9999-12-31T23:59:59Z"}
    r = await _call(
        harness,
        pipeline,
        "intake",
        "POST",
        "/v1/escalations/ESC-NONE/evidence",
        PORTAL,
        {"evidence": [item]},
    )
    assert_problem(r, 422, "body.evidence.0.captured_at")


def _days_ahead(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# Plausible instants (2000…2099) that lie ahead: a file sent as evidence was made before it was
# sent, so its capture time is a past fact, as a return's initiation and a refund's issue are.
FUTURE_PAST_FACTS = [
    (
        "/v1/returns",
        MARKETPLACE,
        lambda: {**return_body(), "initiated_at": _days_ahead(3)},
        "initiated_at",
    ),
    (
        "/v1/refunds",
        MARKETPLACE,
        lambda: {**_refund(), "issued_at": "2099-01-01T00:00:00Z"},
        "issued_at",
    ),
    (
        "/v1/escalations",
        PORTAL,
        lambda: _with_captured_at(_days_ahead(3)),
        "evidence.0.captured_at",
    ),
    (
        "/v1/escalations",
        PORTAL,
        lambda: _with_captured_at("2099-01-01T00:00:00Z"),
        "evidence.0.captured_at",
    ),
]


@pytest.mark.parametrize("url, key, make, field", FUTURE_PAST_FACTS)
async def test_a_past_fact_dated_ahead_answers_422_naming_it(
    harness: Harness, pipeline: dict[str, Any], url: str, key: str, make: Any, field: str
) -> None:
    r = await _call(harness, pipeline, "intake", "POST", url, key, make())
    doc = assert_problem(r, 422, f"body.{field}")
    assert "future" in json.dumps(doc["errors"]), doc


async def test_evidence_captured_ahead_is_refused_and_nothing_is_added(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """Was 201: an item \"captured\" in 2099 (or days ahead) was stored and published with the
    escalation, the desk shown a capture after the delivery it disputes."""
    return_id = uid("RET")
    await feed_return(pipeline["intake"], harness, return_id)
    filed = await _call(
        harness, pipeline, "intake", "POST", "/v1/escalations", PORTAL, escalation_body(return_id)
    )
    assert filed.status_code == 201, filed.text
    escalation_id = filed.json()["escalation_id"]
    for at in ("2099-01-01T00:00:00Z", _days_ahead(2)):
        item = {**escalation_body(return_id)["evidence"][0], "captured_at": at}
        r = await _call(
            harness,
            pipeline,
            "intake",
            "POST",
            f"/v1/escalations/{escalation_id}/evidence",
            PORTAL,
            {"evidence": [item]},
        )
        assert_problem(r, 422, "body.evidence.0.captured_at")
    # Within the day of clock skew every past fact allows, an item is taken.
    item = {**escalation_body(return_id)["evidence"][0], "captured_at": _days_ahead(0)}
    r = await _call(
        harness,
        pipeline,
        "intake",
        "POST",
        f"/v1/escalations/{escalation_id}/evidence",
        PORTAL,
        {"evidence": [item]},
    )
    assert r.status_code == 201, r.text
    read = await _call(
        harness, pipeline, "intake", "GET", f"/v1/escalations/{escalation_id}", PORTAL
    )
    assert [e["captured_at"] < "2027" for e in read.json()["evidence"]] == [True, True]


# --- unknown fields -------------------------------------------------------------------------

UNKNOWN = [
    ("notifications", "/v1/suppressions", {"address": "x@example.com", "reasn": "complaint"}),
    ("notifications", "/v1/suppressions/lookup", {"address": "x@example.com", "adress": "y"}),
    ("fraud", "/v1/alerts/00000000-0000-0000-0000-000000000000/acknowledge", {"nte": "typo"}),
    ("reconciliation", "/v1/policies/sop-v1/what-if", {"form": "2026-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize("service, url, body", UNKNOWN)
async def test_unknown_fields_answer_422(
    harness: Harness, pipeline: dict[str, Any], service: str, url: str, body: dict[str, Any]
) -> None:
    r = await _call(harness, pipeline, service, "POST", url, MANAGER, body)
    doc = assert_problem(r, 422)
    unknown = next(k for k in body if k not in ("address",))
    assert f"body.{unknown}" in [e["field"] for e in doc["errors"]], doc


@pytest.mark.parametrize("service, url, body", UNKNOWN)
async def test_a_body_of_thousands_of_unknown_keys_is_answered_with_a_bounded_list(
    harness: Harness, pipeline: dict[str, Any], service: str, url: str, body: dict[str, Any]
) -> None:
    """Was 422 listing every key: 80,000 unknown keys (0.87 MB) answered 5.3 MB, on every
    service. Now at most MAX_LISTED_ERRORS are listed and `errors_total` counts them all."""
    from shared.problems import MAX_LISTED_ERRORS

    many = {**body, **{f"k{i}": 1 for i in range(900)}}
    r = await _call(harness, pipeline, service, "POST", url, MANAGER, many)
    doc = assert_problem(r, 422)
    assert len(doc["errors"]) == MAX_LISTED_ERRORS, len(doc["errors"])
    assert doc["errors_total"] >= 900, doc["errors_total"]
    assert f"{doc['errors_total']} failing fields in all" in doc["detail"], doc["detail"]
    assert "body.k0" in doc["detail"], doc["detail"]
    assert len(r.content) < 16_000, len(r.content)


@pytest.mark.parametrize("service, url, body", UNKNOWN)
async def test_an_object_of_more_members_than_any_request_holds_is_refused_before_validation(
    harness: Harness, pipeline: dict[str, Any], service: str, url: str, body: dict[str, Any]
) -> None:
    """Was validated member by member: 80,000 unknown keys cost about two seconds of CPU to
    list, on every service. Now an object of more than MAX_MEMBERS members is refused at once."""
    from shared.validation import MAX_MEMBERS

    many = {**body, **{f"k{i}": 1 for i in range(MAX_MEMBERS + 1)}}
    r = await _call(harness, pipeline, service, "POST", url, MANAGER, many)
    doc = assert_problem(r, 422)
    assert [e["field"] for e in doc["errors"]] == ["body"], doc["errors"]
    (error,) = doc["errors"]
    assert f"holds {len(many)} members; at most {MAX_MEMBERS}" in str(error), error
    assert len(r.content) < 2_000, len(r.content)


# --- free-form data -------------------------------------------------------------------------


@pytest.mark.parametrize("depth, status", [(40, 422), (5000, 400)])
async def test_deeply_nested_free_form_data_is_refused(
    harness: Harness, pipeline: dict[str, Any], depth: int, status: int
) -> None:
    # 40 levels parse but are refused by the request model; 5000 cannot even be parsed.
    changes = '{"a":' * depth + "1" + "}" * depth
    body = ('{"version": "sop-deep-draft", "changes": ' + changes + "}").encode()
    r = await pipeline["reconciliation"].client.post(
        "/v1/policies",
        content=body,
        headers={**harness.key(MANAGER), "content-type": "application/json"},
    )
    assert_problem(r, status, "body.changes" if status == 422 else None)


async def test_nan_in_free_form_data_answers_422(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    body = b'{"version": "sop-nan-draft", "changes": {"windows": {"claim_window_h": NaN}}}'
    r = await pipeline["reconciliation"].client.post(
        "/v1/policies",
        content=body,
        headers={**harness.key(MANAGER), "content-type": "application/json"},
    )
    assert_problem(r, 422, "body.changes")


# --- a query parameter of one value sent twice ----------------------------------------------

REPEATED = [
    ("reconciliation", "/v1/cases?limit=20&limit=30", MANAGER, "query.limit"),
    ("reconciliation", "/v1/cases?seller_id=S-1&seller_id=S-2", MANAGER, "query.seller_id"),
    ("intake", "/v1/escalations?return_id=R-1&return_id=R-2", MANAGER, "query.return_id"),
    ("fraud", "/v1/alerts?entity_id=E-1&entity_id=E-2", MANAGER, "query.entity_id"),
    ("notifications", "/v1/messages?case_id=C-1&case_id=C-1", MANAGER, "query.case_id"),
]


@pytest.mark.parametrize("service, url, key, field", REPEATED)
async def test_a_query_parameter_sent_twice_answers_422(
    harness: Harness, pipeline: dict[str, Any], service: str, url: str, key: str, field: str
) -> None:
    # The route read the last copy; a proxy or the client's own code may read the first.
    r = await _call(harness, pipeline, service, "GET", url, key)
    doc = assert_problem(r, 422, field)
    assert "more than once" in doc["errors"][0]["message"]
