"""Extra API keys for a test: appended to the session's keyring file, which every service
re-reads when it changes (the same path as a key rotation in production)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.auth import Role, hash_key, new_key

# One development key per duty (disputedesk/credentials.py).
DUTY_KEYS = {
    Role.MARKETPLACE: "DISPUTEDESK_KEY_MARKETPLACE",
    Role.SELLER_PORTAL: "DISPUTEDESK_KEY_SELLER_PORTAL",
    Role.OPS_AGENT: "DISPUTEDESK_KEY_OPS_AGENT",
    Role.OPS_MANAGER: "DISPUTEDESK_KEY_OPS_MANAGER",
    Role.FINANCE: "DISPUTEDESK_KEY_FINANCE",
    Role.ADMIN: "DISPUTEDESK_KEY_ADMIN",
    # A partner key (bound to swiftship): refused everywhere but the partner's own routes.
    Role.PARTNER: "DISPUTEDESK_KEY_PARTNER_SWIFTSHIP",
}


def add_key(
    env: dict[str, str],
    client_id: str,
    roles: list[str],
    seller_id: str | None = None,
    partner_id: str | None = None,
    not_after: datetime | str | None = None,
    team: str | None = None,
) -> dict[str, str]:
    """A fresh key for `client_id` with `roles` (ending at `not_after`, if given: an instant, or
    the text to write as it; bound to `team`, if given); the Authorization header that presents
    it."""
    path = Path(env["DISPUTEDESK_KEYRING_FILE"])
    ring: dict[str, Any] = json.loads(path.read_text())
    key = new_key("test")
    entry: dict[str, Any] = {"key_hash": hash_key(key), "client_id": client_id, "roles": roles}
    if team is not None:
        entry["team"] = team
    if not_after is not None:
        entry["not_after"] = not_after.isoformat() if isinstance(not_after, datetime) else not_after
    ring["keys"].append({**entry, "seller_id": seller_id, "partner_id": partner_id})
    _write(path, ring)
    return {"Authorization": f"Bearer {key}"}


def revoke_key(env: dict[str, str], headers: dict[str, str]) -> None:
    """Mark the key `headers` presents as revoked in the session's keyring."""
    path = Path(env["DISPUTEDESK_KEYRING_FILE"])
    ring: dict[str, Any] = json.loads(path.read_text())
    presented = hash_key(headers["Authorization"].removeprefix("Bearer "))
    (entry,) = [e for e in ring["keys"] if e["key_hash"] == presented]
    entry["revoked"] = True
    _write(path, ring)


def _write(path: Path, ring: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(ring, indent=2) + "\n")
    tmp.replace(path)  # atomic: a service reading it mid-write never sees half a file
