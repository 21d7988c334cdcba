"""The same facts, delivered in every order and then all over again, give one case and one
decision per return — through Kafka, with the inbox catching the redeliveries."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tests.conftest import Harness
from tests.support.factories import uid
from tests.support.reconciliation import (
    T0,
    assessed,
    engine,
    escalation,
    return_initiated,
    scan,
)
from tests.support.waiting import eventually


async def test_every_order_and_redelivery_give_the_same_single_decision(harness: Harness) -> None:
    async with engine(harness, "ordering") as eng:
        returns = []
        for n, order in enumerate(itertools.permutations(range(5))):
            rid = uid(f"RET-ORD{n:03d}")
            returns.append(rid)
            facts = [
                eng.envelope(return_initiated(rid, qc_required=True)),
                eng.envelope(scan(rid, "QC_PASSED", T0 - timedelta(minutes=10), weight=1000)),
                eng.envelope(scan(rid, "PICKED_UP", T0, weight=1000)),
                eng.envelope(scan(rid, "DELIVERED_TO_SELLER", T0 + timedelta(days=2), weight=990)),
                eng.envelope(escalation(rid, claim="WRONG_ITEM", amount=199_900)),
            ]
            score = eng.envelope(assessed(facts[4]))
            sequence = [facts[i] for i in order]
            # The score goes out at a different point of each sequence (it has its own topic).
            sequence.insert(n % 6, score)
            await eng.send(*sequence, *sequence)  # every event twice, same ce_id

        async def closed() -> int:
            rows = await eng.sql(
                "SELECT count(*) AS n FROM cases WHERE state = 'CLOSED' "
                "AND return_id LIKE 'RET-ORD%'"
            )
            return int(rows[0]["n"])

        await eventually(
            closed, until=lambda n: n == len(returns), timeout=120, what="every permutation decided"
        )
        summary = await eng.sql(
            "SELECT c.return_id, c.decision->>'rule_id' AS rule, c.payout, "
            "(SELECT count(*) FROM cases c2 WHERE c2.return_id = c.return_id) AS cases, "
            "(SELECT count(*) FROM outbox o WHERE o.ce_subject = c.case_id "
            "  AND o.ce_type LIKE '%case_decided%') AS decisions, "
            "(SELECT count(*) FROM ledger_transactions t WHERE t.case_id = c.case_id) AS postings "
            "FROM cases c WHERE c.return_id LIKE 'RET-ORD%'"
        )
        assert len(summary) == len(returns)
        outcomes = {
            (r["rule"], r["payout"], r["cases"], r["decisions"], r["postings"]) for r in summary
        }
        assert outcomes == {("L8", 199_900, 1, 1, 1)}
