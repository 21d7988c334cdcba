"""API-key authentication with roles: the one auth dependency of every service.

Keys are random tokens handed to clients once; services hold only their SHA-256 hashes, in a
keyring file (`DISPUTEDESK_KEYRING_FILE`). SHA-256 without salt is sound here because the keys are
256-bit random, not passwords. A `seller_portal` key is bound to exactly one seller; a key with a
`team` (one of the teams tasks are asked of) works that team's tasks and nothing else. A key ends
when its entry is marked `revoked`, or at its optional `not_after` (an ISO 8601 instant with an
offset): from then on it answers 401 like an unknown key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from shared.problems import Problem
from shared.rate_limit import RateLimiter, RateLimitExceeded

log = logging.getLogger(__name__)


class Role(StrEnum):
    MARKETPLACE = "marketplace"
    SELLER_PORTAL = "seller_portal"
    OPS_AGENT = "ops_agent"
    OPS_MANAGER = "ops_manager"
    FINANCE = "finance"
    ADMIN = "admin"
    # A logistics partner's own key: reads and contests only that partner's debit notices.
    PARTNER = "partner"


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    roles: frozenset[str]
    seller_id: str | None = None
    partner_id: str | None = None
    # The team whose tasks this key works (a person of the warehouse, of finance …); None for
    # the desk itself, which works every case.
    team: str | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def can_act_for_seller(self, seller_id: str) -> bool:
        """Ops roles act for any seller; a seller portal key only for its own seller. Admin
        manages keys and partners: it acts for no seller."""
        if self.has(Role.OPS_AGENT, Role.OPS_MANAGER):
            return True
        return self.has(Role.SELLER_PORTAL) and self.seller_id == seller_id

    def is_partner(self, partner_id: str) -> bool:
        """A partner key is bound to exactly one partner; no other role acts as a partner."""
        return self.has(Role.PARTNER) and self.partner_id == partner_id


# The teams a key may be bound to: the owners of cross-team tasks
# (services/reconciliation/tasks/teams.py keeps the same names for the tasks themselves).
TEAMS = frozenset(
    {
        "logistics_partner_ops",
        "warehouse",
        "finance",
        "brand_management",
        "technology",
        "management",
    }
)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(prefix: str = "ddk") -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Keyring:
    """Key hashes → principals, reloaded when the file changes (rotation without restarts).

    A key's `not_after` is compared with the wall clock, never a service's business clock: a
    key's life is real time, whatever time a test or a replay makes the cases live in."""

    path: Path | None
    clock: Callable[[], datetime] = _wall_clock
    _entries: dict[str, Principal] = field(default_factory=dict)
    _not_after: dict[str, datetime] = field(default_factory=dict)
    _mtime: float = -1.0

    @classmethod
    def from_entries(
        cls, entries: list[dict[str, Any]], clock: Callable[[], datetime] = _wall_clock
    ) -> Keyring:
        ring = cls(path=None, clock=clock)
        ring._entries, ring._not_after = _parse(entries)
        return ring

    def lookup(self, key: str) -> Principal | None:
        self._maybe_reload()
        # Looking up by the hash of the presented key leaks nothing through timing: an attacker
        # cannot steer which hash a guess produces.
        hashed = hash_key(key)
        principal = self._entries.get(hashed)
        until = self._not_after.get(hashed)
        if principal is not None and until is not None and self.clock() >= until:
            return None  # expired: answered as an unknown key, so it says nothing of its past
        return principal

    def partner_ids(self) -> frozenset[str]:
        """The partners holding a key: partners the desk deals with, whatever it has seen."""
        self._maybe_reload()
        return frozenset(p.partner_id for p in self._entries.values() if p.partner_id)

    def _maybe_reload(self) -> None:
        if self.path is None:
            return
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._entries = {}
            return
        if mtime != self._mtime:
            data = json.loads(self.path.read_text())
            self._entries, self._not_after = _parse(data.get("keys", []))
            self._mtime = mtime


def _not_after(entry: dict[str, Any]) -> datetime | None:
    """The entry's end, or None for a key without one. A value that is not an instant with an
    offset ends the key now (fails closed): a typo must not make a key last for ever."""
    raw = entry.get("not_after")
    if raw is None:
        return None
    try:
        until = datetime.fromisoformat(str(raw))
    except ValueError:
        until = None
    if until is None or until.utcoffset() is None:
        log.warning(
            "keyring entry with an unreadable not_after refused",
            extra={"client_id": entry.get("client_id")},
        )
        return datetime.min.replace(tzinfo=UTC)
    return until


def _parse(entries: list[dict[str, Any]]) -> tuple[dict[str, Principal], dict[str, datetime]]:
    """Principals by key hash (revoked entries left out), and the ends of the keys that have
    one."""
    principals: dict[str, Principal] = {}
    ends: dict[str, datetime] = {}
    for e in entries:
        if e.get("revoked"):
            continue
        team = e.get("team")
        if team is not None and team not in TEAMS:
            # Fails closed, as an unreadable end does: a mistyped team must not make a team's
            # person the whole desk.
            log.warning(
                "keyring entry with an unknown team refused",
                extra={"client_id": e.get("client_id")},
            )
            continue
        principals[e["key_hash"]] = Principal(
            client_id=e["client_id"],
            roles=frozenset(e["roles"]),
            seller_id=e.get("seller_id"),
            partner_id=e.get("partner_id"),
            team=team,
        )
        until = _not_after(e)
        if until is not None:
            ends[e["key_hash"]] = until
    return principals, ends


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key")


