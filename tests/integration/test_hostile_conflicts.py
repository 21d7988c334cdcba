"""A conflict names what conflicts (hostile8, 2026-12-07). A partner's second contest of a debit
notice answered 409 with a sentence alone: no `errors`, so a client could not tell which of its
inputs to change. Every named refusal of reconciliation now names its field (a conflict: the
object whose state refuses, `path.notice_id`, `path.case_id`), and so does every 409 raised
directly on the four services (`test_conflicts_name_a_field.py` holds the list to it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness
from tests.integration.test_hostile_acting import (
    PARTNER_LOST_IT,
    PARTNER_RAPIDROUTE,
    _contested_notice,
    _review_case,
)
from tests.support.reconciliation import Engine, engine
from tests.support.scenario import AGENT

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def desk(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "hostile_conflicts") as eng:
        yield eng


def _names(r: object, field: str) -> None:
    assert r.status_code == 409, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith(PROBLEM)  # type: ignore[attr-defined]
    doc = r.json()  # type: ignore[attr-defined]
    assert [e["field"] for e in doc.get("errors", [])] == [field], doc


async def test_a_contest_of_a_contested_notice_names_the_notice(
    harness: Harness, desk: Engine
) -> None:
    notice_id = await _contested_notice(harness, desk)
    r = await desk.client.post(
        f"/v1/partner/notices/{notice_id}/contest",
        json={"reason": "Weighed at pickup, again"},
        headers=harness.key(PARTNER_RAPIDROUTE),
    )
    _names(r, "path.notice_id")


async def test_a_second_decision_names_the_case(harness: Harness, desk: Engine) -> None:
    case_id, _ = await _review_case(desk)
    path = f"/v1/cases/{case_id}/decision"
    r = await desk.client.post(path, json=PARTNER_LOST_IT, headers=harness.key(AGENT))
    assert r.status_code == 200, r.text
    r = await desk.client.post(path, json=PARTNER_LOST_IT, headers=harness.key(AGENT))
    _names(r, "path.case_id")
