"""Failed sign-ins per client address: a token bucket each, so a hostile client cannot guess
keys at the console's speed. The services throttle failed authentication themselves, but the
console checks a key against the keyring on its own, without asking them, so it needs its own.

In memory, like the console's sessions: the console runs as one process (a restart signs
everybody out anyway); with several behind a balancer, each would allow its own budget.
While an address's bucket is empty every sign-in from it is refused, a valid key included, so
a throttled client learns nothing about which keys exist."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class SignInThrottle:
    # Past this many addresses, the ones whose buckets have refilled are forgotten (a full
    # bucket is what an unknown address gets anyway), so a flood of addresses cannot grow it
    # without bound.
    MAX_TRACKED = 10_000

    def __init__(self, failures_per_min: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(failures_per_min, 1))
        self.rate_per_s = self.capacity / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _refilled(self, address: str) -> _Bucket | None:
        bucket = self._buckets.get(address)
        if bucket is None:
            return None
        now = self._clock()
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate_per_s)
        bucket.at = now
        return bucket

    def retry_after_s(self, address: str) -> int | None:
        """Whole seconds until this address may try again; None while it may."""
        bucket = self._refilled(address)
        if bucket is None or bucket.tokens >= 1:
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate_per_s))

    def failed(self, address: str) -> None:
        """A sign-in from this address failed: it spends a token."""
        bucket = self._refilled(address)
        if bucket is None:
            if len(self._buckets) >= self.MAX_TRACKED:
                self._forget_full()
            bucket = self._buckets[address] = _Bucket(self.capacity, self._clock())
        bucket.tokens = max(0.0, bucket.tokens - 1)

    def _forget_full(self) -> None:
        for address in list(self._buckets):
            bucket = self._refilled(address)
            if bucket is not None and bucket.tokens >= self.capacity:
                del self._buckets[address]

    def __len__(self) -> int:
        return len(self._buckets)