# Where a request keeps the principal once authenticated: the route class asks before the body
# is read (shared/service_route.py), the dependency asks again, and one token is spent.
SCOPE_PRINCIPAL = "disputedesk.principal"


async def authenticate(request: Request) -> Principal:
    """The caller's principal, within its rate limit (shared/rate_limit.py): one shared-bucket
    statement per request, or none while the process holds a lease of the caller's tokens and
    has found its address not throttled (`rate_limit_lease_s`). An address that failed
    authentication too often is answered 429 before its key counts, valid or not."""
    known: Principal | None = request.scope.get(SCOPE_PRINCIPAL)
    if known is not None:
        return known
    if "authorization" in request.headers and "x-api-key" in request.headers:
        # Two credentials: which one a proxy, a log or this service reads would be a guess.
        raise Problem(
            401,
            "Unauthorized",
            "Send one API key: both Authorization and X-Api-Key were sent.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    keyring: Keyring = request.app.state.keyring
    key = _presented_key(request)
    principal = keyring.lookup(key) if key else None
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        settings = request.app.state.settings
        address = request.client.host if request.client else "unknown"
        failures = settings.auth_failure_limit()
        try:
            if principal is None:
                await limiter.spend_auth_failure(address, failures)
            else:
                await limiter.spend_caller(
                    principal.client_id,
                    settings.caller_limit(principal.client_id),
                    address=address,
                    failures=failures,
                    lease_s=settings.rate_limit_lease_s,
                )
        except RateLimitExceeded as exc:
            detail = (
                "Too many failed authentications from this address"
                if exc.reason == "auth_failures"
                else "Over this key's request rate"
            )
            raise Problem(
                429,
                "Too many requests",
                f"{detail}; retry in {exc.retry_after_s} s.",
                headers={"Retry-After": str(exc.retry_after_s)},
            ) from exc
    if not key:
        raise Problem(
            401,
            "Unauthorized",
            "Send an API key as `Authorization: Bearer <key>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal is None:
        raise Problem(
            401,
            "Unauthorized",
            "Unknown, revoked or expired API key.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.scope[SCOPE_PRINCIPAL] = principal
    return principal


@dataclass(frozen=True, slots=True)
class RoleCheck:
    """The dependency `require` builds; it keeps its roles so the route tables can list them
    (`shared/access.py`, the matrix in docs/security.md), and whether the route is a team's
    own work (`team_work`: a key bound to a team may call it; the route checks the object's
    team), whether a POST only reads (`reads`: a query whose body does not belong in a URL),
    and whether a read answers a key bound to a team with its team's share alone (`team_reads`:
    the route scopes its answer to the team's cases and tasks, or holds no case at all)."""

    roles: frozenset[str]
    team_work: bool = False
    reads: bool = False
    team_reads: bool = False

    # async: a plain function would be run on the thread pool, a hop per request for nothing.
    async def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.has(*self.roles):
            raise Problem(
                403, "Forbidden", f"This needs one of the roles: {', '.join(sorted(self.roles))}."
            )
        return principal


def require(
    *roles: str, team_work: bool = False, reads: bool = False, team_reads: bool = False
) -> Any:
    """Dependency: the caller must hold one of `roles`, named. Roles are separate duties: no role
    implies another, and `admin` (keys, partners) is no exception (docs/security.md has the
    matrix of every endpoint). `team_work` marks a route a key bound to a team may change
    things through (its team's tasks); every other changing route refuses such a key. `reads`
    marks a POST that changes nothing (a what-if, a lookup by a private value): it is a read.
    `team_reads` marks a read a key bound to a team may make, because the route answers it
    with its team's cases, tasks and rows alone (or the answer names no case); every other
    read refuses such a key, so a new read is closed to the teams until it is scoped."""
    if not roles:
        raise ValueError("require() needs at least one role")
    return Depends(
        RoleCheck(
            frozenset(str(r) for r in roles),
            team_work=team_work,
            reads=reads,
            team_reads=team_reads,
        )
    )


def refuse_outside_team(
    principal: Principal, *, changes: bool, team_work: bool, team_reads: bool
) -> None:
    """A key bound to a team works its team's share and nothing else: it changes things only
    through its team's own work (the desk's case work — decisions, notes, evidence requests,
    labels, messages — is the desk's, not the warehouse's person's), and it reads only through
    routes that scope their answer to its team's cases and tasks: another team's case, the
    desk's whole queue, fraud's alerts, the sellers' emails and the ledger are not its team's."""
    if principal.team is None:
        return
    if changes and not team_work:
        raise Problem(
            403,
            "Forbidden",
            f"This key is bound to the {principal.team} team: it works that team's tasks "
            "(GET /v1/tasks) and reads its cases; this change is the desk's.",
        )
    if not changes and not team_reads:
        raise Problem(
            403,
            "Forbidden",
            f"This key is bound to the {principal.team} team: it reads that team's tasks "
            "(GET /v1/tasks) and the cases they are on; this read is the desk's.",
        )
