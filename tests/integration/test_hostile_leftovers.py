"""What a hostile client still got through after the spellings' sweep, on the real stack.

- An instant in a query string (the recurring-problems report's `as_of`, the KPI report's
  `start`/`end`, a partner statement's period) took an offset no place keeps (`+14:01`,
  `-23:59`), where a request body's instant is refused: every query instant the OpenAPI
  documents list is now held to ±14:00 as the bodies' are, at the bound exactly too.
- The console read a form field given twice (`csrf_token`, a note, a reason, the sign-in key)
  by its last copy, and a query parameter given twice (`/fraud?status=open&status=closed`,
  a report's `start`) too, where the services refuse both: the console's 422 page names it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.conftest import Harness
from tests.integration.test_hostile_console import Console, _a_case, _forms, console  # noqa: F401
from tests.integration.test_hostile_spellings import INSTANT_LEAVES, _field, _ids, _set
from tests.integration.test_hostile_sweep import OPERATIONS, Operation, _key, _send, _url, check
from tests.support.factories import uid
from tests.support.services import RunningService

BEYOND = ["+14:01", "-14:01", "+14:30", "-23:59"]
AT_THE_BOUND = ["+14:00", "-14:00", "-12:00"]
# Values for the other parameters of an operation probed on one query instant.
QUERY_VALUES = {
    "start": "2026-11-01T00:00:00Z",
    "end": "2026-11-08T00:00:00Z",
    "period_start": "2026-11-01T00:00:00Z",
    "period_end": "2026-11-08T00:00:00Z",
    "as_of": "2026-11-08T00:00:00Z",
}
PATH_VALUES = {"partner_id": "swiftship"}


def _query_instants() -> list[tuple[Operation, str]]:
    return [
        (op, name)
        for op in OPERATIONS
        for name, schema in op.query.items()
        if "'date-time'" in repr(schema)
    ]


QUERY_INSTANTS = _query_instants()


def test_the_sweep_finds_the_query_instants() -> None:
    found = {(op.path, name) for op, name in QUERY_INSTANTS}
    assert ("/v1/reports/recurring-problems", "as_of") in found, found
    assert ("/v1/reports/kpis", "start") in found, found
    assert ("/v1/ledger/partners/{partner_id}/statement", "period_end") in found, found


async def _ask(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation, name: str, value: str
) -> Any:
    path = op.path
    for param in op.path_params:
        path = path.replace(f"{{{param}}}", PATH_VALUES[param])
    query = {n: QUERY_VALUES[n] for n, s in op.query.items() if n in QUERY_VALUES}
    query[name] = QUERY_VALUES[name][:19] + value
    url = f"{path}?{urlencode(query, quote_via=quote)}"
    return await _send(pipeline[op.service].client, op.method, url, headers=_key(harness, op))


@pytest.mark.parametrize(
    ("op", "name"), QUERY_INSTANTS, ids=[f"{op.id} query.{n}" for op, n in QUERY_INSTANTS]
)
async def test_a_query_instant_is_held_to_the_offsets_places_keep(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation, name: str
) -> None:
    for offset in BEYOND:
        r = await _ask(harness, pipeline, op, name, offset)
        doc = check(r, f"query.{name} at {offset}", named=f"query.{name}")
        assert r.status_code == 422, (op.id, offset, r.text[:400])
        assert doc is not None
        messages = [e["message"] for e in doc["errors"] if e["field"] == f"query.{name}"]
        assert any("±14:00" in m for m in messages), (op.id, offset, doc)
    for offset in AT_THE_BOUND:
        r = await _ask(harness, pipeline, op, name, offset)
        check(r, f"query.{name} at {offset}")
        assert r.status_code == 200, (op.id, offset, r.text[:400])


@pytest.mark.parametrize(("op", "path"), INSTANT_LEAVES, ids=_ids(INSTANT_LEAVES))
async def test_a_body_instant_at_the_bound_is_taken_and_a_minute_past_it_refused(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation, path: tuple[Any, ...]
) -> None:
    instant = op.example
    for step in path:
        instant = instant[step]
    headers = {**_key(harness, op), "content-type": "application/json"}
    client = pipeline[op.service].client
    for offset in ("+14:01", "-14:01"):
        body = _set(op.example, path, instant[:19] + offset)
        r = await _send(client, op.method, _url(op), headers=headers, json=body)
        doc = check(r, f"{_field(path)} at {offset}", named=_field(path))
        assert r.status_code == 422, (op.id, offset, r.text[:400])
    for offset in ("+14:00", "-12:00"):
        body = _set(op.example, path, instant[:19] + offset)
        r = await _send(client, op.method, _url(op), headers=headers, json=body)
        doc = check(r, f"{_field(path)} at {offset}")
        # Taken as an instant: a 409 may still name it (the same return sent at another time).
        named = [e["field"] for e in (doc or {}).get("errors", []) if r.status_code == 422]
        assert _field(path) not in named, (op.id, offset, doc)


# --- the console: a field given twice -----------------------------------------------------------


def _refused_naming(r: Any, field: str, what: str) -> None:
    assert r.status_code == 422, (what, r.status_code, r.text[:400])
    assert field in r.text, (what, r.text[:600])


async def test_every_console_form_refuses_a_field_given_twice_naming_it(
    harness: Harness,
    pipeline: dict[str, RunningService],
    console: Console,  # noqa: F811
) -> None:
    case_id = await _a_case(harness, pipeline)
    pages = ["/", f"/cases/{case_id}", "/sop", "/sop/sop-v1", "/fraud", "/reports"]
    probed = 0
    for page in pages:
        r = await console.request("GET", page)
        assert r.status_code == 200, (page, r.text[:300])
        for method, action, fields in _forms(r.text):
            target = action or page
            if method != "POST" or target == "/sign-out":
                continue
            for name in fields:
                pairs = [*fields.items(), (name, fields[name] or "second")]
                encoded = urlencode(pairs)
                r = await console.request(
                    "POST",
                    target,
                    content=encoded,
                    headers_extra={"content-type": "application/x-www-form-urlencoded"},
                )
                _refused_naming(r, f"body.{name}", f"POST {target} {name} twice")
                probed += 1
    assert probed > 20, probed  # the pages' forms were found
    # Nothing was acted on: the case's page shows no note, task or hold from the probe.
    r = await console.request("GET", f"/cases/{case_id}")
    assert r.status_code == 200


async def test_the_sign_in_form_refuses_a_key_given_twice(
    harness: Harness,
    pipeline: dict[str, RunningService],
    console: Console,  # noqa: F811
) -> None:
    token = await console.csrf("/sign-in")
    manager = harness.secrets["DISPUTEDESK_KEY_OPS_MANAGER"]
    agent = harness.secrets["DISPUTEDESK_KEY_OPS_AGENT"]
    encoded = urlencode([("key", agent), ("key", manager), ("csrf_token", token)])
    r = await console.request(
        "POST",
        "/sign-in",
        content=encoded,
        headers_extra={"content-type": "application/x-www-form-urlencoded"},
    )
    _refused_naming(r, "body.key", "the sign-in key twice")


@pytest.mark.parametrize(
    "url, field",
    [
        ("/fraud?status=open&status=closed", "query.status"),
        ("/reports?start=2026-11-01&start=2026-10-01", "query.start"),
        ("/reports/statement?partner_id=swiftship&partner_id=desipost", "query.partner_id"),
        ("/?state=OPEN&state=CLOSED", "query.state"),
        ("/fraud/risk?entity_type=seller&entity_id=S-1&entity_id=S-2", "query.entity_id"),
    ],
)
async def test_a_console_page_refuses_a_query_parameter_given_twice(
    console: Console,  # noqa: F811
    url: str,
    field: str,
) -> None:
    r = await console.request("GET", url)
    _refused_naming(r, field, url)


# --- a registered partner in other letter case, in the registry's own filters ------------------


@pytest.mark.parametrize("spelled", ["SwiftShip", "SWIFTSHIP"])
async def test_the_registrys_filters_refuse_a_partner_in_other_letter_case(
    harness: Harness, pipeline: dict[str, RunningService], spelled: str
) -> None:
    """The list of unmapped statuses answered an empty page and a replay 200 "nothing
    replayed" for `SwiftShip`, as if swiftship had nothing waiting."""
    intake = pipeline["intake"]
    admin = harness.key("DISPUTEDESK_KEY_ADMIN")
    r = await intake.client.get(f"/v1/admin/unmapped-statuses?partner_id={spelled}", headers=admin)
    doc = check(r, f"unmapped statuses of {spelled}", named="query.partner_id")
    assert r.status_code == 422, r.text
    assert doc is not None and "'swiftship'" in doc["detail"], doc
    r = await intake.client.post(
        "/v1/admin/replay",
        json={"partner_id": spelled},
        headers={**admin, "Idempotency-Key": uid("k")},
    )
    doc = check(r, f"replay of {spelled}", named="body.partner_id")
    assert r.status_code == 422, r.text
    # As registered, both are answered.
    r = await intake.client.get("/v1/admin/unmapped-statuses?partner_id=swiftship", headers=admin)
    assert r.status_code == 200, r.text
    r = await intake.client.post(
        "/v1/admin/replay", json={"partner_id": "swiftship"}, headers=admin
    )
    assert r.status_code == 200, r.text
