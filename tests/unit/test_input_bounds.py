"""Money and addresses a caller sends are held to one rule per kind, whatever the route:
generated from every published request example, so a new body's amount or address is covered
the day it is added.

- An amount claimed, owed, paid or valued (`PositivePaise`) is at least one paisa: a claim of 0
  was accepted, opened a case and wrote to the seller about ₹0.00.
- Any paise a caller sends (`SentPaise`, `PositivePaise`) is at most ₹10 crore
  (`MAX_SENT_PAISE`): 10^11 paise claimed on an item of 249,900 was accepted.
- An evidence address is https without credentials (`EvidenceUrl`): `http://…` and
  `https://user:pw@…` were stored, published and shown on the console; a callback address
  carries no credentials either (`CallbackUrl`).
"""

from __future__ import annotations

from typing import Any

import pytest

from services.console.cases.router import _evidence
from services.reconciliation.policy.service import build_draft
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.problems import Problem
from shared.validation import MAX_SENT_PAISE
from tests.unit.test_json_types import BODIES, _errors, _leaves, _with

# Amounts that mean something claimed, owed, paid or valued: never 0.
OWED = {"claimed_amount", "amount", "item_value"}
# Paise that may be 0 (a partner bearing no liability; an UPHELD ruling reversing nothing).
MAY_BE_NOTHING = {"liability_cap", "reversed_amount"}
MONEY = OWED | MAY_BE_NOTHING

AMOUNTS = [
    (name, route, example, path)
    for name, route, example in BODIES
    for path, value in _leaves(example)
    if path and path[-1] in MONEY and isinstance(value, int)
]
ADDRESSES = [
    (name, route, example, path)
    for name, route, example in BODIES
    for path, value in _leaves(example)
    if path and path[-1] in {"uri", "url"} and isinstance(value, str)
]


def _names(errors: list[dict[str, Any]], path: tuple[Any, ...]) -> bool:
    return any(tuple(e["loc"][1 : 1 + len(path)]) == path for e in errors)


def test_the_examples_hold_every_kind_of_amount_and_address() -> None:
    assert {str(p[-1]) for *_, p in AMOUNTS} == MONEY
    routes = {name for name, *_ in ADDRESSES}
    assert any("escalations" in r and "evidence" not in r for r in routes), routes
    assert any(r.endswith("/evidence") for r in routes), routes
    assert any("contest" in r for r in routes), routes
    assert any("partner-endpoints" in r for r in routes), routes


@pytest.mark.parametrize(
    ("name", "route", "example", "path"),
    AMOUNTS,
    ids=[f"{a[0]} {'.'.join(map(str, a[3]))}" for a in AMOUNTS],
)
def test_an_amount_is_bounded_naming_its_field(
    name: str, route: Any, example: Any, path: tuple[Any, ...]
) -> None:
    assert _errors(route, _with(example, path, MAX_SENT_PAISE)) == [], (name, path)
    for beyond in (MAX_SENT_PAISE + 1, 10**11, 10**13, -1):
        assert _names(_errors(route, _with(example, path, beyond)), path), (name, path, beyond)
    nothing = _errors(route, _with(example, path, 0))
    if path[-1] in OWED:
        assert _names(nothing, path), (name, path, "a claim of nothing accepted")
        assert _errors(route, _with(example, path, 1)) == [], (name, path)
    else:
        assert not _names(nothing, path), (name, path, nothing)


@pytest.mark.parametrize(
    ("name", "route", "example", "path"),
    ADDRESSES,
    ids=[f"{a[0]} {'.'.join(map(str, a[3]))}" for a in ADDRESSES],
)
def test_an_address_carries_no_credentials_and_evidence_is_https(
    name: str, route: Any, example: Any, path: tuple[Any, ...]
) -> None:
    assert _errors(route, _with(example, path, "https://files.example/a/b.jpg")) == []
    for refused in (
        "https://user:secret@files.example/a.jpg",
        "https://user@files.example/a.jpg",
        "https://:secret@files.example/a.jpg",
        "javascript:alert(1)",
        "file:///etc/passwd",
    ):
        assert _names(_errors(route, _with(example, path, refused)), path), (name, refused)
    plain = _errors(route, _with(example, path, "http://files.example/a.jpg"))
    if path[-1] == "uri":
        assert _names(plain, path), (name, path, "http evidence accepted")
        for inward in (
            "https://127.0.0.1:8004/metrics",
            "https://[::1]/a.jpg",
            "https://localhost/a",
        ):
            assert _names(_errors(route, _with(example, path, inward)), path), (name, inward)
    else:
        # A partner's receiver may be inside the operator's network; the notice is signed.
        assert plain == [], (name, path, plain)


