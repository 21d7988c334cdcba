"""The pure parts of the shared rate limits: per-client settings and the wait they report."""

from __future__ import annotations

from shared.rate_limit import Limit
from shared.settings import CallerLimit, ServiceSettings


def test_a_named_client_gets_its_own_limit_and_others_the_default() -> None:
    settings = ServiceSettings(
        rate_limit_per_s=10,
        rate_limit_burst=20,
        rate_limit_overrides={"marketplace": CallerLimit(per_s=400, burst=800)},
    )
    assert settings.caller_limit("marketplace") == Limit(400, 800)
    assert settings.caller_limit("agent.asha") == Limit(10, 20)


def test_overrides_come_from_the_environment_as_json(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RATE_LIMIT_OVERRIDES", '{"marketplace": {"per_s": 5, "burst": 9}}')
    monkeypatch.setenv("AUTH_FAILURE_LIMIT_PER_MIN", "30")
    settings = ServiceSettings()
    assert settings.caller_limit("marketplace") == Limit(5, 9)
    assert settings.auth_failure_limit() == Limit(0.5, 30)


def test_retry_after_is_whole_seconds_until_a_token() -> None:
    limit = Limit(per_s=0.5, burst=8)
    assert limit.wait_s(0.9) == 1  # 0.2 s, rounded up to a whole second
    assert limit.wait_s(0.0) == 2
    assert limit.wait_s(-0.5) == 3


def test_a_callers_lease_comes_from_the_environment_and_stays_short(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The lease of a caller's tokens: 0.1 s by default (ten tokens at the default 100/s), set by
    RATE_LIMIT_LEASE_S, 0 for token by token, never longer than a second."""
    import pytest
    from pydantic import ValidationError

    settings = ServiceSettings()
    assert settings.rate_limit_lease_s == 0.1
    assert settings.caller_limit("anyone").lease(settings.rate_limit_lease_s) == 10
    monkeypatch.setenv("RATE_LIMIT_LEASE_S", "0")
    assert ServiceSettings().caller_limit("anyone").lease(ServiceSettings().rate_limit_lease_s) == 1
    monkeypatch.setenv("RATE_LIMIT_LEASE_S", "5")
    with pytest.raises(ValidationError):
        ServiceSettings()
