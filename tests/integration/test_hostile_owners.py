"""Who may act, generated from the OpenAPI documents (`test_hostile_sweep.OPERATIONS`):

- every operation a partner's key may call that names an object is tried by another partner on
  the first partner's object (a rapidroute debit notice, made here through the real case flow):
  refused as the same request on an object that does not exist is, and a list or statement of
  the other partner shows nothing of it;
- every authenticated operation refuses an expired key and a revoked one (401, as an unknown key
  is: it says nothing of the key's past), holding every role.

A seller's key on another seller's objects is swept in `test_hostile_sweep.py`; a role without
the route's duty there too (403).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Role
from tests.conftest import Harness
from tests.integration.test_hostile_acting import PARTNER_RAPIDROUTE, _open_notice
from tests.integration.test_hostile_sweep import OPERATIONS, Operation, _send, _url, check
from tests.support.keys import add_key, revoke_key
from tests.support.reconciliation import Engine, engine
from tests.support.services import RunningService

PARTNER_SWIFTSHIP = "DISPUTEDESK_KEY_PARTNER_SWIFTSHIP"
PARTNER_OPS = [o for o in OPERATIONS if Role.PARTNER.value in o.roles]


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "hostile_owners") as eng:
        yield eng


def test_the_partner_operations_are_found() -> None:
    assert any(o.path_params for o in PARTNER_OPS), PARTNER_OPS
    assert any(o.method == "GET" and not o.path_params for o in PARTNER_OPS), PARTNER_OPS


@pytest.mark.parametrize("op", PARTNER_OPS, ids=[o.id for o in PARTNER_OPS])
async def test_a_partner_is_refused_on_another_partners_objects_as_on_none(
    harness: Harness, desk: Engine, op: Operation
) -> None:
    notice_id = await _open_notice(harness, desk)
    owner, stranger = harness.key(PARTNER_RAPIDROUTE), harness.key(PARTNER_SWIFTSHIP)
    month = datetime.now(UTC).strftime("%Y-%m")
    values = {"notice_id": notice_id, "month": month}
    untaught = [p for p in op.path_params if p not in values]
    assert not untaught, (op.id, "path parameters the sweep owns no object for", untaught)
    url = re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], op.path)
    body = op.example if op.body is not None else None
    if "notice_id" not in op.path_params:
        # A list or a month's statement: the other partner's shows nothing of this notice.
        r = await _send(desk.client, op.method, url, headers=stranger, json=body)
        check(r, "another partner's list")
        assert notice_id not in r.text, (op.id, r.text[:300])
        mine = await _send(desk.client, "GET", url, headers=owner)
        if op.method == "GET" and not op.path_params:
            assert notice_id in mine.text, (op.id, mine.text[:300])
        return
    foreign = await _send(desk.client, op.method, url, headers=stranger, json=body)
    check(foreign, "another partner")
    nowhere = url.replace(notice_id, str(uuid.uuid4()))
    unknown = await _send(desk.client, op.method, nowhere, headers=stranger, json=body)
    check(unknown, "an unknown notice")
    assert foreign.status_code >= 400, (op.id, foreign.status_code, foreign.text[:300])
    assert foreign.status_code == unknown.status_code, (op.id, foreign.text, unknown.text)
    # Word for word the unknown object's answer (each naming the id it was asked for).
    other_id = nowhere.split("/")[op.path.split("/").index("{notice_id}")]
    assert foreign.json()["detail"].replace(notice_id, "ID") == unknown.json()["detail"].replace(
        other_id, "ID"
    ), (op.id, foreign.text, unknown.text)
    # The owner still reaches it: the refusal was about who asked.
    if op.method == "GET":
        mine = await _send(desk.client, "GET", url, headers=owner)
        assert mine.status_code == 200, (op.id, mine.text[:300])
    else:
        # Nothing was recorded for the stranger: the owner's own request still acts (a
        # contest already made would answer 409).
        mine = await _send(desk.client, op.method, url, headers=owner, json=body)
        assert 200 <= mine.status_code < 300, (op.id, mine.text[:300])


# --- expired and revoked keys ------------------------------------------------------------------

AUTHENTICATED = [o for o in OPERATIONS if o.roles]
EVERY_ROLE = [role.value for role in Role]


@pytest.fixture(scope="module")
async def dead_keys(
    harness: Harness, pipeline: dict[str, RunningService]
) -> dict[str, dict[str, str]]:
    expired = add_key(
        harness.env,
        f"expired.{uuid.uuid4().hex[:6]}",
        EVERY_ROLE,
        not_after=datetime.now(UTC) - timedelta(minutes=1),
    )
    revoked = add_key(harness.env, f"revoked.{uuid.uuid4().hex[:6]}", EVERY_ROLE)
    revoke_key(harness.env, revoked)
    # Written last: once every service takes it, each has read the two above too.
    alive = add_key(harness.env, f"alive.{uuid.uuid4().hex[:6]}", [Role.OPS_MANAGER.value])
    for service in ("intake", "reconciliation", "fraud", "notifications"):
        op = next(o for o in AUTHENTICATED if o.service == service and o.method == "GET")
        for _ in range(100):
            r = await pipeline[service].client.get(_url(op), headers=alive)
            if r.status_code != 401:
                break
            await asyncio.sleep(0.1)
    return {"expired": expired, "revoked": revoked}


@pytest.mark.parametrize("op", AUTHENTICATED, ids=[o.id for o in AUTHENTICATED])
async def test_an_expired_or_revoked_key_is_refused_everywhere_as_an_unknown_one(
    pipeline: dict[str, RunningService], dead_keys: dict[str, dict[str, str]], op: Operation
) -> None:
    client = pipeline[op.service].client
    body = op.example if op.body is not None else None
    forged = {"Authorization": "Bearer dd_test_" + "A" * 43}
    unknown = await _send(client, op.method, _url(op), headers=forged, json=body)
    for what, key in dead_keys.items():
        r = await _send(client, op.method, _url(op), headers=key, json=body)
        doc = check(r, f"a {what} key")
        assert r.status_code == 401, (op.id, what, r.status_code, r.text[:300])
        # Word for word an unknown key's answer: it says nothing of the key's past.
        assert doc is not None and doc["detail"] == unknown.json()["detail"], (op.id, doc)
