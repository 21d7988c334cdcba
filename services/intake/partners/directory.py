"""The partner registry as the webhook path reads it: cached in-process for a couple of seconds.

Every webhook needs its partner's scheme, limit and secrets; reading them from PostgreSQL on
each request would cost two round trips. Admin changes made through this process invalidate the
cache at once; other replicas see them within `ttl_s`. Secrets are cached with their not-after
times and filtered against the request's own clock, so rotation windows stay exact. They are
decrypted when read (services/intake/partners/secrets.py) and held in memory only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.partners import repository
from services.intake.partners.adapter import PartnerCredential
from services.intake.partners.secrets import PartnerSecrets


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
    def __init__(
        self,
        secrets: PartnerSecrets,
        ttl_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secrets = secrets
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, PartnerEntry]] = {}
        # One read per partner at a time. When the entry expires under load, every webhook
        # arriving before the first read returns would otherwise send the same two queries;
        # the end-to-end benchmark saw a tenth of intake's CPU go to that.
        self._loading: dict[str, asyncio.Future[PartnerEntry | None | _Failed]] = {}
        self._generation = 0

    def cached(self, partner_id: str) -> PartnerEntry | None:
        """The entry if it is cached and fresh, without a session: a webhook opens one only to
        read the registry when this says None."""
        cached = self._entries.get(partner_id)
        if cached is not None and self._monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        return None

    async def get(self, session: AsyncSession, partner_id: str) -> PartnerEntry | None:
        now = self._monotonic()
        cached = self._entries.get(partner_id)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        loading = self._loading.get(partner_id)
        if loading is not None:
            shared = await asyncio.shield(loading)
            if not isinstance(shared, _Failed):
                return shared
            # The read we waited for failed or was cancelled: make our own.
            return await self._load(session, partner_id, now)
        future: asyncio.Future[PartnerEntry | None | _Failed] = (
            asyncio.get_running_loop().create_future()
        )
        self._loading[partner_id] = future
        try:
            entry = await self._load(session, partner_id, now)
            future.set_result(entry)
            return entry
        finally:
            if not future.done():
                future.set_result(_FAILED)
            if self._loading.get(partner_id) is future:
                del self._loading[partner_id]

    async def _load(
        self, session: AsyncSession, partner_id: str, now: float
    ) -> PartnerEntry | None:
        generation = self._generation
        partner = await repository.get_partner(session, partner_id)
        if partner is None:
            # Unknown ids are not cached: callers choose them, and the cache must stay bounded.
            self._entries.pop(partner_id, None)
            return None
        stored = await repository.all_secrets(session, partner_id=partner_id)
        entry = PartnerEntry(
            partner.partner_id,
            partner.scheme,
            partner.active,
            partner.rate_limit_per_s,
            tuple(c for c in map(self._secrets.credential, stored) if c is not None),
        )
        if generation == self._generation:  # not read across an admin change
            self._entries[partner_id] = (now, entry)
        return entry

    def invalidate(self, partner_id: str | None = None) -> None:
        self._generation += 1
        if partner_id is None:
            self._entries.clear()
        else:
            self._entries.pop(partner_id, None)


class _Failed:
    """What waiters on a shared read get when that read did not complete."""


_FAILED = _Failed()
