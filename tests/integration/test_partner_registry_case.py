"""One partner per id in any letter case, however the registrations meet (intake migration
a8d4e2f6c913). The registry looked for a twin in other letter case before inserting: two
registrations racing (`FastLane`, `fastlane`) both found none and both were stored. A unique
index on the folded id makes the second conflict, answered 409 naming `body.partner_id`."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.integration.test_hostile_sweep import OPERATIONS, _key, check
from tests.support.db import scalar, scratch_database
from tests.support.factories import uid
from tests.support.services import RunningService

BEFORE = "e7b3c9a1f5d2"
_PARTNER = text(
    "INSERT INTO partners (partner_id, display_name, scheme, liability_cap, rate_limit_per_s, "
    "active) VALUES (:p, 'Racing Logistics', 'swiftship', 100000, 50, true)"
)
_FOLDED = "SELECT count(*) FROM partners WHERE lower(partner_id) = :p"


def _registration() -> tuple[str, dict[str, object]]:
    [op] = [o for o in OPERATIONS if o.method == "POST" and o.path == "/v1/admin/partners"]
    return "/v1/admin/partners", op.example


async def test_the_folded_index_goes_up_refusing_a_twin_and_down_again(harness: Harness) -> None:
    async with scratch_database(harness, "test_partner_case") as (url, engine):
        await asyncio.to_thread(upgrade, "intake", url)
        async with engine.begin() as conn:
            await conn.execute(_PARTNER, {"p": "fastlane"})
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(_PARTNER, {"p": "FastLane"})

        await asyncio.to_thread(downgrade, "intake", url, BEFORE)
        async with engine.begin() as conn:  # the index is gone: a twin is stored again
            await conn.execute(_PARTNER, {"p": "FastLane"})
        # Up again over twins: the upgrade stops, naming them, and changes nothing.
        with pytest.raises(RuntimeError, match="FastLane, fastlane"):
            await asyncio.to_thread(upgrade, "intake", url)
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM partners WHERE partner_id = 'FastLane'"))
        await asyncio.to_thread(upgrade, "intake", url)
        async with engine.connect() as conn:
            folded = await conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE tablename = 'partners'")
            )
            assert any("UNIQUE" in d and "lower" in d for d in folded.scalars()), "no index"


async def test_a_registration_racing_one_in_other_letter_case_is_refused_409(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """The other registration is inserted, not yet committed, when this one looks for a twin
    (it finds none) and inserts: it waits on the index, then answers 409 naming the field."""
    intake = pipeline["intake"]
    path, example = _registration()
    [op] = [o for o in OPERATIONS if o.method == "POST" and o.path == path]
    partner = uid("racer").lower()
    async with intake.runtime.sessionmaker() as other, other.begin():
        await other.execute(_PARTNER, {"p": partner.upper()})
        racing = asyncio.create_task(
            intake.client.post(
                path, json={**example, "partner_id": partner}, headers=_key(harness, op)
            )
        )
        await asyncio.sleep(0.5)  # the registration is at its insert, waiting on this one
    r = await racing
    doc = check(r, "a registration racing its twin in other letter case")
    assert r.status_code == 409, r.text
    assert doc is not None and doc["errors"][0]["field"] == "body.partner_id", doc
    assert repr(partner.upper()) in doc["detail"], doc
    assert await scalar(intake, _FOLDED, p=partner) == 1


async def test_two_registrations_at_once_in_other_letter_case_one_201_one_409(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    intake = pipeline["intake"]
    path, example = _registration()
    [op] = [o for o in OPERATIONS if o.method == "POST" and o.path == path]
    for _ in range(5):
        partner = uid("lane").lower()
        answers = await asyncio.gather(
            *(
                intake.client.post(
                    path, json={**example, "partner_id": spelled}, headers=_key(harness, op)
                )
                for spelled in (partner, partner.upper())
            )
        )
        for r in answers:
            check(r, "two registrations at once")
        assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
        refused = next(r for r in answers if r.status_code == 409).json()
        assert refused["errors"][0]["field"] == "body.partner_id", refused
        assert await scalar(intake, _FOLDED, p=partner) == 1


async def test_a_partner_registered_in_mixed_case_gets_its_notice_endpoint_and_statement(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """The registry keeps a partner's id as registered (`FastLane`); reconciliation's partner
    paths took lower case only, so such a partner could never be sent a debit notice nor
    given a monthly statement (422 on its own id)."""
    intake, recon = pipeline["intake"], pipeline["reconciliation"]
    path, example = _registration()
    [op] = [o for o in OPERATIONS if o.method == "POST" and o.path == path]
    partner = "Lane" + uid("x").lower().replace("-", "")
    r = await intake.client.post(
        path, json={**example, "partner_id": partner}, headers=_key(harness, op)
    )
    assert r.status_code == 201, r.text
    endpoint = "/v1/partner-endpoints/{partner_id}"
    [put] = [o for o in OPERATIONS if o.method == "PUT" and o.path == endpoint]
    r = await recon.client.put(
        endpoint.format(partner_id=partner), json=put.example, headers=_key(harness, put)
    )
    assert r.status_code == 200, r.text
    assert r.json()["partner_id"] == partner, r.text
    statement = "/v1/partner-statements/{partner_id}/{month}"
    [get] = [o for o in OPERATIONS if o.method == "GET" and o.path == statement]
    r = await recon.client.get(
        statement.format(partner_id=partner, month="2026-11"), headers=_key(harness, get)
    )
    # Known by its endpoint now: a statement (of no lines yet), not a refusal of its id.
    assert r.status_code == 200, r.text
    assert r.json()["lines"] == [], r.text
