"""`bench.fraud_batching`'s report of when each subject was first alerted in two arrival
orders: the same final alerts may come days apart, which the alert sets alone do not show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bench.fraud_batching import alerted_later, first_alerted

T = datetime(2026, 1, 10, 12, tzinfo=UTC)


def alert(entity: str, at: datetime | None, pattern: str = "CLAIM_ABUSE") -> SimpleNamespace:
    return SimpleNamespace(pattern=pattern, entity_type="seller", entity_id=entity, event_time=at)


def test_a_subject_is_first_alerted_at_its_earliest_alert() -> None:
    first = first_alerted(
        [alert("S-1", T + timedelta(days=3)), alert("S-1", T), alert("S-2", None)]
    )
    assert first == {"CLAIM_ABUSE/seller/S-1": T.isoformat()}


def test_alerts_found_later_or_earlier_are_counted_per_pattern_with_their_hours() -> None:
    a = {"first_alerted": first_alerted([alert("S-1", T), alert("S-2", T), alert("S-3", T)])}
    b = {
        "first_alerted": first_alerted(
            [
                alert("S-1", T + timedelta(hours=66)),
                alert("S-2", T - timedelta(hours=6)),
                alert("S-3", T),
            ]
        )
    }
    moved = alerted_later(a, b)
    assert moved == {
        "CLAIM_ABUSE": {
            "later": 1,
            "earlier": 1,
            "hours": {"seller/S-1": 66.0, "seller/S-2": -6.0},
        }
    }
    assert alerted_later(a, a) == {}
