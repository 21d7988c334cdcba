"""`Accept` against the media types a route answers (`shared.negotiation`): RFC 9110 §12.4.2's
weights, the most specific range deciding, problem+json on a JSON route, what is ignored."""

from __future__ import annotations

import pytest

from shared.negotiation import acceptable, preferred

JSON_ROUTE = ("application/json",)
STATEMENT = ("application/json", "text/csv", "application/vnd.ms-excel")
REPORT = ("text/html",)


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "*/*",
        "*",
        "application/*",
        "application/json",
        "APPLICATION/JSON; charset=utf-8",
        "application/problem+json",
        "application/xml, application/json;q=0.1",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/json;q=abc",
        "nonsense",
    ],
)
def test_a_json_route_answers(accept: str | None) -> None:
    assert acceptable(accept, JSON_ROUTE)


@pytest.mark.parametrize(
    "accept",
    [
        "application/xml",
        "text/csv",
        "image/png",
        "text/*",
        "application/json;q=0",
        "*/*;q=0",
        "application/json;q=0, */*",
        "application/problem+json;q=0",
        "image/png, nonsense",
    ],
)
def test_a_json_route_refuses(accept: str) -> None:
    assert not acceptable(accept, JSON_ROUTE)


def test_a_route_of_several_types_answers_any_of_them() -> None:
    assert acceptable("text/csv", STATEMENT)
    assert acceptable("text/*", STATEMENT)
    assert not acceptable("image/png", STATEMENT)
    assert acceptable("text/html", REPORT)
    assert not acceptable("application/json", REPORT)
    assert not acceptable("application/problem+json", REPORT)  # a report is not JSON


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/html"),  # nothing asked: the first offered
        ("", "text/html"),
        ("*/*", "text/html"),  # a tie: the first offered
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("application/json", "application/json"),
        ("application/json, text/html;q=0.5", "application/json"),
        ("application/problem+json", "application/problem+json"),
        ("application/*;q=0.9, text/html;q=0.8", "application/problem+json"),
        ("image/png", None),
        ("text/html;q=0, application/json;q=0", None),
    ],
)
def test_the_preferred_type_is_the_one_weighed_highest(
    accept: str | None, chosen: str | None
) -> None:
    offered = ("text/html", "application/problem+json", "application/json")
    assert preferred(accept, offered) == chosen
