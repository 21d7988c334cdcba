"""The retry schedule: exponential backoff with jitter, capped."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def retry_delay_s(
    attempt: int, *, base_s: float, max_s: float, jitter: float, rng: random.Random | None = None
) -> float:
    """Delay after the `attempt`-th failed attempt (1-based): base·2^(attempt−1), capped, then
    spread by ±jitter so messages that failed together do not retry in lockstep."""
    delay: float = min(base_s * 2.0 ** max(attempt - 1, 0), max_s)
    spread: float = (rng or random).uniform(-jitter, jitter)
    return max(delay * (1 + spread), 0.0)


def next_attempt_at(
    now: datetime, attempt: int, *, base_s: float, max_s: float, jitter: float
) -> datetime:
    return now + timedelta(
        seconds=retry_delay_s(attempt, base_s=base_s, max_s=max_s, jitter=jitter)
    )
