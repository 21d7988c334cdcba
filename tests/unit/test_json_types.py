"""Every JSON body of the four services is read with JSON's own types (`shared.validation.
JsonTypes`): a number sent as text, an integer as `12.0`, a boolean as `"true"` or `1`, text as a
number is refused naming the field, whatever the route. Generated from each route's published
example, so a new body or field is covered the day it is added."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any, get_origin

import pytest
from fastapi.routing import APIRoute

from shared.access import api_routes
from shared.validation import RequestModel
from tests.support.routes import service_apps


def _bodies() -> list[tuple[str, APIRoute, Any]]:
    out = []
    for service, app in service_apps().items():
        doc = app.openapi()
        for route in api_routes(app.router.routes):
            if route.body_field is None:
                continue
            for method in sorted(route.methods or ()):
                op = doc["paths"].get(route.path, {}).get(method.lower()) or {}
                content = (op.get("requestBody") or {}).get("content", {})
                example = content.get("application/json", {}).get("example")
                if example is not None:
                    out.append((f"{service} {method} {route.path}", route, example))
    return out


BODIES = _bodies()


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(body)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def _lax(value: Any) -> list[Any]:
    """What a lax reader turns into `value`'s type, and JSON does not."""
    if isinstance(value, bool):
        return ["true" if value else "false", int(value)]
    if isinstance(value, int):
        return [str(value), float(value)]
    if isinstance(value, float):
        return [str(value)]
    if isinstance(value, str):
        return [12, True]
    return []


def _free_form(route: APIRoute, name: Any) -> bool:
    assert route.body_field is not None
    model = route.body_field.field_info.annotation
    fields = getattr(model, "model_fields", {})
    return name in fields and get_origin(fields[name].annotation) is dict


def _errors(route: APIRoute, body: Any) -> list[dict[str, Any]]:
    assert route.body_field is not None
    result = route.body_field.validate(json.loads(json.dumps(body)), {}, loc=("body",))
    return list(result[1] or []) if isinstance(result, tuple) else []


def test_every_body_model_reads_json_types() -> None:
    assert len(BODIES) >= 30
    for _, route, _ in BODIES:
        assert route.body_field is not None
        model = route.body_field.field_info.annotation
        if isinstance(model, type) and issubclass(model, RequestModel):
            assert model.model_config.get("strict") is True, model


@pytest.mark.parametrize(("name", "route", "example"), BODIES, ids=[b[0] for b in BODIES])
def test_a_value_of_another_json_type_is_refused_naming_its_field(
    name: str, route: APIRoute, example: Any
) -> None:
    assert _errors(route, example) == [], (name, "the published example is refused")
    tried = 0
    for path, value in _leaves(example):
        if not path or isinstance(path[-1], int) and isinstance(value, str):
            continue  # an item of a list of text: its type is the list's
        if _free_form(route, path[0]):
            continue  # read by the service against its own model (a draft's changes, below)
        for lax in _lax(value):
            errors = _errors(route, _with(example, path, lax))
            assert errors, (name, path, repr(lax), "accepted")
            assert any(tuple(e["loc"][1 : 1 + len(path)]) == path for e in errors), (
                name,
                path,
                repr(lax),
                [e["loc"] for e in errors],
            )
            tried += 1
    assert tried or not _leaves(example)


def test_json_types_keep_what_json_carries_as_text_and_numbers() -> None:
    from pydantic import ValidationError

    from shared.validation import Instant, Paise

    class Probe(RequestModel):
        at: Instant
        amount: Paise
        hours: float
        flag: bool

    ok = Probe.model_validate({"at": "2026-11-24T10:00:00Z", "amount": 5, "hours": 2, "flag": True})
    assert ok.hours == 2.0 and ok.amount == 5
    for field, bad in (("at", 1_700_000_000), ("amount", "5"), ("hours", "2"), ("flag", 1)):
        body = {"at": "2026-11-24T10:00:00Z", "amount": 5, "hours": 2, "flag": True, field: bad}
        with pytest.raises(ValidationError) as caught:
            Probe.model_validate(body)
        assert [e["loc"] for e in caught.value.errors()] == [(field,)]


def test_a_policy_drafts_changes_are_read_with_json_types() -> None:
    """A draft's `changes` are free-form JSON in the body, read through the policy definition."""
    from services.reconciliation.policy.service import build_draft
    from services.reconciliation.policy.sop_v1 import SOP_V1
    from shared.problems import Problem

    ok = build_draft(SOP_V1, version="v-probe", changes={"windows": {"claim_window_h": 120}})
    assert ok.windows.claim_window_h == 120
    for lax in ("120", 120.0, True):
        with pytest.raises(Problem) as caught:
            build_draft(SOP_V1, version="v-probe", changes={"windows": {"claim_window_h": lax}})
        assert "changes.windows.claim_window_h" in str(caught.value.detail), lax


def test_every_scalar_query_parameter_has_one_spelling() -> None:
    """Each query parameter published as an integer, number, boolean or date(-time) is checked
    by its kind (`refuse_lax_query`): a parameter whose type the classifier missed would be read
    laxly again."""
    from shared.access import walk_dependencies
    from shared.validation import query_kind

    expected = {"integer": "integer", "number": "number", "boolean": "boolean"}
    seen = 0
    for app in service_apps().values():
        doc = app.openapi()
        for route in api_routes(app.router.routes):
            for method in route.methods or ():
                op = doc["paths"].get(route.path, {}).get(method.lower())
                if not op:
                    continue
                published = {
                    p["name"]: json.dumps(p.get("schema", {}))
                    for p in op.get("parameters", [])
                    if p["in"] == "query"
                }
                for dep in walk_dependencies(route.dependant):
                    for param in dep.query_params:
                        text = published[param.alias]
                        kind = query_kind(param.field_info.annotation)
                        for json_type, want in expected.items():
                            if f'"type": "{json_type}"' in text:
                                assert kind == want, (route.path, param.alias, kind, text)
                                seen += 1
                        if '"date-time"' in text:
                            assert kind == "instant", (route.path, param.alias, kind)
    assert seen >= 20
