"""The ledger on the real database: append-only, balanced per transaction (checked by
PostgreSQL once per statement that inserts lines, over the transactions it touched), and — over
random decision sequences — always balanced, with every case's payout equal to what its
seller_payable account received."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from services.reconciliation.cases import service
from services.reconciliation.ledger.postings import Posting
from services.reconciliation.ledger.repository import add_transaction
from services.reconciliation.models import Case, ReturnRecord
from shared.events import AppealFiled, LiableParty
from tests.conftest import Harness

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

decision = st.tuples(
    st.sampled_from([LiableParty.PARTNER, LiableParty.BUYER, LiableParty.SELLER]),
    st.integers(min_value=0, max_value=100),
)
case_script = st.fixed_dictionaries(
    {
        "item_value": st.integers(min_value=1, max_value=5_000_000),
        "claimed": st.integers(min_value=1, max_value=5_000_000),
        "partner": st.sampled_from(["swiftship", "rapidroute", "desipost", "newpartner"]),
        "first": decision,
        # Each appeal either upholds (None) or overturns with a new decision; only the first is
        # taken (its decision is final), the others must change nothing.
        "appeals": st.lists(st.one_of(st.none(), decision), max_size=3),
    }
)


async def _new_case(session: AsyncSession, script: dict[str, Any]) -> str:
    rid = f"RET-PROP-{uuid.uuid4().hex[:10].upper()}"
    session.add(
        ReturnRecord(
            return_id=rid,
            ce_id=uuid.uuid4(),
            order_id="O",
            seller_id="S-PROP",
            buyer_id="B-PROP",
            category="toys",
            item_value=script["item_value"],
            qc_required=False,
            partner_id=script["partner"],
            awb="A",
            initiated_at=NOW,
        )
    )
    case = Case(
        case_id=f"CASE-P{uuid.uuid4().hex[:10].upper()}",
        return_id=rid,
        seller_id="S-PROP",
        partner_id=script["partner"],
        buyer_id="B-PROP",
        claim_type="DAMAGED",
        claimed_amount=script["claimed"],
        origin="SELLER",
        state="UNDER_REVIEW",
        reason_code="NO_RULE_MATCHED",
        version=1,
        opened_at=NOW,
        updated_at=NOW,
        sla_started_at=NOW,
        sla_used_s=0,
        sla_breached=False,
        facts_wait_over=False,
        fraud_wait_over=False,
        payout=0,
    )
    session.add(case)
    await session.flush()
    return case.case_id


async def _play(
    sessionmaker: async_sessionmaker[AsyncSession], script: dict[str, Any]
) -> tuple[str, int]:
    """Run one case through decide (+ approval above the cap) and its appeals; return the
    payout the last decision in force carries."""
    now = NOW
    async with sessionmaker() as session, session.begin():
        case_id = await _new_case(session, script)
        party, pct = script["first"]
        case = await service.decide(
            session,
            case_id=case_id,
            rule_id="MANUAL",
            liable_party=party,
            payout_pct=pct,
            reason="Reviewed.",
            actor="agent.prop",
            now=now,
        )
        if case.state == "ESCALATED":
            case = await service.approve(
                session, case_id=case_id, reason="ok", actor="manager.approver", now=now
            )
        for n, step in enumerate(script["appeals"]):
            now += timedelta(hours=1)
            await service.on_appeal(
                session,
                event=AppealFiled(
                    escalation_id="ESC-PROP",
                    return_id=case.return_id,
                    seller_id="S-PROP",
                    reason="again",
                    filed_at=now,
                ),
                ce_id=uuid.uuid4(),
                now=now,
            )
            if n > 0:
                # The first appeal's decision is final: a further one is noted, nothing moves.
                assert case.state != "APPEALED", case.state
                continue
            overturn = step is not None
            case = await service.decide_appeal(
                session,
                case_id=case_id,
                overturn=overturn,
                reason="Looked again.",
                actor=f"manager.appeal{n}",
                now=now,
                liable_party=step[0] if step else None,
                payout_pct=step[1] if step else None,
            )
        return case_id, case.payout


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts=st.lists(case_script, min_size=1, max_size=4))
def test_random_decision_sequences_keep_the_ledger_balanced(
    harness: Harness, scripts: list[dict[str, Any]]
) -> None:
    async def run() -> None:
        engine = create_async_engine(harness.env["RECONCILIATION_DATABASE_URL"], pool_size=2)
        sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        try:
            for script in scripts:
                case_id, payout = await _play(sessionmaker, script)
                async with sessionmaker() as session:
                    paid = (
                        await session.execute(
                            text(
                                "SELECT coalesce(-sum(amount), 0) FROM ledger_entries "
                                "WHERE case_id = :c AND account_type = 'seller_payable'"
                            ),
                            {"c": case_id},
                        )
                    ).scalar()
                    stored = (
                        await session.execute(
                            text("SELECT payout FROM cases WHERE case_id = :c"), {"c": case_id}
                        )
                    ).scalar()
                assert paid == payout == stored
            async with sessionmaker() as session:
                unbalanced = (
                    await session.execute(
                        text(
                            "SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries "
                            "GROUP BY transaction_id HAVING sum(amount) <> 0) t"
                        )
                    )
                ).scalar()
                total = (
                    await session.execute(
                        text("SELECT coalesce(sum(amount), 0) FROM ledger_entries")
                    )
                ).scalar()
            assert unbalanced == 0
            assert total == 0
        finally:
            await engine.dispose()

    asyncio.run(run())


async def _sessionmaker(harness: Harness) -> tuple[Any, async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(harness.env["RECONCILIATION_DATABASE_URL"], pool_size=2)
    return engine, async_sessionmaker(engine, expire_on_commit=False)


async def test_an_unbalanced_transaction_is_refused_at_commit(harness: Harness) -> None:
    engine, sessionmaker = await _sessionmaker(harness)
    try:
        with pytest.raises(DBAPIError, match="does not balance"):
            async with sessionmaker() as session, session.begin():
                await add_transaction(
                    session,
                    transaction_id=uuid.uuid4(),
                    case_id="CASE-BROKEN",
                    kind="SETTLEMENT",
                    lines=[
                        Posting("protection_fund", "protection_fund", None, 100),
                        Posting("seller_payable:S", "seller_payable", "S", -99),
                    ],
                    posted_at=NOW,
                    description="deliberately unbalanced",
                )
        async with sessionmaker() as session:
            assert (
                await session.execute(
                    text("SELECT count(*) FROM ledger_transactions WHERE case_id = 'CASE-BROKEN'")
                )
            ).scalar() == 0
    finally:
        await engine.dispose()


_NEW_TRANSACTION = (
    "INSERT INTO ledger_transactions (transaction_id, case_id, kind, description, posted_at) "
    "VALUES (:t, 'CASE-SQL', 'SETTLEMENT', 'written in SQL', now())"
)
_LINES = (
    "INSERT INTO ledger_entries (transaction_id, case_id, account, account_type, amount, "
    "posted_at) SELECT :t, 'CASE-SQL', 'protection_fund', 'protection_fund', amount, now() "
    "FROM unnest(CAST(:amounts AS bigint[])) AS amount"
)


@pytest.mark.parametrize(
    ("statements", "balanced"),
    [
        ([[700, -700]], True),
        ([[700, -699]], False),
        ([[700, -300, -400], [50, -50]], True),
        # Each statement's lines must balance on their own: the second would, but not the first.
        ([[700], [-700]], False),
    ],
)
async def test_only_balanced_lines_inserted_in_sql_commit(
    harness: Harness, statements: list[list[int]], balanced: bool
) -> None:
    engine, sessionmaker = await _sessionmaker(harness)
    transaction_id = uuid.uuid4()

    async def write() -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(text(_NEW_TRANSACTION), {"t": transaction_id})
            for amounts in statements:
                await session.execute(text(_LINES), {"t": transaction_id, "amounts": amounts})

    try:
        if balanced:
            await write()
        else:
            with pytest.raises(DBAPIError, match="does not balance"):
                await write()
        async with sessionmaker() as session:
            stored = await session.execute(
                text("SELECT count(*) FROM ledger_transactions WHERE transaction_id = :t"),
                {"t": transaction_id},
            )
            assert stored.scalar() == (1 if balanced else 0)
    finally:
        await engine.dispose()


async def test_a_line_appended_to_a_committed_transaction_is_refused(harness: Harness) -> None:
    engine, sessionmaker = await _sessionmaker(harness)
    transaction_id = uuid.uuid4()
    try:
        async with sessionmaker() as session, session.begin():
            await session.execute(text(_NEW_TRANSACTION), {"t": transaction_id})
            await session.execute(text(_LINES), {"t": transaction_id, "amounts": [900, -900]})
        with pytest.raises(DBAPIError, match="does not balance"):
            async with sessionmaker() as session, session.begin():
                await session.execute(text(_LINES), {"t": transaction_id, "amounts": [5]})
        async with sessionmaker() as session:
            total = await session.execute(
                text("SELECT sum(amount) FROM ledger_entries WHERE transaction_id = :t"),
                {"t": transaction_id},
            )
            assert total.scalar() == 0
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = amount + 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET description = 'edited'",
        "DELETE FROM ledger_transactions",
        "TRUNCATE ledger_entries CASCADE",
    ],
)
async def test_the_ledger_is_append_only(harness: Harness, statement: str) -> None:
    engine, sessionmaker = await _sessionmaker(harness)
    try:
        async with sessionmaker() as session, session.begin():
            await add_transaction(
                session,
                transaction_id=uuid.uuid4(),
                case_id="CASE-IMMUTABLE",
                kind="SETTLEMENT",
                lines=[
                    Posting("protection_fund", "protection_fund", None, 500),
                    Posting("seller_payable:S", "seller_payable", "S", -500),
                ],
                posted_at=NOW,
                description="a posting to tamper with",
            )
        with pytest.raises(DBAPIError, match="append-only"):
            async with sessionmaker() as session, session.begin():
                await session.execute(text(statement))
    finally:
        await engine.dispose()
