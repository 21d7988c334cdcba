"""Per-partner request rate limits: an in-process token bucket per partner.

Each intake process keeps its own buckets, so with N replicas a partner may reach N times its
configured rate; that is acceptable for protecting a replica, and a shared limiter (e.g. in
PostgreSQL or Redis) can replace this class behind the same `take` call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    rate_per_s: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take one token; 0.0 if there was one, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate_per_s


class PartnerRateLimiter:
    """Buckets sized from each partner's `rate_limit_per_s`: that many per second, and a burst
    of one second's worth."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._buckets: dict[str, TokenBucket] = {}

    def retry_after(self, partner_id: str, rate_per_s: int) -> int | None:
        """None when the request may proceed, else whole seconds to wait (at least 1)."""
        now = self._monotonic()
        rate = float(max(rate_per_s, 1))
        bucket = self._buckets.get(partner_id)
        if bucket is None or bucket.rate_per_s != rate:  # new partner, or its limit changed
            bucket = TokenBucket(rate, rate, rate, now)
            self._buckets[partner_id] = bucket
        wait = bucket.take(now)
        return None if wait == 0.0 else max(1, math.ceil(wait))
