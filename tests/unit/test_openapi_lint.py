"""The OpenAPI lint: each service's document is valid OpenAPI (openapi-spec-validator) and keeps
the house rules a consumer relies on (docs/api.md). Redocly's linter needs Node, which the
project does not install; these rules cover what its recommended set checks that matters here,
plus our own: problem+json errors, examples that validate, one paging convention."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.support.routes import service_apps

ROOT = Path(__file__).resolve().parents[2]

SERVICES = ["intake", "fraud", "reconciliation", "notifications"]
PROBES = {"/healthz", "/readyz", "/metrics"}
PROBLEM_REF = "#/components/schemas/Problem"
# Bodies that are files, not data: there is nothing to show as an example.
BINARY = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
METHODS = {"get", "post", "put", "patch", "delete"}


def _doc(service: str) -> dict[str, Any]:
    return service_apps()[service].openapi()  # type: ignore[no-any-return]


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _valid(doc: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    # The document's components ride along so that `#/components/...` references resolve.
    validator = Draft202012Validator({**schema, "components": doc["components"]})
    return [e.message for e in validator.iter_errors(value)]


@pytest.mark.parametrize("service", SERVICES)
def test_the_document_is_valid_openapi(service: str) -> None:
    validate(_doc(service))


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_is_named_summarised_tagged_and_secured(service: str) -> None:
    doc = _doc(service)
    ops = _operations(doc)
    ids = Counter(op.get("operationId") for _, _, op in ops)
    assert [i for i, n in ids.items() if n > 1 or not i] == []
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert op.get("tags"), where
        if path in PROBES or path.startswith("/v1/webhooks/"):
            continue  # public probes; webhooks authenticate by their partner's signature
        assert op.get("security") == [{"bearerAuth": []}], where
        assert {"401", "403", "429"} <= set(op["responses"]), where


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_is_a_problem_document_with_an_example(service: str) -> None:
    doc = _doc(service)
    problem = doc["components"]["schemas"]["Problem"]
    assert "trace_id" in problem["properties"]
    checked = 0
    for path, method, op in _operations(doc):
        if path in PROBES:
            continue
        for status, answer in op["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            where = f"{method.upper()} {path} {status}"
            assert list(answer.get("content", {})) == ["application/problem+json"], where
            media = answer["content"]["application/problem+json"]
            assert media["schema"] == {"$ref": PROBLEM_REF}, where
            assert media["example"]["status"] == int(status), where
            assert _valid(doc, media["schema"], media["example"]) == [], where
            checked += 1
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in op["responses"], f"{method.upper()} {path}"
    assert checked > 0


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_body_and_main_response_has_an_example_that_validates(
    service: str,
) -> None:
    doc = _doc(service)
    for path, method, op in _operations(doc):
        bodies = [("request", op.get("requestBody", {}))]
        bodies += [(s, a) for s, a in op["responses"].items() if s.startswith("2")]
        for label, body in bodies:
            for media_type, media in body.get("content", {}).items():
                where = f"{method.upper()} {path} {label} {media_type}"
                if media_type in BINARY:
                    continue
                assert "example" in media or "examples" in media, where
                values = (
                    [media["example"]]
                    if "example" in media
                    else [e["value"] for e in media["examples"].values()]
                )
                for value in values:
                    assert value not in (None, {}, []), where
                    assert _valid(doc, media.get("schema", {}), value) == [], where


# What a generated example falls back to when it knows nothing of a field: a client copying the
# document would send it, and a reader learns nothing from it.
PLACEHOLDER = re.compile(r"EXAMPLE|^example$|^x+$|^string$|0123456789abcdef")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


@pytest.mark.parametrize("service", SERVICES)
def test_no_example_reads_as_a_placeholder(service: str) -> None:
    """Every example of a request, an answer or a parameter reads like the real thing: a field
    the generator knows nothing of fails here, and gets a value of its own in shared/examples.py
    or an `examples=` on its field."""
    doc = _doc(service)
    found = []
    for path, method, op in _operations(doc):
        media = [m for m in op.get("requestBody", {}).get("content", {}).values()]
        for answer in op["responses"].values():
            media += list(answer.get("content", {}).values())
        for m in media:
            for where, value in _strings(m.get("example")):
                if PLACEHOLDER.search(value):
                    found.append(f"{method.upper()} {path} {where} = {value!r}")
        for parameter in op.get("parameters", []):
            example = parameter.get("example", parameter.get("schema", {}).get("example"))
            if isinstance(example, str) and PLACEHOLDER.search(example):
                found.append(f"{method.upper()} {path} {parameter['name']} = {example!r}")
    assert found == [], "\n".join(found)


def test_no_event_example_reads_as_a_placeholder() -> None:
    """The same for the events' examples (the AsyncAPI document shares the generator)."""
    document = json.loads((ROOT / "docs" / "asyncapi.json").read_text())
    found = [
        f"{where} = {value!r}"
        for where, value in _strings(document)
        if ".examples[" in where and PLACEHOLDER.search(value)
    ]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("service", SERVICES)
def test_every_list_pages_the_same_way(service: str) -> None:
    """A list answers {items, next}, takes `limit` and `cursor`, and links the next page."""
    doc = _doc(service)
    schemas = doc["components"]["schemas"]
    lists = 0
    for path, method, op in _operations(doc):
        where = f"{method.upper()} {path}"
        query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert not query & {"offset", "page", "next_cursor"}, where
        ok = op["responses"].get("200", {}).get("content", {}).get("application/json", {})
        ref = ok.get("schema", {}).get("$ref", "")
        shape = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else ok.get("schema", {})
        items = shape.get("properties", {}).get("items", {})
        paged = items.get("type") == "array" or "cursor" in query
        if not paged:
            assert shape.get("type") != "array" or path == "/v1/templates" or method != "get", where
            continue
        lists += 1
        assert {"limit", "cursor"} <= query, where
        assert "next" in shape["properties"], where
        assert "Link" in op["responses"]["200"].get("headers", {}), where
    assert lists > 0 or service == "fraud"


def patterns(node: Any) -> list[str]:
    """Every `pattern` of a JSON Schema (or OpenAPI / AsyncAPI document), however deep."""
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for value in node.values() for p in patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in patterns(value)]
    return []


@pytest.mark.parametrize("service", SERVICES)
def test_every_pattern_takes_ascii_digits_and_letters_only(service: str) -> None:
    """Ids, months, dates and codes are ASCII: `\\d` and `\\w` take the digits and letters of
    every script ("٢٠٢٦-١٢" would be a month), which the code reading the value then reads as
    ASCII ones, or not at all. `[0-9]` and `[A-Za-z0-9_]` say what is meant."""
    found = patterns(_doc(service))
    assert found
    assert [p for p in found if "\\d" in p or "\\w" in p] == []
