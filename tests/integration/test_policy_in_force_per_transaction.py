"""The policy in force is read once per transaction, not once per event: a consumer batch of
hundreds of events asked the database the same question hundreds of times. A new transaction
sees a version adopted meanwhile."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, text

from services.reconciliation.policy import service as policies
from shared.db import make_engine, make_sessionmaker
from tests.conftest import Harness
from tests.integration.test_reconciliation_batch import _migrate

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_in_force_reads_the_versions_once_per_transaction(harness: Harness) -> None:
    url = await _migrate(harness, "test_policy_in_force_tx")
    engine = make_engine(url)
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM policies" in statement and "policies.status" in statement:
            reads.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as session, session.begin():
            first = await policies.in_force(session, NOW)
            for minutes in range(50):
                same = await policies.in_force(session, NOW + timedelta(minutes=minutes))
                assert same.version == first.version
        assert len(reads) == 1

        # Another version adopted from an hour on: a later transaction uses it from then on.
        async with sessionmaker() as session, session.begin():
            definition = first.model_dump(mode="json") | {"version": "v-later"}
            await session.execute(
                text(
                    "INSERT INTO policies (version, status, definition, effective_at) "
                    "VALUES ('v-later', 'ACTIVE', CAST(:d AS JSONB), :at)"
                ),
                {"d": json.dumps(definition), "at": NOW + timedelta(hours=1)},
            )
        async with sessionmaker() as session, session.begin():
            before = await policies.in_force(session, NOW + timedelta(minutes=59))
            after = await policies.in_force(session, NOW + timedelta(hours=2))
        assert before.version == first.version
        assert after.version == "v-later"
        assert len(reads) == 2  # one more read, by the later transaction
    finally:
        await engine.dispose()
