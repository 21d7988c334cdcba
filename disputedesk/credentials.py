"""Development credentials: API keys for every role and the partners' secrets.

Generated once into the git-ignored state folder. `dev-credentials.env` holds the plaintext a
developer needs to call the APIs, and the development keys for data at rest (partner secrets,
sealed seller contacts); `keyring.json` holds only hashes and is what services read.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from shared import keys as at_rest
from shared.auth import Role, hash_key, new_key
from shared.pii import generate_pair

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
    # Each logistics partner's own key (client id `partner:<id>`, bound to that partner).
    ("DISPUTEDESK_KEY_PARTNER_SWIFTSHIP", "partner:swiftship", [Role.PARTNER], None),
    ("DISPUTEDESK_KEY_PARTNER_RAPIDROUTE", "partner:rapidroute", [Role.PARTNER], None),
    ("DISPUTEDESK_KEY_PARTNER_DESIPOST", "partner:desipost", [Role.PARTNER], None),
]


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_folder() -> Path:
    return Path(os.environ.get("DISPUTEDESK_STATE_DIR") or repo_root() / ".state")


def portal_client(seller_id: str) -> Client:
    """A seller portal key bound to `seller_id` (the fault drill gives each of its sellers one)."""
    env_name = "DISPUTEDESK_KEY_PORTAL_" + "".join(c if c.isalnum() else "_" for c in seller_id)
    return (env_name.upper(), f"portal:{seller_id}", [Role.SELLER_PORTAL], seller_id)


def _keyring_entry(key: str, client: Client) -> dict[str, object]:
    _, client_id, roles, seller_id = client
    entry: dict[str, object] = {
        "key_hash": hash_key(key),
        "client_id": client_id,
        "roles": [str(r) for r in roles],
        "seller_id": seller_id,
    }
    if Role.PARTNER in roles:
        entry["partner_id"] = client_id.removeprefix("partner:")
    return entry


def generate(clients: list[Client] = DEV_CLIENTS) -> tuple[dict[str, str], dict[str, object]]:
    """Fresh plaintext values and the matching keyring (hashes only)."""
    plain: dict[str, str] = {}
    keys = []
    for client in clients:
        key = new_key()
        plain[client[0]] = key
        keys.append(_keyring_entry(key, client))
    plain["SWIFTSHIP_SECRET"] = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    plain["RAPIDROUTE_SECRET"] = "rr_live_" + secrets.token_hex(16)
    plain["DESIPOST_API_KEY"] = "dp_" + secrets.token_urlsafe(24)
    plain.update(development_at_rest_keys())
    return plain, {"keys": keys}


def development_at_rest_keys() -> dict[str, str]:
    """Development keys for data at rest, in the form an operator supplies them."""
    private, public = generate_pair()
    return {
        at_rest.SECRETS_KEYS: at_rest.format_entry("dev1", secrets.token_bytes(32)),
        at_rest.PII_PUBLIC_KEY: at_rest.format_entry("dev1", public),
        at_rest.PII_PRIVATE_KEYS: at_rest.format_entry("dev1", private),
    }


AT_REST_KEYS = (at_rest.SECRETS_KEYS, at_rest.PII_PUBLIC_KEY, at_rest.PII_PRIVATE_KEYS)


def at_rest_environment(base: Mapping[str, str], plain: Mapping[str, str]) -> dict[str, str]:
    """The development keys of `plain` for every key list `base` does not name itself.

    Keys the operator supplies (the variable or its `_FILE`) always win. Launchers merge the
    result into the environment of both the seeding step and the services, so both read the
    same keys."""
    return {
        name: plain[name]
        for name in AT_REST_KEYS
        if name in plain and not base.get(name) and not base.get(f"{name}_FILE")
    }


def ensure(folder: Path, *, force: bool = False, clients: list[Client] = DEV_CLIENTS) -> bool:
    """Create the credential files unless present; True if they were (re)generated."""
    env_path, ring_path = folder / CREDENTIALS_FILE, folder / KEYRING_FILE
    if env_path.exists() and ring_path.exists() and not force:
        _add_missing_at_rest_keys(env_path)
        _add_missing_clients(env_path, ring_path, clients)
        _write_key_files(folder, read_env(env_path))
        return False
    folder.mkdir(parents=True, exist_ok=True)
    plain, ring = generate(clients)
    lines = ["# disputedesk development credentials (generated; never commit)"]
    lines += [f"{k}={v}" for k, v in plain.items()]
    env_path.write_text("\n".join(lines) + "\n")
    env_path.chmod(0o600)
    ring_path.write_text(json.dumps(ring, indent=2) + "\n")
    _write_key_files(folder, plain)
    return True


# The at-rest keys also as one file each, the form a deployment mounts them in
# (`DISPUTEDESK_*_FILE`, see deploy/docker-compose.yml); same values as dev-credentials.env.
KEY_FILES = {
    at_rest.SECRETS_KEYS: "secrets.keys",
    at_rest.PII_PRIVATE_KEYS: "pii-private.keys",
    at_rest.PII_PUBLIC_KEY: "pii-public.key",
}


def _write_key_files(folder: Path, plain: Mapping[str, str]) -> None:
    for name, file_name in KEY_FILES.items():
        if name in plain:
            path = folder / file_name
            path.write_text(f"# {name} (development; current key first)\n{plain[name]}\n")


def _add_missing_at_rest_keys(env_path: Path) -> None:
    # Credentials made before data at rest was encrypted lack its keys: add them, keep the rest.
    present = read_env(env_path)
    missing = {k: v for k, v in development_at_rest_keys().items() if k not in present}
    if missing:
        with env_path.open("a") as out:
            out.writelines(f"{k}={v}\n" for k, v in missing.items())


def _add_missing_clients(env_path: Path, ring_path: Path, clients: list[Client]) -> None:
    # Credentials made before a role existed (the partner keys) lack its clients: add them.
    present = read_env(env_path)
    missing = [c for c in clients if c[0] not in present]
    if not missing:
        return
    ring = json.loads(ring_path.read_text())
    with env_path.open("a") as out:
        for client in missing:
            key = new_key()
            out.write(f"{client[0]}={key}\n")
            ring["keys"].append(_keyring_entry(key, client))
    ring_path.write_text(json.dumps(ring, indent=2) + "\n")


def export_dev_keys(folder: Path, environ: dict[str, str] | None = None) -> None:
    """Put the development at-rest keys of `folder` into `environ` (the process environment by
    default) unless the operator named keys there already; nothing when there are none."""
    env_path = folder / CREDENTIALS_FILE
    if env_path.exists():
        target = os.environ if environ is None else environ
        target.update(at_rest_environment(target, read_env(env_path)))


def read_env(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out
