"""Every path and query string parameter of the four OpenAPI documents says what a well-formed
value is (a pattern, an enum, a format), so that a malformed one is refused with a 422 naming the
parameter rather than looked up (an empty page, a 404, once a 500), and a client reading the
document knows it. Generated from the documents: a new parameter typed a bare `str` fails here
until it is given its domain type (`shared/lookups.py`) or listed below with why it is free text.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.routes import SERVICES, service_apps

# (service, path, name) -> why any text is a well-formed value.
FREE_TEXT = {
    ("reconciliation", "/v1/cases", "assignee"): "a person as the desk typed them when "
    "assigning (`AssignIn.assignee` is free text); the query matches it as written",
    ("reconciliation", "/v1/cases/{case_id}/report", "reason"): "why the report is read, "
    "printed on the report as written (`Text`: not blank, its pattern `\\S`)",
}

CONSTRAINTS = ("pattern", "enum", "format", "const")
# `Text`'s pattern says only "not blank": such a parameter is free text all the same.
NOT_BLANK = r"\S"


def constrained(schema: dict[str, Any]) -> bool:
    """The parameter says what a well-formed value is, beyond "any text that is not blank"."""
    return any(
        any(k in alt or k in schema for k in CONSTRAINTS)
        and NOT_BLANK not in (alt.get("pattern"), schema.get("pattern"))
        for alt in _strings(schema)
    )


def _strings(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The string alternatives of a parameter's schema (`anyOf` of a string and null)."""
    alts = schema.get("anyOf", [schema])
    return [a for a in alts if a.get("type") == "string"]


def _parameters() -> list[tuple[str, str, str, str, dict[str, Any]]]:
    found = []
    for service in SERVICES:
        doc = service_apps()[service].openapi()
        for path, item in doc["paths"].items():
            for method, op in item.items():
                for p in op.get("parameters", []):
                    if p["in"] in ("path", "query"):
                        found.append((service, method.upper(), path, p["name"], p["schema"]))
    return found


PARAMETERS = _parameters()


def test_the_documents_have_string_parameters_to_check() -> None:
    strings = [x for x in PARAMETERS if _strings(x[4])]
    assert {x[0] for x in strings} == set(SERVICES)
    assert len(strings) > 40


def test_every_path_and_query_string_is_constrained_or_named_free_text() -> None:
    loose = sorted(
        f"{service} {method} {path} {name}"
        for service, method, path, name, schema in PARAMETERS
        if _strings(schema) and not constrained(schema) and (service, path, name) not in FREE_TEXT
    )
    assert loose == []


def test_every_free_text_exemption_names_a_parameter() -> None:
    """An exemption outliving its parameter would hide nothing, but would no longer say why."""
    assert set(FREE_TEXT) <= {(s, p, n) for s, _, p, n, _ in PARAMETERS}


@pytest.mark.parametrize(
    ("service", "path", "name", "kind"),
    [
        ("fraud", "/v1/risk/{entity_type}/{entity_id}", "entity_id", "pattern"),
        ("fraud", "/v1/alerts", "pattern", "pattern"),
        ("reconciliation", "/v1/cases/{case_id}", "case_id", "pattern"),
        ("reconciliation", "/v1/policies/{version}", "version", "pattern"),
        ("reconciliation", "/v1/cases", "seller_id", "pattern"),
        ("notifications", "/v1/templates/{name}/preview", "name", "enum"),
        ("intake", "/v1/webhooks/{partner_id}", "partner_id", "pattern"),
    ],
)
def test_the_lookups_left_loose_before_carry_their_domain_type(
    service: str, path: str, name: str, kind: str
) -> None:
    schema = next(s for sv, _, p, n, s in PARAMETERS if (sv, p, n) == (service, path, name))
    assert any(kind in alt or kind in schema for alt in _strings(schema)), schema
