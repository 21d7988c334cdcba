"""Defence in depth: reconciliation refuses a shipment fact from a partner other than the
return's, and an escalation from a seller other than the return's, even when such an event
reaches Kafka without passing intake's checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from shared.events import AppealFiled
from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    T0,
    Engine,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)


@pytest.fixture(scope="module")
async def eng(harness: Harness) -> AsyncIterator[Engine]:
    async with engine(harness, "ownership") as e:
        yield e


def refused(kind: str, reason: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "disputedesk_reconciliation_refused_facts_total", {"kind": kind, "reason": reason}
        )
        or 0.0
    )


async def test_a_cross_partner_lost_fed_straight_onto_kafka_is_refused(eng: Engine) -> None:
    rid = uid("RET-OWN")
    before = refused("scan", "partner_mismatch")
    await eng.send(
        return_initiated(rid, partner="swiftship"),
        scan(rid, "PICKED_UP", T0, weight=1000, partner="swiftship"),
        # Another partner declares it lost: P1 would open a case and debit swiftship.
        scan(rid, "LOST", T0 + timedelta(days=1), partner="desipost"),
        scan(rid, "IN_TRANSIT", T0 + timedelta(days=1, hours=1), partner="swiftship"),
    )
    rows = await _eventually_scans(eng, rid, 2)
    assert sorted(r["partner_id"] for r in rows) == ["swiftship", "swiftship"]
    assert await eng.case(rid) is None
    assert refused("scan", "partner_mismatch") == before + 1

    # A scan from the wrong partner that arrived before its return is ignored too.
    early = uid("RET-OWN")
    await eng.send(
        scan(early, "LOST", T0 + timedelta(days=1), partner="desipost"),
        return_initiated(early, partner="swiftship"),
        scan(early, "IN_TRANSIT", T0 + timedelta(days=1, hours=1), partner="swiftship"),
    )
    await _eventually_scans(eng, early, 1, partner="swiftship")
    assert await eng.case(early) is None


async def test_an_escalation_from_another_seller_is_refused(eng: Engine) -> None:
    rid = uid("RET-OWN")
    before = refused("escalation", "seller_mismatch")
    filed = eng.envelope(escalation(rid, seller="S-INTRUDER"))
    await eng.send(return_initiated(rid, seller="S-SOP"), filed, assessed(filed, "LOW"))
    rows = await _eventually(
        eng,
        "SELECT disposition FROM escalations WHERE return_id = :r AND disposition IS NOT NULL",
        rid,
    )
    assert [r["disposition"] for r in rows] == ["REFUSED"]
    assert await eng.case(rid) is None
    assert refused("escalation", "seller_mismatch") == before + 1


async def test_an_appeal_under_another_sellers_escalation_never_reaches_a_case(
    eng: Engine,
) -> None:
    # A decided case of S-SOP's return (P1: the partner declared it lost), open to appeal.
    rid = uid("RET-OWN")
    lost = eng.envelope(scan(rid, "LOST", T0 + timedelta(days=1)))
    await eng.send(
        return_initiated(rid, seller="S-SOP"), scan(rid, "PICKED_UP", T0, weight=1000), lost
    )
    await eng.wait_case(rid, lambda c: c["waiting_for"] == "FRAUD_ASSESSMENT")
    await eng.send(assessed(lost))
    decided = await eng.wait_case(rid, lambda c: c["state"] == "CLOSED")
    # Another seller's escalation, on that seller's own return, known to the desk.
    other = uid("RET-OWN")
    theirs = escalation(other, seller="S-OTHER")
    await eng.send(return_initiated(other, seller="S-OTHER"), theirs)
    await _eventually(eng, "SELECT escalation_id FROM escalations WHERE return_id = :r", other)

    before = refused("appeal", "seller_mismatch")
    # Straight onto Kafka: their escalation's id, stood on this return as its seller.
    await eng.send(
        AppealFiled(
            escalation_id=theirs.escalation_id,
            return_id=rid,
            seller_id="S-SOP",
            reason="Please look again.",
            # Within the appeal window, so that only whose it is can refuse it.
            filed_at=decided["decided_at"] + timedelta(minutes=5),
        )
    )
    rows = await _eventually(eng, "SELECT disposition FROM appeals WHERE return_id = :r", rid)
    assert [r["disposition"] for r in rows] == ["REFUSED"]
    after = await eng.case(rid)
    assert after is not None
    assert (after["state"], after["version"]) == ("CLOSED", decided["version"])
    assert refused("appeal", "seller_mismatch") == before + 1


async def _eventually(eng: Engine, query: str, rid: str) -> list[dict[str, object]]:
    from tests.support.waiting import eventually

    return await eventually(lambda: eng.sql(query, r=rid), what=query)


async def _eventually_scans(
    eng: Engine, rid: str, n: int, partner: str | None = None
) -> list[dict[str, object]]:
    from tests.support.waiting import eventually

    query = "SELECT partner_id FROM shipment_events WHERE return_id = :r"
    if partner:
        query += f" AND partner_id = '{partner}'"
    return await eventually(
        lambda: eng.sql(query, r=rid), until=lambda rows: len(rows) >= n, what=f"{n} scans"
    )
