"""Signed-in sessions: who holds which key, their CSRF token, and idle expiry.

The key stays on the server, in memory; the browser holds only a random session id in an
HttpOnly, SameSite=Strict cookie. A restart therefore signs everyone out, which is the safe
failure for a tool holding other people's keys.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field

from shared.auth import Principal, Role

# Roles that work at the desk. A seller-portal or marketplace key belongs to a system or to one
# seller, not to a person at the desk: it cannot sign in here.
DESK_ROLES = frozenset({Role.OPS_AGENT, Role.OPS_MANAGER, Role.FINANCE})


@dataclass(slots=True)
class DeskSession:
    session_id: str
    key: str
    principal: Principal
    csrf_token: str
    last_seen: float = field(default_factory=time.monotonic)

    @property
    def actor(self) -> str:
        return self.principal.client_id

    def is_(self, *roles: str) -> bool:
        return self.principal.has(*roles)

    @property
    def team(self) -> str | None:
        """The team a person's key is bound to (None: the desk's own key)."""
        return self.principal.team

    @property
    def can_work_cases(self) -> bool:
        # A person of another team works that team's tasks, not the desk's cases.
        return self.is_(Role.OPS_AGENT, Role.OPS_MANAGER) and self.team is None

    def can_close(self, task: dict[str, object]) -> bool:
        """A task this person may mark done: its own team's, if its key is bound to one."""
        return task.get("status") == "OPEN" and self.team in (None, task.get("team"))

    @property
    def is_manager(self) -> bool:
        return self.is_(Role.OPS_MANAGER)

    @property
    def manages_policy(self) -> bool:
        # A manager bound to a team works that team's tasks; the policy's lifecycle is the desk's.
        return self.is_manager and self.team is None

    def csrf_ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf_token)


class SessionStore:
    def __init__(self, idle_timeout_s: int, clock: object = time.monotonic) -> None:
        self._sessions: dict[str, DeskSession] = {}
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock

    def _now(self) -> float:
        return self._clock()  # type: ignore[operator,no-any-return]

    def open(self, key: str, principal: Principal) -> DeskSession:
        self._forget_idle()
        session = DeskSession(
            session_id=secrets.token_urlsafe(32),
            key=key,
            principal=principal,
            csrf_token=secrets.token_urlsafe(32),
            last_seen=self._now(),
        )
        self._sessions[session.session_id] = session
        return session

    def touch(self, session_id: str | None) -> DeskSession | None:
        """The live session of this id, its idle clock restarted; None if unknown or idle
        too long (an expired session is dropped at once)."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self._now()
        if now - session.last_seen > self._idle_timeout_s:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        return session

    def _forget_idle(self) -> None:
        # Sessions nobody comes back to would otherwise keep their keys in memory for ever.
        now = self._now()
        for session_id in [
            sid for sid, s in self._sessions.items() if now - s.last_seen > self._idle_timeout_s
        ]:
            del self._sessions[session_id]

    def close(self, session_id: str | None) -> None:
        if session_id:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
