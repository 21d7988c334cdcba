"""The reconciliation benchmark's own figures: each consumer transaction's span from the inbox's
start times, and PostgreSQL's CPU counted with the backends that have exited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import psutil

from bench.reconciliation import _postgres_cpu_s, poll_spans

T0 = datetime(2026, 12, 4, 10, tzinfo=UTC)


def test_a_transaction_spans_to_the_next_one_and_the_last_to_the_last_decision() -> None:
    started = [(T0, 500), (T0 + timedelta(seconds=2), 500), (T0 + timedelta(seconds=3.5), 20)]
    spans = poll_spans(started, T0 + timedelta(seconds=3.75))
    assert spans == [
        {"events": 500, "ms_to_next": 2000.0},
        {"events": 500, "ms_to_next": 1500.0},
        {"events": 20, "ms_to_next": 250.0},
    ]
    assert poll_spans([], None) == []
    # Nothing decided: the last transaction has no end.
    assert poll_spans([(T0, 3)], None) == [{"events": 3, "ms_to_next": None}]


def _times(
    user: float, system: float, children_user: float = 0.0, children_system: float = 0.0
) -> SimpleNamespace:
    return SimpleNamespace(
        user=user, system=system, children_user=children_user, children_system=children_system
    )


class _Process:
    def __init__(self, times: Any, children: list[Any] | None = None) -> None:
        self._times, self._children = times, children or []

    def cpu_times(self) -> Any:
        if isinstance(self._times, Exception):
            raise self._times
        return self._times

    def children(self, recursive: bool = False) -> list[Any]:
        return self._children


def test_postgres_cpu_counts_the_server_its_live_backends_and_the_reaped_ones() -> None:
    backend = _Process(_times(0.5, 0.25))
    gone = _Process(psutil.NoSuchProcess(123))  # exited between the listing and the reading
    server = _Process(_times(1.0, 0.5, children_user=2.0, children_system=1.0), [backend, gone])
    assert _postgres_cpu_s(server) == 1.0 + 0.5 + 2.0 + 1.0 + 0.5 + 0.25
    assert _postgres_cpu_s(None) is None
