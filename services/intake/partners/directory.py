"""The partner registry as the webhook path reads it: cached in-process.

Every webhook needs its partner's scheme, limit and secrets; reading them from PostgreSQL on
each request would cost two round trips. Admin changes made through this process invalidate the
cache at once. Every write to the registry's tables NOTIFYs `disputedesk_partners` (intake
migration e7b3c9a1f5d2), and a directory that hears it (`watch`) forgets every entry, so while
the process's LISTEN connection is up an entry is kept for `watched_ttl_s` (a safety net, not
the path changes take) and every replica sees a change as soon as it commits. Without the LISTEN
connection (not started, or lost) entries live `ttl_s`, as they always did; the connection's
return fires the channel, which forgets what may have changed meanwhile.

Secrets are cached with their not-after times and filtered against the request's own clock, so
rotation windows stay exact. They are decrypted when first read (services/intake/partners/
secrets.py) and held in memory only; a reload keeps the credential made from a ciphertext it
has seen, so only a new or changed secret is decrypted again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import PartnerSecret
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
        watched_ttl_s: float = 60.0,
    ) -> None:
        self._secrets = secrets
        self.ttl_s = ttl_s
        self.watched_ttl_s = watched_ttl_s
        self._monotonic = monotonic
        # Whether the registry's NOTIFY reaches this directory now (`watch`), and whether it has
        # been heard since the directory subscribed: only then can a change not go unnoticed.
        self._listening: Callable[[], bool] = _never
        self._heard = False
        # Each partner's credentials by the stored row they were made from, as of its last read.
        self._opened: dict[str, dict[_StoredSecret, PartnerCredential]] = {}
        self._entries: dict[str, tuple[float, PartnerEntry]] = {}
        # One read per partner at a time. When the entry expires under load, every webhook
        # arriving before the first read returns would otherwise send the same two queries;
        # the end-to-end benchmark saw a tenth of intake's CPU go to that.
        self._loading: dict[str, asyncio.Future[PartnerEntry | None | _Failed]] = {}
        self._generation = 0
        # Every partner id of the registry, as of its last read: the feed checks the partner it
        # is told of against them (`spelled_otherwise`).
        self._ids: tuple[float, frozenset[str]] | None = None

    def watch(self, listening: Callable[[], bool]) -> Callable[[], None]:
        """The callback to run at each notification of the registry's channel; `listening`
        says whether the process's LISTEN connection is up (notifications can arrive)."""
        self._listening = listening
        return self._changed

    def _changed(self) -> None:
        self._heard = True
        self.invalidate()

    def _ttl(self) -> float:
        return self.watched_ttl_s if self._heard and self._listening() else self.ttl_s

    def cached(self, partner_id: str) -> PartnerEntry | None:
        """The entry if it is cached and fresh, without a session: a webhook opens one only to
        read the registry when this says None."""
        cached = self._entries.get(partner_id)
        if cached is not None and self._monotonic() - cached[0] < self._ttl():
            return cached[1]
        return None

    async def get(self, session: AsyncSession, partner_id: str) -> PartnerEntry | None:
        now = self._monotonic()
        cached = self._entries.get(partner_id)
        if cached is not None and now - cached[0] < self._ttl():
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
            self._opened.pop(partner_id, None)
            return None
        stored = await repository.all_secrets(session, partner_id=partner_id)
        entry = PartnerEntry(
            partner.partner_id,
            partner.scheme,
            partner.active,
            partner.rate_limit_per_s,
            self._credentials(partner.partner_id, stored),
        )
        if generation == self._generation:  # not read across an admin change
            self._entries[partner_id] = (now, entry)
        return entry

    def _credentials(
        self, partner_id: str, stored: Sequence[PartnerSecret]
    ) -> tuple[PartnerCredential, ...]:
        """The partner's usable credentials; a row read before as it is now is not decrypted
        again (the operator's keys do not change while the process runs). What the partner
        no longer stores is forgotten, so the cache holds one read's secrets."""
        known = self._opened.get(partner_id, {})
        opened: dict[_StoredSecret, PartnerCredential] = {}
        for row in stored:
            key = (row.id, row.partner_id, row.secret_encrypted, row.secret_hash, row.not_after)
            credential = known.get(key) or self._secrets.credential(row)
            if credential is not None:  # one that cannot be opened is tried (and logged) again
                opened[key] = credential
        self._opened[partner_id] = opened
        return tuple(opened.values())

    async def spelled_otherwise(
        self, partner_id: str, read_ids: Callable[[], Awaitable[Iterable[str]]]
    ) -> str | None:
        """The registered partner `partner_id` names in other letter case (`SwiftShip` for
        `swiftship`), else None. Told of such a partner, the feed recorded a return no partner
        scans and whose liability fell under the unknown partner's cap. The ids are read with
        `read_ids` when they are not cached (as entries are: NOTIFY or TTL)."""
        now = self._monotonic()
        if self._ids is None or now - self._ids[0] >= self._ttl():
            self._ids = (now, frozenset(await read_ids()))
        ids = self._ids[1]
        if partner_id in ids:
            return None
        folded = partner_id.casefold()
        return next((known for known in sorted(ids) if known.casefold() == folded), None)

    def invalidate(self, partner_id: str | None = None) -> None:
        self._generation += 1
        self._ids = None
        if partner_id is None:
            self._entries.clear()
        else:
            self._entries.pop(partner_id, None)


# A stored secret as a reload reads it: a credential made from it stays valid while it is unchanged.
_StoredSecret = tuple[int, str, str | None, str | None, datetime | None]


def _never() -> bool:
    return False


class _Failed:
    """What waiters on a shared read get when that read did not complete."""


_FAILED = _Failed()