def test_the_refusal_names_the_evidence_item() -> None:
    [(_, route, example, path)] = [a for a in ADDRESSES if a[0] == "intake POST /v1/escalations"]
    [error] = _errors(route, _with(example, path, "http://files.example/a.jpg"))
    assert error["loc"] == ("body", "evidence", 0, "uri")
    assert "https" in error["msg"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"approval_cap_paise": -1}, "changes.approval_cap_paise"),
        ({"approval_cap_paise": 10**18}, "changes.approval_cap_paise"),
        ({"unknown_partner_cap_paise": -5}, "changes.unknown_partner_cap_paise"),
        ({"partner_caps_paise": {"swiftship": 10**11}}, "changes.partner_caps_paise.swiftship"),
        (
            {"settlement_holds": {"finance_confirmation_above_paise": 10**11}},
            "changes.settlement_holds.finance_confirmation_above_paise",
        ),
    ],
)
def test_a_policy_cap_is_bounded_as_any_paise_sent(change: dict[str, Any], field: str) -> None:
    with pytest.raises(Problem) as caught:
        build_draft(SOP_V1, version="v-bounds", changes=change)
    assert caught.value.status == 422
    errors = caught.value.extra["errors"]
    assert field in [e["field"] for e in errors], errors
    assert build_draft(SOP_V1, version="v-ok", changes={"approval_cap_paise": 0})


def test_the_console_links_only_https_evidence_without_credentials() -> None:
    """Rows stored before intake refused them still render: as text that says why, never as
    an `href` (no `javascript:`, no credential on screen)."""
    uris = [
        "https://files.example/a.jpg",
        "http://files.example/b.jpg",
        "https://user:pw@files.example/c.jpg",
        "javascript:alert(1)",
    ]
    case = {
        "facts": {
            "escalations": [
                {
                    "filed_at": "2026-11-24T10:00:00Z",
                    "evidence": [{"kind": "PHOTO", "uri": u} for u in uris],
                }
            ]
        }
    }
    items = _evidence(case, frozenset({"https://files.example"}))
    assert [i["link"] for i in items] == [uris[0], None, None, None]
    assert [i["image"] for i in items] == [True, False, False, False]


EMAILS = [
    (name, route, example, path)
    for name, route, example in BODIES
    for path, value in _leaves(example)
    if isinstance(value, str) and "@" in value and "email" in ".".join(map(str, path))
]
IDS = [
    (name, route, example, path)
    for name, route, example in BODIES
    for path, value in _leaves(example)
    if path and str(path[-1]).endswith("_id") and isinstance(value, str)
]


def test_the_examples_hold_addresses_and_ids() -> None:
    assert {str(p[0]) for *_, p in EMAILS} >= {"seller_email", "emails"}, EMAILS
    assert {"return_id", "seller_id"} <= {str(p[-1]) for *_, p in IDS}


@pytest.mark.parametrize(
    ("name", "route", "example", "path"),
    EMAILS,
    ids=[f"{a[0]} {'.'.join(map(str, a[3]))}" for a in EMAILS],
)
def test_an_email_address_names_a_reachable_domain(
    name: str, route: Any, example: Any, path: tuple[Any, ...]
) -> None:
    for fine in ("seller@example.com", "a.b+c@mail-1.example.in", "user@exämple.भारत"):
        assert _errors(route, _with(example, path, fine)) == [], (name, fine)
    for refused in ("a@b..c", "a@b.c.", "a@-b.c", "a@b-.c", "a@.b.c", "a@b"):
        assert _names(_errors(route, _with(example, path, refused)), path), (name, refused)


@pytest.mark.parametrize(
    ("name", "route", "example", "path"),
    IDS,
    ids=[f"{a[0]} {'.'.join(map(str, a[3]))}" for a in IDS],
)
def test_an_id_of_dots_alone_is_refused(
    name: str, route: Any, example: Any, path: tuple[Any, ...]
) -> None:
    """`..` as a return id was accepted and held for a return no URL path can name."""
    for refused in ("..", "."):
        assert _names(_errors(route, _with(example, path, refused)), path), (name, refused)
    # An id whose own form is narrower (a rule id `L11`) keeps it; the others take dots inside.
    if path[-1] != "rule_id":
        assert _errors(route, _with(example, path, "RET-1.2")) == [], name


def test_a_what_if_window_ending_before_it_starts_is_refused_naming_to() -> None:
    [(_, route, example)] = [b for b in BODIES if b[0].endswith("/what-if")]
    body = {**example, "from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    errors = _errors(route, body)
    assert [e["loc"] for e in errors] == [("body", "to")], errors
    assert _errors(route, {**body, "to": "2026-12-02T00:00:00Z"}) == []
