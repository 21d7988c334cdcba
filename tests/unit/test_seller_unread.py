"""The case's "seller replied, unread since" as replies and reads arrive (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.reconciliation.cases.reactions import seller_replied, seller_replies_read
from services.reconciliation.models import Case

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _case() -> Case:
    return Case(case_id="CASE-1", seller_unread_since=None, seller_last_reply_at=None)


def test_the_oldest_unread_reply_is_kept_whatever_order_replies_arrive_in() -> None:
    case = _case()
    seller_replied(case, received_at=T0 + timedelta(hours=1))
    seller_replied(case, received_at=T0)
    assert case.seller_unread_since == T0
    assert case.seller_last_reply_at == T0 + timedelta(hours=1)


def test_a_read_covering_every_reply_clears_it() -> None:
    case = _case()
    seller_replied(case, received_at=T0)
    seller_replied(case, received_at=T0 + timedelta(minutes=5))
    seller_replies_read(case, read_through=T0 + timedelta(minutes=5))
    assert case.seller_unread_since is None


def test_a_reply_newer_than_the_read_stays_unread() -> None:
    case = _case()
    seller_replied(case, received_at=T0)
    seller_replied(case, received_at=T0 + timedelta(minutes=5))  # came in while reading
    seller_replies_read(case, read_through=T0)
    assert case.seller_unread_since == T0 + timedelta(minutes=5)
    seller_replies_read(case, read_through=T0 + timedelta(minutes=5))
    assert case.seller_unread_since is None
