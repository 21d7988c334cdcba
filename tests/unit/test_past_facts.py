"""A time a caller reports for something that has already happened (a return initiated, a refund
issued, a file captured as evidence) is refused when it lies ahead, whatever the route: every
instant in every published request example is moved 30 days ahead, and only the fields that
name a time to come may take it. Generated from the examples, so a new body's past fact is held
to the rule the day it is added (evidence `captured_at` took any plausible instant, 2099
included, because the event contract's type bounds it only to 2000…2099)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.unit.test_json_types import BODIES, _errors, _leaves, _with

# Fields that name a time to come, by the last step of their path: when a rotated secret's
# overlap ends, from when a proposed policy applies, the window of past decisions a what-if
# replays (a window reaching ahead simply finds nothing there yet).
FUTURE_TIMES = {"previous_not_after", "effective_at", "from", "to"}


def _is_instant(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


INSTANTS = [
    (name, route, example, path)
    for name, route, example in BODIES
    for path, value in _leaves(example)
    if _is_instant(value)
]


def test_the_examples_hold_instants_of_each_kind() -> None:
    names = {str(path[-1]) for *_, path in INSTANTS}
    assert {"initiated_at", "issued_at", "captured_at", "effective_at"} <= names, names


@pytest.mark.parametrize(
    ("name", "route", "example", "path"),
    INSTANTS,
    ids=[f"{i[0]} {'.'.join(map(str, i[3]))}" for i in INSTANTS],
)
def test_a_past_fact_dated_ahead_is_refused_naming_its_field(
    name: str, route: Any, example: Any, path: tuple[Any, ...]
) -> None:
    ahead = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    errors = _errors(route, _with(example, path, ahead))
    if path[-1] in FUTURE_TIMES:
        # The field takes a time ahead; a what-if's `to` then before its `from` is another rule.
        assert not any(tuple(e["loc"][1 : 1 + len(path)]) == path for e in errors), (name, errors)
        assert all(e["loc"] == ("body", "to") for e in errors), (name, path, errors)
        return
    assert any(tuple(e["loc"][1 : 1 + len(path)]) == path for e in errors), (name, path, errors)
    # A time within the day of clock skew every past fact allows is taken.
    assert _errors(route, _with(example, path, datetime.now(UTC).isoformat())) == [], (name, path)
