"""A malformed lookup is refused naming its parameter: every path and query string parameter the
four OpenAPI documents constrain (pattern, enum, format) is sent a value no constraint of ours
takes (65 `!`: past every id's length, outside every id's, code's, cursor's and instant's
characters, no enum's member), with a key the operation takes, and must answer 422 problem+json
naming `path.<name>` or `query.<name>`. Before, `{case_id}`, `{version}`, `{entity_id}`,
`?seller_id=`, `?pattern=` and the like were bare strings: the same value was looked up and
answered an empty page or a 404. `tests/unit/test_lookup_parameters.py` keeps every string
parameter constrained, so this reaches each new one.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import Harness
from tests.integration.test_hostile_client import _nothing
from tests.integration.test_hostile_sweep import (  # noqa: F401 - `console` is a fixture
    CONSOLE_ROUTES,
    OPERATIONS,
    Operation,
    _key,
    _send,
    check,
    console,
)
from tests.support.services import RunningService
from tests.unit.test_lookup_parameters import constrained

MALFORMED = "!" * 65


def _cases() -> list[tuple[Operation, str, str]]:
    out = []
    for op in OPERATIONS:
        if not op.roles:
            continue  # the webhooks: their signature is checked first (test_webhook_round_trips)
        # Every path parameter: a UUID, a number or a month refuse the value as well.
        for name in op.path_params:
            out.append((op, "path", name))
        for name, schema in op.query.items():
            if constrained(schema):
                out.append((op, "query", name))
    return out


CASES = _cases()


def test_the_lookups_reach_every_service() -> None:
    assert {op.service for op, _, _ in CASES} == {
        "intake",
        "fraud",
        "reconciliation",
        "notifications",
    }


@pytest.mark.parametrize(
    ("op", "where", "name"), CASES, ids=[f"{op.id} {w}.{n}" for op, w, n in CASES]
)
async def test_a_malformed_lookup_is_refused_naming_its_parameter(
    harness: Harness, pipeline: dict[str, RunningService], op: Operation, where: str, name: str
) -> None:
    if where == "path":
        url = _nothing(op.path.replace("{" + name + "}", MALFORMED))
    else:
        url = f"{_nothing(op.path)}?{name}={MALFORMED}"
    body = b"{}" if op.body is not None else None
    headers = {**_key(harness, op), "content-type": "application/json"}
    r = await _send(pipeline[op.service].client, op.method, url, headers=headers, content=body)
    doc = check(r, f"{where}.{name}={MALFORMED[:8]}…", named=f"{where}.{name}")
    assert r.status_code == 422 and doc is not None, (op.id, name, r.status_code, r.text[:300])
    assert re.search(rf"\b{where}\.{name}\b", doc["detail"]), doc


# --- the desk console ----------------------------------------------------------------------

CONSOLE_PAGES = [
    (path, name)
    for method, path in CONSOLE_ROUTES
    if method == "GET"
    for name in re.findall(r"\{([^}]+)\}", path)
]


def test_the_console_pages_with_ids_are_reached() -> None:
    assert {name for _, name in CONSOLE_PAGES} >= {"case_id", "entity_id", "version"}


@pytest.mark.parametrize(
    ("path", "name"), CONSOLE_PAGES, ids=[f"{p} {n}" for p, n in CONSOLE_PAGES]
)
async def test_a_console_page_of_a_malformed_id_is_refused_naming_it(
    console: tuple[httpx.AsyncClient, dict[str, str]],  # noqa: F811 - the sweep's fixture
    path: str,
    name: str,
) -> None:
    """The console's pages take the ids its services take: a malformed one is the console's
    own 422 page naming the address's part, before any service is asked."""
    client, cookie = console
    url = _nothing(path.replace("{" + name + "}", MALFORMED))
    r = await _send(client, "GET", url, headers=cookie)
    assert r.status_code == 422, (url, r.status_code, r.text[:300])
    assert f"path.{name}" in r.text, r.text[:600]
