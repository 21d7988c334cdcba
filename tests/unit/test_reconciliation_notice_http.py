"""The debit notices' HTTP client is built on the first notice posted, not when the loop starts,
and closed with the loop."""

from __future__ import annotations

from services.reconciliation.disputes.delivery import NoticeHttp


async def test_the_client_is_built_on_first_use_and_reused() -> None:
    http = NoticeHttp(timeout_s=3.0)
    assert not http.built
    first = http.client()
    assert http.built
    assert http.client() is first
    assert first.timeout.read == 3.0
    assert first.follow_redirects is False
    await http.aclose()
    assert first.is_closed
    assert not http.built


async def test_closing_a_client_never_built_builds_none() -> None:
    http = NoticeHttp(timeout_s=3.0)
    await http.aclose()
    assert not http.built
