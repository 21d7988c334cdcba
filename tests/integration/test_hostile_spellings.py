"""One thing spelled another way, and numbers and instants at their limits, as a hostile client
sends them to the real stack; the body fields are found in the four OpenAPI documents
(`test_hostile_sweep.OPERATIONS`), so a new route is probed the day it is added.

- An instant or a day written as digits in quotes (`"1795690000"`, `"1795690000000"`) was read
  by pydantic as seconds or milliseconds since 1970 (choosing by size) and accepted as that
  moment, though the same number unquoted was refused; an offset no place keeps (`+14:30`,
  `-23:59`) was taken, where a partner's is refused. Each is refused naming the field, however
  deep in the body.
- An e-mail address in compatibility characters (fullwidth `ｓｅｌｌｅｒ@…`) was accepted as
  another mailbox than the one it shows; one written decomposed (e + U+0301) was stored beside
  its composed twin in a seller's directory entry. Refused naming the field, and kept composed.
- A partner's identifiers (event id, AWB, return reference, hub, agent) in fullwidth or
  decomposed characters were another scan, another shipment or another hub; a risk lookup of
  `ＳＥＬ-1` answered for an entity nobody has. Read in one spelling (NFKC), they are the same.
- A pasted byte-order mark at the start of free text is trimmed as whitespace is (inside the
  text it is still refused).
- The console's risk search made an address of a malformed entity id, and its partner
  statement took `partner_id` as any text: both answer the console's 422 page naming the field.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import Harness
from tests.integration.test_hostile_boundaries import _webhook
from tests.integration.test_hostile_console import Console, console  # noqa: F401
from tests.integration.test_hostile_sweep import OPERATIONS, Operation, _key, _send, _url, check
from tests.support.db import rows, scalar
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
from tests.support.services import RunningService
from tests.support.signing import rapidroute_headers, swiftship_headers

PROBLEM = "application/problem+json"

_INSTANT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")

# What pydantic read as a moment since 1970, choosing seconds or milliseconds by size. (No body
# holds a day; `tests/unit/test_spellings.py` reads one.)
INSTANT_AS_NUMBER = ["1795690000", "1795690000000", "1795690000.5", "0"]
OFFSETS_NO_PLACE_KEEPS = ["+14:30", "-23:59", "+2300"]


def fullwidth(text: str) -> str:
    """ASCII letters, digits and signs as their fullwidth forms (U+FF01…U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _set(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(body)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def _field(path: tuple[Any, ...]) -> str:
    return ".".join(["body", *(str(p) for p in path)])


def _example_leaves(
    pattern: re.Pattern[str], named: re.Pattern[str] | None = None
) -> list[tuple[Operation, tuple[Any, ...]]]:
    """Each (operation, leaf) whose published example holds a string of the pattern's shape (in
    a field so `named`, when given: a secret may look like an address)."""
    return [
        (op, path)
        for op in OPERATIONS
        if isinstance(op.example, dict)
        for path, value in _leaves(op.example)
        if isinstance(value, str) and pattern.match(value)
        if named is None or any(isinstance(p, str) and named.search(p) for p in path)
    ]


INSTANT_LEAVES = _example_leaves(_INSTANT)
EMAIL_LEAVES = _example_leaves(_EMAIL, re.compile(r"email|contact|address"))


def _ids(leaves: list[tuple[Operation, tuple[Any, ...]]]) -> list[str]:
    return [f"{op.id} {_field(path)}" for op, path in leaves]


def test_the_sweeps_find_their_fields() -> None:
    found = {(op.path, _field(path)) for op, path in INSTANT_LEAVES + EMAIL_LEAVES}
    assert ("/v1/returns", "body.initiated_at") in found, found
    assert ("/v1/escalations", "body.evidence.0.captured_at") in found, found
    assert ("/v1/escalations", "body.seller_email") in found, found
    assert any(p.startswith("/v1/sellers/") for p, _ in found), found
    assert TEXT_FIELDS, "no free-text field found"


async def _refused(
    harness: Harness,
    pipeline: dict[str, RunningService],
    op: Operation,
    body: Any,
    field: str,
    what: str,
) -> dict[str, Any]:
    headers = {**_key(harness, op), "content-type": "application/json"}
    r = await _send(pipeline[op.service].client, op.method, _url(op), headers=headers, json=body)
    doc = check(r, what, named=field)
    assert r.status_code == 422, (op.id, what, r.status_code, r.text[:400])
    assert doc is not None
    return doc


# --- 1. instants and days written as numbers in quotes ---------------------------------------


@pytest.mark.parametrize(("op", "path"), INSTANT_LEAVES, ids=_ids(INSTANT_LEAVES))
async def test_an_instant_written_as_a_number_in_quotes_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation, path: tuple[Any, ...]
) -> None:
    for value in INSTANT_AS_NUMBER:
        body = _set(op.example, path, value)
        doc = await _refused(harness, pipeline, op, body, _field(path), f"{_field(path)}={value}")
        messages = [e["message"] for e in doc["errors"] if e["field"] == _field(path)]
        assert any("RFC 3339" in m for m in messages), (op.id, value, doc)
    # An offset no place keeps (RFC 3339 and Python take up to ±23:59), as partners are held to.
    instant = op.example
    for step in path:
        instant = instant[step]
    for offset in OFFSETS_NO_PLACE_KEEPS:
        value = instant[:19] + offset
        body = _set(op.example, path, value)
        doc = await _refused(harness, pipeline, op, body, _field(path), f"{_field(path)}={value}")
        messages = [e["message"] for e in doc["errors"] if e["field"] == _field(path)]
        assert any("±14:00" in m for m in messages), (op.id, value, doc)


async def test_a_return_initiated_at_a_number_in_quotes_is_not_recorded(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """The feed's own instant, end to end: refused, and no return is recorded."""
    intake = pipeline["intake"]
    rid = uid("RET")
    r = await intake.client.post(
        "/v1/returns",
        json=return_body(rid, initiated_at="1795690000"),
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["body.initiated_at"], r.text
    assert await scalar(intake, "SELECT count(*) FROM returns WHERE return_id = :r", r=rid) == 0


# --- 2. an e-mail address in one spelling ------------------------------------------------------


@pytest.mark.parametrize(("op", "path"), EMAIL_LEAVES, ids=_ids(EMAIL_LEAVES))
async def test_an_address_in_compatibility_characters_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation, path: tuple[Any, ...]
) -> None:
    for value in (fullwidth("seller") + "@example.com", "seller@" + fullwidth("example") + ".com"):
        body = _set(op.example, path, value)
        doc = await _refused(harness, pipeline, op, body, _field(path), f"{_field(path)}={value}")
        messages = [e["message"] for e in doc["errors"] if e["field"] == _field(path)]
        assert any("compatibility form" in m for m in messages), (op.id, value, doc)


async def test_a_directory_keeps_one_address_however_it_is_composed(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    notifications = pipeline["notifications"]
    seller = uid("S")
    composed = "jos\u00e9@example.com"
    decomposed = "jose\u0301@example.com"
    r = await notifications.client.put(
        f"/v1/sellers/{seller}",
        json={"emails": [composed, decomposed, composed.upper()]},
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert r.status_code in (200, 201), r.text
    assert r.json()["emails"] == [composed], r.text
    # Asked for decomposed alone, the directory holds it composed.
    r = await notifications.client.put(
        f"/v1/sellers/{seller}",
        json={"emails": [decomposed]},
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert r.status_code in (200, 201), r.text
    assert r.json()["emails"] == [composed], r.text


# --- 3. a partner's identifiers in one spelling -----------------------------------------------


async def _scans(intake: RunningService, return_id: str) -> list[Any]:
    return await rows(
        intake,
        "SELECT partner_event_id, payload->>'awb', payload->>'hub_id', payload->>'agent_id' "
        "FROM shipment_events WHERE return_id = :r ORDER BY recorded_at",
        r=return_id,
    )


async def test_a_partner_id_spelled_in_other_code_points_is_the_same_id(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    ret = await feed_return(intake, harness, partner_id="rapidroute", awb=uid("RR"))
    rid, awb = ret["return_id"], ret["awb"]
    event_id = uid("evt")
    hub = "DEL-\u00c9KH-02"  # É composed
    first = rapidroute_event(
        rid, "RPU", event_id=event_id, awb=awb, agent="AG-1", location={"hub": hub, "city": "X"}
    )
    secret = harness.secrets["RAPIDROUTE_SECRET"]

    async def send(events: list[dict[str, Any]]) -> Any:
        body = rapidroute_batch(events)
        return await intake.client.post(
            "/v1/webhooks/rapidroute", content=body, headers=rapidroute_headers(secret, body)
        )

    r = await send([first])
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    # The same scan, each id typed in fullwidth by an input method and the hub decomposed.
    again = {
        **first,
        "id": fullwidth(event_id),
        "shipment": {"awb": fullwidth(awb), "ref": fullwidth(rid)},
        "agent": fullwidth("AG-1"),
        "location": {"hub": unicodedata.normalize("NFD", hub), "city": "X"},
    }
    r = await send([again])
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1), r.text
    # A new scan so spelled is stored in the one spelling, on the same shipment.
    later = {**again, "id": fullwidth(uid("evt")), "status_code": "RDL"}
    r = await send([later])
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    scans = await _scans(intake, rid)
    assert len(scans) == 2, scans
    assert scans[1] == (unicodedata.normalize("NFKC", later["id"]), awb, hub, "AG-1"), scans

    sret = await feed_return(intake, harness)
    body = swiftship_event(
        sret["return_id"], hub=fullwidth("BLR-HSR-01"), agent=unicodedata.normalize("NFD", "AGÉ")
    )
    headers = swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg"))
    r = await intake.client.post("/v1/webhooks/swiftship", content=body, headers=headers)
    assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
    assert (await _scans(intake, sret["return_id"]))[0][2:] == ("BLR-HSR-01", "AG\u00c9")


@pytest.mark.parametrize(
    ("entity_type", "asked", "stored"),
    [
        ("hub", "HUB-E\u0301", "HUB-\u00c9"),
        ("seller", fullwidth("SEL-1"), "SEL-1"),
        ("agent", fullwidth("AG-7781"), "AG-7781"),
    ],
)
async def test_a_risk_lookup_spelled_otherwise_is_the_entity_stored(
    harness: Harness,
    pipeline: dict[str, RunningService],
    entity_type: str,
    asked: str,
    stored: str,
) -> None:
    r = await pipeline["fraud"].client.get(
        f"/v1/risk/{entity_type}/{quote(asked, safe='')}",
        headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["entity_id"] == stored, r.text


# --- 4. a pasted byte-order mark at the start of free text ------------------------------------

TEXT_FIELDS = [
    (op, name)
    for op in OPERATIONS
    if op.body is not None and isinstance(op.example, dict)
    for name, schema in (op.body.get("properties") or {}).items()
    if isinstance(schema, dict)
    and r"\S" in {schema.get("pattern"), *(a.get("pattern") for a in schema.get("anyOf", []))}
    and isinstance(op.example.get(name), str)
]


@pytest.mark.parametrize(
    ("op", "name"), TEXT_FIELDS, ids=[f"{op.id} body.{name}" for op, name in TEXT_FIELDS]
)
async def test_a_byte_order_mark_pasted_before_free_text_is_trimmed(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation, name: str
) -> None:
    headers = {**_key(harness, op), "content-type": "application/json"}
    body = {**op.example, name: "\ufeff" + op.example[name]}
    r = await _send(pipeline[op.service].client, op.method, _url(op), headers=headers, json=body)
    if r.status_code >= 400:  # an acceptance echoes what was sent (the example's address)
        check(r, f"body.{name} after a byte-order mark")
    if r.status_code == 422:
        fields = [e["field"] for e in r.json()["errors"]]
        assert f"body.{name}" not in fields, (op.id, name, r.text[:400])


async def test_a_description_after_a_byte_order_mark_is_stored_without_it(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    rid = (await feed_return(intake, harness))["return_id"]
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid, description="\ufeff Cracked screen.\ufeff"),
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
    # Inside the text it still hides what the text says.
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(uid("RET"), description="Cracked\ufeff screen."),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert r.status_code == 422, r.text
    assert "U+FEFF" in {e["field"]: e["message"] for e in r.json()["errors"]}["body.description"]


# --- 5. the console's forms -------------------------------------------------------------------

MALFORMED_ENTITY_IDS = ["x" * 65, "HUB\u200b1", "HUB\x071", "S\u202e1"]


@pytest.mark.parametrize("entity_id", MALFORMED_ENTITY_IDS, ids=["65", "zwsp", "bel", "rlo"])
async def test_the_consoles_risk_search_refuses_a_malformed_id_naming_it(
    console: Console,  # noqa: F811
    entity_id: str,
) -> None:
    r = await console.submit("GET", "/fraud/risk", {"entity_type": "hub", "entity_id": entity_id})
    assert r.status_code == 422, (r.status_code, r.headers.get("location"), r.text[:300])
    assert "query.entity_id" in r.text, r.text[:500]


async def test_the_consoles_risk_search_goes_to_the_entity_in_its_one_spelling(
    console: Console,  # noqa: F811
) -> None:
    r = await console.submit(
        "GET", "/fraud/risk", {"entity_type": "seller", "entity_id": fullwidth("S-DEMO-1")}
    )
    assert r.status_code == 303, r.text[:300]
    assert r.headers["location"] == "/fraud/risk/seller/S-DEMO-1"


@pytest.mark.parametrize("partner_id", ["swift ship", "..", "x" * 65, fullwidth("swiftship")])
async def test_the_consoles_partner_statement_refuses_a_malformed_partner_naming_it(
    console: Console,  # noqa: F811
    partner_id: str,
) -> None:
    r = await console.submit("GET", "/reports/statement", {"partner_id": partner_id})
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert "query.partner_id" in r.text, r.text[:500]


# --- 6. a partner in other letter case than the registry's -------------------------------------


@pytest.mark.parametrize("spelled", ["SwiftShip", "SWIFTSHIP", "swiftShip"])
async def test_the_feed_refuses_a_registered_partner_in_other_letter_case(
    harness: Harness, pipeline: dict[str, RunningService], spelled: str
) -> None:
    intake = pipeline["intake"]
    rid = uid("RET")
    for keyed in ({}, {"Idempotency-Key": uid("k")}):
        r = await intake.client.post(
            "/v1/returns",
            json=return_body(rid, partner_id=spelled),
            headers={**harness.key("DISPUTEDESK_KEY_MARKETPLACE"), **keyed},
        )
        doc = check(r, f"partner_id={spelled}", named="body.partner_id")
        assert r.status_code == 422, r.text
        assert doc is not None and "'swiftship'" in doc["detail"], doc
    assert await scalar(intake, "SELECT count(*) FROM returns WHERE return_id = :r", r=rid) == 0
    # A partner the registry holds in no spelling is still an unknown partner, as before.
    r = await intake.client.post(
        "/v1/returns",
        json=return_body(rid, partner_id=uid("newpartner").lower()),
        headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
    )
    assert r.status_code == 202, r.text


async def test_the_registry_refuses_a_partner_in_other_letter_case_of_one_it_holds(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    [op] = [o for o in OPERATIONS if o.method == "POST" and o.path == "/v1/admin/partners"]
    intake = pipeline["intake"]
    partner = uid("fastlane").lower()
    headers = {**_key(harness, op), "content-type": "application/json"}
    r = await intake.client.post(
        "/v1/admin/partners", json={**op.example, "partner_id": partner}, headers=headers
    )
    assert r.status_code == 201, r.text
    r = await intake.client.post(
        "/v1/admin/partners", json={**op.example, "partner_id": partner.upper()}, headers=headers
    )
    doc = check(r, "a partner in upper case")
    assert r.status_code == 409, r.text
    assert doc is not None and doc["errors"][0]["field"] == "body.partner_id", doc
    count = "SELECT count(*) FROM partners WHERE lower(partner_id) = :p"
    assert await scalar(intake, count, p=partner) == 1


# --- 7. a key twice in a partner's body ---------------------------------------------------------


async def test_a_partner_body_holding_a_key_twice_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """The desk's own APIs refused a key twice; a partner's body was read by its last copy while
    the archive and the partner's log hold both. Each format, at the top and deep in a batch."""
    intake = pipeline["intake"]
    ret = await feed_return(intake, harness)
    rid, awb = ret["return_id"], ret["awb"]
    swift = json.dumps(json.loads(swiftship_event(rid, awb=awb)), separators=(",", ":"))
    swift = swift.replace(f'"awb":"{awb}"', f'"awb":"{awb}","awb":"OTHER-AWB"').encode()
    rret = await feed_return(intake, harness, partner_id="rapidroute", awb=uid("RR"))
    batch = rapidroute_batch(
        [
            rapidroute_event(rret["return_id"], "RPU", awb=rret["awb"]),
            rapidroute_event(rret["return_id"], awb=rret["awb"]),
        ]
    ).replace(b'"status_code":"RDL"', b'"status_code":"RDL","status_code":"RTO"')
    dret = await feed_return(intake, harness, partner_id="desipost", awb=uid("DP"))
    snapshot = desipost_snapshot(
        dret["return_id"], dret["awb"], [("PICKED UP", "24-11-2026 15:42:10")]
    ).replace(b'"location": "Kolkata_Hub"', b'"location": "Kolkata_Hub", "location": "Elsewhere"')
    cases = [
        ("swiftship", swift, "body.awb", rid),
        ("rapidroute", batch, "body.events.1.status_code", rret["return_id"]),
        ("desipost", snapshot, "body.scans.0.location", dret["return_id"]),
    ]
    for partner, body, field, return_id in cases:
        assert body.count(field.rsplit(".", 1)[-1].encode()) >= 2, (partner, body)
        r = await _webhook(harness, intake, partner, body, webhook_id=uid("msg"))
        assert r.status_code == 422, (partner, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert [e["field"] for e in r.json()["errors"]] == [field], (partner, r.text)
        assert await _scans(intake, return_id) == [], (partner, "a scan was stored")


@pytest.mark.parametrize(
    ("page", "field"),
    [
        ("/reports/statement?partner_id=swiftship&start=2026-13-01", "query.start"),
        ("/reports/statement?partner_id=swiftship&end=20261201", "query.end"),
        ("/reports/statement?partner_id=swiftship&format=pdf", "query.format"),
        ("/reports?start=2026-W48-1", "query.start"),
        ("/reports/kpis.json?end=2026-02-30", "query.end"),
        ("/reports/pack?week_of=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-12-01", "query.week_of"),
    ],
)
async def test_the_consoles_reports_refuse_a_day_they_cannot_read_naming_it(
    console: Console,  # noqa: F811
    page: str,
    field: str,
) -> None:
    """A malformed day fell back to the default period silently: the page or download showed
    another period than the one asked for."""
    r = await console.request("GET", page)
    assert r.status_code == 422, (page, r.status_code, r.text[:300])
    assert field in r.text, (page, r.text[:500])
