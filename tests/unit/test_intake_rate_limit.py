"""The per-partner token bucket: a burst of one second's worth, then Retry-After."""

from services.intake.partners.rate_limit import PartnerRateLimiter


def test_bucket_allows_the_rate_then_asks_to_wait_then_refills() -> None:
    now = [100.0]
    limiter = PartnerRateLimiter(monotonic=lambda: now[0])
    assert [limiter.retry_after("rr", 3) for _ in range(3)] == [None, None, None]
    assert limiter.retry_after("rr", 3) == 1
    assert limiter.retry_after("other", 3) is None  # partners do not share a bucket
    now[0] += 0.34
    assert limiter.retry_after("rr", 3) is None
    assert limiter.retry_after("rr", 3) == 1


def test_slow_rate_asks_for_whole_seconds() -> None:
    now = [0.0]
    limiter = PartnerRateLimiter(monotonic=lambda: now[0])
    rate = 1
    assert limiter.retry_after("dp", rate) is None
    assert limiter.retry_after("dp", rate) == 1
    now[0] += 1.0
    assert limiter.retry_after("dp", rate) is None
