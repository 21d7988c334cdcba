"""A key's optional `not_after` in the keyring (shared/auth.py): the key works until that
instant and is unknown from it on; an end that is not an instant with an offset ends it at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.auth import Keyring, hash_key

T = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def _ring(now: datetime, **entry: object) -> Keyring:
    base = {"key_hash": hash_key("k"), "client_id": "temp.asha", "roles": ["ops_agent"]}
    return Keyring.from_entries([{**base, **entry}], clock=lambda: now)


def test_a_key_works_until_its_not_after_and_not_from_it_on() -> None:
    end = T.isoformat()
    assert _ring(T - timedelta(microseconds=1), not_after=end).lookup("k") is not None
    assert _ring(T, not_after=end).lookup("k") is None
    assert _ring(T + timedelta(days=1), not_after=end).lookup("k") is None


def test_an_offset_other_than_utc_is_the_same_instant() -> None:
    end = "2026-12-05T11:30:00+05:30"  # 06:00 UTC
    assert _ring(T - timedelta(seconds=1), not_after=end).lookup("k") is not None
    assert _ring(T, not_after=end).lookup("k") is None


def test_a_key_without_an_end_never_expires() -> None:
    assert _ring(T + timedelta(days=36_500)).lookup("k") is not None


def test_an_unreadable_end_fails_closed() -> None:
    for bad in ("2099-01-01T00:00:00", "tomorrow", 4_102_444_800, ""):
        assert _ring(T, not_after=bad).lookup("k") is None, bad
