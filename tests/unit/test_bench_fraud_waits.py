"""Where an escalation waited inside fraud (bench/fraud_waits.py): the split of its time
between earlier transactions, its own work, the rest of its batch and the relay."""

from __future__ import annotations

import uuid

from bench.fraud_waits import Assessed, Transaction, split


def test_an_escalation_behind_two_transactions_is_split_into_its_stages() -> None:
    esc = uuid.uuid4()
    transactions = [
        Transaction(began=9.0, ended=9.5, events=100),  # over before it was published
        Transaction(began=10.0, ended=11.0, events=300),  # it waits 0.8 s of this one
        Transaction(began=11.1, ended=11.5, events=200),  # and all of this one
        Transaction(began=11.6, ended=12.0, events=40),  # its own
    ]
    out = split(
        {esc: 10.2},
        {esc: 12.3},
        {esc: Assessed(esc, began=11.6, assessed=11.7)},
        transactions,
    )
    stages = {name: s["p50_ms"] for name, s in out["stages_ms"].items()}
    assert stages == {
        "queued": 1400.0,
        "behind_batches": 1200.0,
        "own_work": 100.0,
        "rest_of_batch": 300.0,
        "commit_and_relay": 300.0,
    }
    assert out["events_in_its_transaction"]["p50"] == 40
    assert out["events_in_transactions_queued_behind"]["p50"] == 500


def test_an_escalation_never_assessed_counts_as_missing() -> None:
    esc = uuid.uuid4()
    out = split({esc: 1.0}, {}, {}, [])
    assert out["stages_ms"]["queued"]["missing"] == 1
    assert out["stages_ms"]["queued"]["count"] == 0
