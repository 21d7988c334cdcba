"""Development credentials: API keys for every role and the partners' secrets.

Generated once into the git-ignored state folder. `dev-credentials.env` holds the plaintext a
developer needs to call the APIs; `keyring.json` holds only hashes and is what services read.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from shared.auth import Role, hash_key, new_key

CREDENTIALS_FILE = "dev-credentials.env"
KEYRING_FILE = "keyring.json"
DEMO_SELLER = "S-DEMO-1"

# (env name, client id, roles, seller id)
Client = tuple[str, str, list[str], str | None]
DEV_CLIENTS: list[Client] = [
    ("DISPUTEDESK_KEY_MARKETPLACE", "marketplace", [Role.MARKETPLACE], None),
    ("DISPUTEDESK_KEY_SELLER_PORTAL", f"portal:{DEMO_SELLER}", [Role.SELLER_PORTAL], DEMO_SELLER),
    ("DISPUTEDESK_KEY_OPS_AGENT", "agent.asha", [Role.OPS_AGENT], None),
    ("DISPUTEDESK_KEY_OPS_MANAGER", "manager.ravi", [Role.OPS_MANAGER], None),
    ("DISPUTEDESK_KEY_OPS_MANAGER_2", "manager.meera", [Role.OPS_MANAGER], None),
    ("DISPUTEDESK_KEY_FINANCE", "finance.kiran", [Role.FINANCE], None),
    ("DISPUTEDESK_KEY_ADMIN", "admin", [Role.ADMIN], None),
]


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_folder() -> Path:
    return Path(os.environ.get("DISPUTEDESK_STATE_DIR") or repo_root() / ".state")


def portal_client(seller_id: str) -> Client:
    """A seller portal key bound to `seller_id` (the fault drill gives each of its sellers one)."""
    env_name = "DISPUTEDESK_KEY_PORTAL_" + "".join(c if c.isalnum() else "_" for c in seller_id)
    return (env_name.upper(), f"portal:{seller_id}", [Role.SELLER_PORTAL], seller_id)


def generate(clients: list[Client] = DEV_CLIENTS) -> tuple[dict[str, str], dict[str, object]]:
    """Fresh plaintext values and the matching keyring (hashes only)."""
    plain: dict[str, str] = {}
    keys = []
    for env_name, client_id, roles, seller_id in clients:
        key = new_key()
        plain[env_name] = key
        keys.append(
            {
                "key_hash": hash_key(key),
                "client_id": client_id,
                "roles": [str(r) for r in roles],
                "seller_id": seller_id,
            }
        )
    plain["SWIFTSHIP_SECRET"] = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    plain["RAPIDROUTE_SECRET"] = "rr_live_" + secrets.token_hex(16)
    plain["DESIPOST_API_KEY"] = "dp_" + secrets.token_urlsafe(24)
    return plain, {"keys": keys}


def ensure(folder: Path, *, force: bool = False, clients: list[Client] = DEV_CLIENTS) -> bool:
    """Create the credential files unless present; True if they were (re)generated."""
    env_path, ring_path = folder / CREDENTIALS_FILE, folder / KEYRING_FILE
    if env_path.exists() and ring_path.exists() and not force:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    plain, ring = generate(clients)
    lines = ["# disputedesk development credentials (generated; never commit)"]
    lines += [f"{k}={v}" for k, v in plain.items()]
    env_path.write_text("\n".join(lines) + "\n")
    env_path.chmod(0o600)
    ring_path.write_text(json.dumps(ring, indent=2) + "\n")
    return True


def read_env(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out
