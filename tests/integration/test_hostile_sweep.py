"""A systematic hostile sweep, generated from what each service publishes: every operation of
the four services' OpenAPI documents (and every page of the desk console's route table) gets a
set of bad inputs made from its own parameters and body schema, and the seller routes get a
foreign seller's key on another seller's objects. Nothing is listed by hand, so a new route, a
new query parameter or a new body field is attacked the day it is added.

What each answer must be, whatever the input:
- never a 5xx;
- a refusal is RFC 9457 problem+json with `type`, `title`, `status` (the answer's own) and a
  `detail`, a 422 naming the field it refuses (`errors[].field` and the detail), written by the
  one problem path (`shared.problems.problem_bytes`: compact, whoever answers);
- nothing leaked: no stack trace, no database or driver text, no e-mail address, no key;
- a foreign seller is refused as if the object did not exist, and nothing is stored for it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from services.console.app import create_app as create_console
from services.console.settings import ConsoleSettings
from shared.access import api_routes, route_access
from shared.auth import Role
from shared.problems import problem_bytes
from tests.conftest import Harness
from tests.integration.test_hostile_client import _nothing
from tests.support.console import console_client
from tests.support.factories import escalation_body
from tests.support.feed import feed_return
from tests.support.keys import DUTY_KEYS, add_key
from tests.support.patient import patiently
from tests.support.routes import service_apps
from tests.support.services import RunningService

PROBLEM = "application/problem+json"

# What no answer may carry: a Python or database trace, a driver's own words, an address or a
# phone number (the only personal data the product holds), a key.
LEAKS = re.compile(
    r"Traceback|File \"/|asyncpg|sqlalchemy|psycopg|SQLSTATE|pydantic_core|"
    r"\bSELECT\b|\bINSERT INTO\b|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}|"
    r"\+91[0-9]{10}|Bearer [A-Za-z0-9_-]{8,}"
)


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    roles: tuple[str, ...]
    path_params: tuple[str, ...]
    query: dict[str, dict[str, Any]] = field(hash=False)
    body: dict[str, Any] | None = field(hash=False)  # the JSON body's schema, refs resolved
    example: Any = field(hash=False, default=None)

    @property
    def id(self) -> str:
        return f"{self.service} {self.method} {self.path}"


def _resolve(doc: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """The schema with its `$ref`s followed (to a few levels: enough to know each field's type)."""
    if depth > 4 or not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _resolve(doc, doc["components"]["schemas"][name], depth + 1)
    return {k: _resolve(doc, v, depth + 1) if k != "examples" else v for k, v in schema.items()}


def _operations() -> list[Operation]:
    out = []
    for service, app in service_apps().items():
        doc = app.openapi()
        roles = {(r.method, r.path): tuple(sorted(r.roles or ())) for r in route_access(app)}
        for path, item in doc["paths"].items():
            if not path.startswith("/v1/"):
                continue
            for method, op in item.items():
                if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    continue
                params = op.get("parameters", [])
                content = (op.get("requestBody") or {}).get("content", {})
                json_body = content.get("application/json")
                out.append(
                    Operation(
                        service=service,
                        method=method.upper(),
                        path=path,
                        roles=roles.get((method.upper(), path), ()),
                        path_params=tuple(p["name"] for p in params if p["in"] == "path"),
                        query={
                            p["name"]: _resolve(doc, p.get("schema", {}))
                            for p in params
                            if p["in"] == "query"
                        },
                        body=_resolve(doc, json_body["schema"]) if json_body else None,
                        example=(json_body or {}).get("example"),
                    )
                )
    return out


OPERATIONS = _operations()


def _key(harness: Harness, op: Operation) -> dict[str, str]:
    """A key holding one of the operation's duties: every check after the role's is attacked."""
    if not op.roles:
        return {}
    return harness.key(DUTY_KEYS[Role(op.roles[0])])


async def _send(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """A sweep's request, sent patiently (`patiently`): the answer under test is its input's."""
    return await patiently(lambda: client.request(method, url, **kw))


def check(r: httpx.Response, what: str, *, named: str | None = None) -> dict[str, Any] | None:
    """The answer's shape, whatever the input; the problem document when it is a refusal."""
    assert r.status_code < 500, (what, r.status_code, r.text[:400])
    assert not LEAKS.search(r.text), (what, LEAKS.search(r.text), r.text[:400])
    if r.status_code < 400:
        return None
    assert r.headers["content-type"].startswith(PROBLEM), (what, r.headers, r.text[:300])
    doc: dict[str, Any] = r.json()
    assert r.content == problem_bytes(doc), (what, "not the one problem path", r.content[:300])
    assert isinstance(doc.get("type"), str) and doc["type"].startswith("https://"), (what, doc)
    assert isinstance(doc.get("title"), str) and doc["title"], (what, doc)
    assert doc.get("status") == r.status_code, (what, doc)
    assert isinstance(doc.get("detail"), str) and doc["detail"].strip(), (what, doc)
    if r.status_code == 422:
        fields = [e["field"] for e in doc.get("errors", [])]
        assert fields and all(isinstance(f, str) and f for f in fields), (what, doc)
        assert any(f in doc["detail"] for f in fields), (what, "detail names no field", doc)
        if named is not None:
            assert any(named in f for f in fields), (what, named, doc)
    return doc


# --- generated bad inputs -------------------------------------------------------------------

PATH_VALUES = [
    "%00",
    "%ff%fe",
    "a%00b",
    "x" * 600,
    "%E2%80%AE1-TER",  # a right-to-left override
    "..%2F..%2Fv1",
    "%D9%A3%D9%A4",  # Arabic-Indic digits
    "%F0%9F%98%80",
    "%20",
    "null",
]

CURSORS = ["%00%ff", "not-a-cursor", "eyJ9", "A" * 2000, "%E2%80%AE", "e30", "-1"]


def _query_values(schema: dict[str, Any]) -> list[str]:
    """Values a parameter of this type must refuse or survive: its wrong types, its edges."""
    text = json.dumps(schema)
    values = ["%00", "%ff", "", "x" * 3000, "%D0%85", "%E2%80%AE"]
    if '"integer"' in text or '"number"' in text:
        values += ["abc", "1.5", "-1", "0", "1e999", "9" * 40, "%D9%A3", "NaN"]
    if '"date-time"' in text or '"date"' in text:
        values += ["2026-13-45", "9999-12-31T23:59:59", "0001-01-01T00:00:00Z", "yesterday"]
    if '"boolean"' in text:
        values += ["maybe", "2"]
    if '"enum"' in text:
        values += ["NOT_A_VALUE", "open"]
    return values


RAW_BODIES: dict[str, tuple[str, bytes]] = {
    "no body": ("application/json", b""),
    "null": ("application/json", b"null"),
    "an array": ("application/json", b"[]"),
    "a string": ("application/json", b'"x"'),
    "a number": ("application/json", b"1"),
    "cut off": ("application/json", b'{"a": '),
    "deep": ("application/json", b"[" * 5000),
    "duplicate keys": ("application/json", b'{"a": 1, "a": 2}'),
    "a NUL key": ("application/json", b'{"a\\u0000": 1}'),
    "not UTF-8": ("application/json", b'{"a": "\xff\xfe"}'),
    "plain text": ("text/plain", b"{}"),
    "a form": ("application/x-www-form-urlencoded", b"a=1"),
    "multipart": ("multipart/form-data; boundary=x", b"--x--\r\n"),
    "UTF-16": ("application/json; charset=utf-16", '{"a": 1}'.encode("utf-16")),
    "no type": ("", b"{}"),
}

# Spellings a lax reader takes for a query value of the type, and JSON's spelling does not: each
# answers 422 naming the parameter, before the route reads anything.
LAX_QUERY: dict[str, list[str]] = {
    "integer": ["1.0", "%2B5", "%205", "1_0", "true"],
    "number": ["1_0", "inf", "%202", "true"],
    "boolean": ["yes", "on", "1", "t", "TRUE"],
    "date-time": ["1795690000", "1795690000.5"],
}

# Values of another JSON type that a lax reader would coerce into the field's type ("12" read as
# 12, 12.0 as 12, "true" and 1 as true, a number as an instant): each refused naming the field.
LAX_BODY: dict[str, list[Any]] = {
    "integer": ["12", 12.0],
    "number": ["1.5"],
    "boolean": ["true", 1],
    "date-time": [1795690000],
}


def _query_kind(schema: dict[str, Any]) -> str | None:
    text = json.dumps(schema)
    for kind in ("boolean", "integer", "number", "date-time"):
        if f'"{kind}"' in text:
            return kind
    return None


def _body_kind(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    alts = [schema, *(a for a in schema.get("anyOf", []) if isinstance(a, dict))]
    if any(a.get("format") == "date-time" for a in alts):
        return "date-time"
    return _type_of(schema)


# Values no lax reading turns into the type ("12" would be read as 12, "yes" as true).
WRONG_TYPES: dict[str, Any] = {
    "string": 12,
    "integer": "twelve",
    "number": "x",
    "boolean": "maybe",
    "array": {"not": "a list"},
    "object": ["not", "an", "object"],
}


def _type_of(schema: dict[str, Any]) -> str | None:
    if "type" in schema:
        return str(schema["type"])
    for alt in schema.get("anyOf", []):
        if isinstance(alt, dict) and alt.get("type") not in (None, "null"):
            return str(alt["type"])
    return None


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def _url(op: Operation) -> str:
    """The path with well-formed ids that name nothing (a UUID is a valid id of every kind)."""
    return _nothing(op.path)


@pytest.mark.parametrize("op", OPERATIONS, ids=[o.id for o in OPERATIONS])
async def test_every_operation_refuses_generated_bad_input_with_a_named_problem(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation
) -> None:
    client = pipeline[op.service].client
    key = _key(harness, op)
    body = b"{}" if op.body is not None else None
    json_headers = {**key, "content-type": "application/json"}

    # Credentials: none, forged, and a key of a duty the route does not take.
    for what, headers in (
        ("no key", {}),
        ("a forged key", {"Authorization": "Bearer dd_test_" + "A" * 43}),
        ("a key in another scheme", {"Authorization": "Basic YTpi"}),
    ):
        r = await _send(client, op.method, _url(op), headers=headers, content=body)
        doc = check(r, what)
        if op.roles:
            assert r.status_code == 401, (what, r.status_code, doc)
    # A role is a duty: every key holding none of the route's (admin is not a manager, a
    # partner or the marketplace is not the desk) is refused, not only the first of them.
    others = [role for role in DUTY_KEYS if role.value not in op.roles] if op.roles else []
    for other in others:
        r = await _send(
            client, op.method, _url(op), headers=harness.key(DUTY_KEYS[other]), content=body
        )
        assert check(r, f"a {other} key") and r.status_code == 403, (op.id, other, r.text)

    # Path parameters, one at a time.
    for name in op.path_params:
        for value in PATH_VALUES:
            url = op.path.replace("{" + name + "}", value)
            url = _nothing(url)
            r = await _send(client, op.method, url, headers=json_headers, content=body)
            check(r, f"path {name}={value[:20]}")

    # Query parameters, one at a time, then a repeated one and one the route does not take.
    for name, schema in op.query.items():
        values = CURSORS if name == "cursor" else _query_values(schema)
        for value in values:
            r = await _send(
                client, op.method, f"{_url(op)}?{name}={value}", headers=json_headers, content=body
            )
            check(r, f"query {name}={value[:20]}")
        r = await _send(
            client, op.method, f"{_url(op)}?{name}=1&{name}=2", headers=json_headers, content=body
        )
        check(r, f"query {name} twice")
        for value in LAX_QUERY.get(_query_kind(schema) or "", []) if op.roles else []:
            r = await _send(
                client, op.method, f"{_url(op)}?{name}={value}", headers=json_headers, content=body
            )
            check(r, f"query {name}={value} (a lax spelling)", named=f"query.{name}")
            assert r.status_code == 422, (op.id, name, value, r.status_code, r.text[:300])
    r = await _send(
        client, op.method, f"{_url(op)}?no_such_param=1", headers=json_headers, content=body
    )
    check(r, "an unknown query parameter")

    if op.body is None:
        return
    # Bodies that are not the JSON object asked for.
    for what, (content_type, raw) in RAW_BODIES.items():
        headers = {**key, "content-type": content_type} if content_type else dict(key)
        r = await _send(client, op.method, _url(op), headers=headers, content=raw)
        check(r, what)
        assert r.status_code >= 400, (what, r.status_code, r.text[:300])
    # Each top-level field of the schema, given a value of the wrong JSON type.
    base = copy.deepcopy(op.example) if isinstance(op.example, dict) else {}
    for name, schema in (op.body.get("properties") or {}).items():
        kind = _type_of(schema) if isinstance(schema, dict) else None
        if kind not in WRONG_TYPES:
            continue
        sent = {**base, name: WRONG_TYPES[kind]}
        r = await _send(client, op.method, _url(op), headers=json_headers, json=sent)
        doc = check(r, f"body.{name} of the wrong type")
        if r.status_code == 422:
            assert doc is not None and any(name in e["field"] for e in doc["errors"]), (name, doc)
    # Each top-level field given a value a lax reader would coerce into its type.
    for name, schema in (op.body.get("properties") or {}).items():
        for value in LAX_BODY.get(_body_kind(schema) or "", []):
            sent = {**base, name: value}
            r = await _send(client, op.method, _url(op), headers=json_headers, json=sent)
            doc = check(r, f"body.{name}={value!r} (coercible)")
            assert r.status_code >= 400, (op.id, name, value, r.status_code, r.text[:300])
            if r.status_code == 422:
                assert doc is not None and any(
                    e["field"] == f"body.{name}" for e in doc["errors"]
                ), (op.id, name, value, doc)


# Raw JSON numbers no JSON reader of ours may take for a number field: beyond int64, beyond a
# double (Python reads it as infinity), and the NaN/Infinity literals Python's reader accepts.
RAW_NUMBERS = ["18446744073709551616", "1e400", "-1e400", "NaN", "Infinity", "-Infinity"]
# Free-form nesting far deeper than any document of ours, under a field.
DEEP = "[" * 200 + "]" * 200


def _nullable(schema: Any) -> bool:
    return isinstance(schema, dict) and any(
        isinstance(a, dict) and a.get("type") == "null" for a in schema.get("anyOf", [])
    )


def _with_raw(base: dict[str, Any], name: str, raw: str) -> bytes:
    """The body with `name` set to `raw` as JSON text, which json.dumps could not write."""
    marker = f"__raw_{uuid.uuid4().hex}__"
    return json.dumps({**base, name: marker}).replace(f'"{marker}"', raw).encode()


@pytest.mark.parametrize(
    "op", [o for o in OPERATIONS if o.body is not None], ids=lambda o: str(o.id)
)
async def test_every_body_field_null_missing_unknown_huge_or_deep_is_refused_naming_it(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation
) -> None:
    """Each top-level field of the operation's body, from its schema: null where it may not be,
    left out where it is required, a member the schema does not have beside it (and inside it,
    when it is an object), numbers no column holds, nesting no document has. Each answers 422
    naming the field; nothing is a 5xx."""
    client = pipeline[op.service].client
    headers = {**_key(harness, op), "content-type": "application/json"}
    base = copy.deepcopy(op.example) if isinstance(op.example, dict) else {}
    assert op.body is not None
    properties: dict[str, Any] = op.body.get("properties") or {}
    required = set(op.body.get("required") or [])

    async def refused(what: str, content: bytes, named: str) -> None:
        r = await _send(client, op.method, _url(op), headers=headers, content=content)
        doc = check(r, what, named=named)
        assert r.status_code == 422, (op.id, what, r.status_code, r.text[:300])
        assert doc is not None

    for name, schema in properties.items():
        sent = {**base, name: None}
        r = await _send(client, op.method, _url(op), headers=headers, json=sent)
        assert r.status_code < 500, (op.id, name, "null", r.status_code, r.text[:300])
        if r.status_code >= 400:  # an acceptance echoes what was sent (the example's address)
            check(r, f"body.{name} null")
        if not _nullable(schema):
            assert r.status_code == 422, (op.id, name, "null", r.status_code, r.text[:300])
            check(r, f"body.{name} null", named=f"body.{name}")
        if name in required:
            rest = {k: v for k, v in base.items() if k != name}
            await refused(f"body.{name} left out", json.dumps(rest).encode(), f"body.{name}")
        kind = _type_of(schema) if isinstance(schema, dict) else None
        if kind in ("integer", "number"):
            for raw in RAW_NUMBERS:
                await refused(f"body.{name}={raw}", _with_raw(base, name, raw), f"body.{name}")
        if kind in ("object", "array"):
            r = await _send(
                client, op.method, _url(op), headers=headers, content=_with_raw(base, name, DEEP)
            )
            check(r, f"body.{name} nested 200 deep")
            assert r.status_code >= 400, (op.id, name, "deep", r.status_code, r.text[:300])
        if kind == "object" and isinstance(base.get(name), dict):
            inner = {**base, name: {**base[name], "no_such_member": 1}}
            r = await _send(client, op.method, _url(op), headers=headers, json=inner)
            check(r, f"body.{name}.no_such_member")
    await refused(
        "an unknown member", json.dumps({**base, "no_such_member": 1}).encode(), "no_such_member"
    )


GET_OPS = [o for o in OPERATIONS if o.method == "GET" and o.roles]


@pytest.mark.parametrize("op", GET_OPS, ids=[o.id for o in GET_OPS])
async def test_a_body_on_a_read_changes_nothing_of_its_answer(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation
) -> None:
    """A GET has no body to read (RFC 9110 §9.3.1): sent one anyway, of any kind, the read is
    answered as without it, never a 5xx."""
    client = pipeline[op.service].client
    key = _key(harness, op)
    plain = await _send(client, "GET", _url(op), headers=key)
    check(plain, "a read")
    for content_type, raw in (
        ("application/json", b'{"a": 1}'),
        ("application/json", b"[" * 5000),
        ("text/plain", b"\xff\xfe"),
    ):
        r = await _send(
            client, "GET", _url(op), headers={**key, "content-type": content_type}, content=raw
        )
        check(r, f"a read with a {content_type} body")
        assert r.status_code < 500, (op.id, r.status_code)


def test_the_sweep_reaches_every_service() -> None:
    """The document walk found routes of each service, bodies and query parameters: a broken
    walk would sweep nothing and pass."""
    assert {o.service for o in OPERATIONS} == set(service_apps())
    assert sum(1 for o in OPERATIONS if o.body is not None) >= 20
    assert sum(1 for o in OPERATIONS if "cursor" in o.query) >= 10
    assert sum(1 for o in OPERATIONS if o.path_params) >= 20


# --- a foreign seller on another seller's objects --------------------------------------------

SELLER_OPS = [o for o in OPERATIONS if Role.SELLER_PORTAL.value in o.roles]


@dataclass
class Owned:
    """A return and its escalation of one seller, and a key of another seller."""

    seller: str
    return_id: str
    escalation_id: str
    owner: dict[str, str]
    stranger: dict[str, str]


@pytest.fixture
async def owned(harness: Harness, pipeline: dict[str, RunningService]) -> AsyncIterator[Owned]:
    seller, other = f"S-OWN-{uuid.uuid4().hex[:6]}", f"S-FOE-{uuid.uuid4().hex[:6]}"
    owner = add_key(harness.env, f"portal.{seller}", [Role.SELLER_PORTAL.value], seller_id=seller)
    stranger = add_key(harness.env, f"portal.{other}", [Role.SELLER_PORTAL.value], seller_id=other)
    rid = (await feed_return(pipeline["intake"], harness, seller_id=seller))["return_id"]
    body = escalation_body(rid, seller_id=seller, seller_email=f"{seller.lower()}@example.com")
    for _ in range(50):  # the new keys are read when the keyring file changes
        r = await pipeline["intake"].client.post("/v1/escalations", json=body, headers=owner)
        if r.status_code != 401:
            break
        await asyncio.sleep(0.1)
    assert r.status_code in (201, 202), r.text
    yield Owned(seller, rid, r.json()["escalation_id"], owner, stranger)


def _owned_values(owned: Owned) -> dict[str, str]:
    return {
        "return_id": owned.return_id,
        "escalation_id": owned.escalation_id,
        "seller_id": owned.seller,
    }


def _as_owner(value: Any, owned: Owned) -> Any:
    """The operation's example with every id of the example replaced by the owner's."""
    values = _owned_values(owned)
    if isinstance(value, dict):
        return {k: values.get(k, _as_owner(v, owned)) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_owner(v, owned) for v in value]
    return value


@pytest.mark.parametrize("op", SELLER_OPS, ids=[o.id for o in SELLER_OPS])
async def test_a_foreign_seller_is_refused_on_another_sellers_objects_as_on_none(
    pipeline: dict[str, RunningService], owned: Owned, op: Operation
) -> None:
    """A seller's key on another seller's return or escalation (in the path or the body) is
    answered as the same request on an object that does not exist would be: no 2xx, nothing
    of the other seller's in the answer, and no different status that tells it exists."""
    client = pipeline[op.service].client
    values = _owned_values(owned)
    url = re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "NONE"), op.path)
    nowhere = re.sub(r"\{([^}]+)\}", lambda m: f"NONE-{uuid.uuid4().hex[:8]}", op.path)
    body = _as_owner(op.example, owned) if op.body is not None else None
    if op.method == "GET" and not op.path_params:
        # A list answers the asking seller's own objects: none of the other's, by any filter.
        # Each filter the list declares that names an object is given the other seller's, so
        # a filter added later is tried too; one naming an object the sweep owns none of fails
        # here until the sweep is taught it.
        filters = sorted(name for name in op.query if name.endswith("_id"))
        untaught = [name for name in filters if name not in values]
        assert not untaught, (op.id, "filters the sweep owns no object for", untaught)
        queries = ["", *(f"?{name}={values[name]}" for name in filters)]
        queries.append("?" + "&".join(f"{name}={values[name]}" for name in filters))
        for query in queries:
            listed = await _send(client, "GET", url + query, headers=owned.stranger)
            check(listed, f"a foreign seller's list{query}")
            assert owned.escalation_id not in listed.text, (op.id, query, listed.text[:300])
        mine = await _send(client, "GET", url, headers=owned.owner)
        assert owned.escalation_id in mine.text, (op.id, mine.text[:300])
        return
    foreign = await _send(client, op.method, url, headers=owned.stranger, json=body)
    check(foreign, "a foreign seller")
    assert foreign.status_code >= 400, (op.id, foreign.status_code, foreign.text[:300])
    for secret in (owned.seller.lower() + "@example.com", owned.escalation_id):
        if secret not in url and secret not in json.dumps(body):
            assert secret not in foreign.text, (op.id, secret, foreign.text[:300])
    if op.path_params:
        unknown = await _send(client, op.method, nowhere, headers=owned.stranger, json=body)
        check(unknown, "an unknown object")
        assert foreign.status_code == unknown.status_code, (
            op.id,
            foreign.status_code,
            unknown.status_code,
            foreign.text[:300],
        )
    # The owner itself still reads its own: the refusal was about who asked.
    if op.method == "GET":
        mine = await _send(client, op.method, url, headers=owned.owner)
        assert mine.status_code == 200, (op.id, mine.text[:300])


# --- the desk console -------------------------------------------------------------------------


@pytest.fixture
async def console(
    harness: Harness, pipeline: dict[str, RunningService]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    apps = {name: svc.app for name, svc in pipeline.items()}
    async with console_client(apps, harness.env["DISPUTEDESK_KEYRING_FILE"]) as client:
        page = await client.get("/sign-in")
        cookies = dict(page.cookies.items())
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        r = await client.post(
            "/sign-in",
            data={"key": harness.secrets["DISPUTEDESK_KEY_OPS_MANAGER"], "csrf_token": token[1]},
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
        )
        assert r.status_code == 303, r.text[:300]
        cookies.update(r.cookies.items())
        yield client, {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def _console_routes() -> list[tuple[str, str]]:
    app = create_console(ConsoleSettings())
    return sorted(
        {(m, r.path) for r in api_routes(app.routes) for m in (r.methods or ()) if m != "HEAD"}
    )


CONSOLE_ROUTES = _console_routes()


@pytest.mark.parametrize(
    "method, path", CONSOLE_ROUTES, ids=[f"{m} {p}" for m, p in CONSOLE_ROUTES]
)
async def test_every_console_page_survives_generated_bad_input(
    console: tuple[httpx.AsyncClient, dict[str, str]], method: str, path: str
) -> None:
    """Signed in as a manager: odd ids, odd query values and bodies of the wrong kind. The
    console answers with its own error page (HTML) or problem+json before any page, never a
    5xx, never a trace or anyone's address."""
    client, cookie = console
    urls = [_fill(path, v) for v in PATH_VALUES] if "{" in path else [path]
    urls += [f"{_fill(path, 'NONE')}?{q}" for q in ("cursor=%00%ff", "limit=-1", "state=%ff")]
    for url in urls:
        for headers, content in (
            (cookie, None),
            ({**cookie, "content-type": "application/json"}, b"[" * 3000),
            ({**cookie, "content-type": "application/x-www-form-urlencoded"}, b"a=%ff%00"),
        ):
            r = await _send(client, method, url, headers=headers, content=content)
            what = f"{method} {url[:60]} {headers.get('content-type', '')}"
            assert r.status_code < 500, (what, r.status_code, r.text[:400])
            assert not LEAKS.search(r.text), (what, LEAKS.search(r.text))
            if r.status_code >= 400 and r.headers["content-type"].startswith(PROBLEM):
                check(r, what)
