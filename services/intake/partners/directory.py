"""The partner registry as the webhook path reads it: cached in-process for a couple of seconds.

Every webhook needs its partner's scheme, limit and secrets; reading them from PostgreSQL on
each request would cost two round trips. Admin changes made through this process invalidate the
cache at once; other replicas see them within `ttl_s`. Secrets are cached with their not-after
times and filtered against the request's own clock, so rotation windows stay exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.partners import repository
from services.intake.partners.adapter import PartnerCredential


@dataclass(frozen=True, slots=True)
class PartnerEntry:
    partner_id: str
    scheme: str
    active: bool
    rate_limit_per_s: int
    credentials: tuple[PartnerCredential, ...]

    def credentials_at(self, now: datetime) -> list[PartnerCredential]:
        return [c for c in self.credentials if c.not_after is None or c.not_after > now]


class PartnerDirectory:
    def __init__(self, ttl_s: float = 2.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, PartnerEntry]] = {}

    async def get(self, session: AsyncSession, partner_id: str) -> PartnerEntry | None:
        now = self._monotonic()
        cached = self._entries.get(partner_id)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        partner = await repository.get_partner(session, partner_id)
        if partner is None:
            # Unknown ids are not cached: callers choose them, and the cache must stay bounded.
            self._entries.pop(partner_id, None)
            return None
        secrets = await repository.all_credentials(session, partner_id=partner_id)
        entry = PartnerEntry(
            partner.partner_id,
            partner.scheme,
            partner.active,
            partner.rate_limit_per_s,
            tuple(secrets),
        )
        self._entries[partner_id] = (now, entry)
        return entry

    def invalidate(self, partner_id: str | None = None) -> None:
        if partner_id is None:
            self._entries.clear()
        else:
            self._entries.pop(partner_id, None)
