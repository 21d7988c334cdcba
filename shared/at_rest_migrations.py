"""Data steps the migrations that move data at rest share: they read keys at upgrade time.

A migration that finds rows to encrypt or seal needs the operator's keys in the environment of
`disputedesk migrate` (see shared/keys.py); it fails with `MissingKeyError` before changing
anything when they are absent. A database without such rows (a new one) upgrades without keys.
Table and column names come from the migrations themselves, never from input.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from shared.keys import PII_PUBLIC_KEY, load_key_list
from shared.pii import ContactSealer

LEGACY_FIELD = "seller_email"
SEALED_FIELD = "seller_contact"


def _sealer(purpose: str) -> ContactSealer:
    return ContactSealer.from_keys(load_key_list(PII_PUBLIC_KEY, purpose=purpose))


def seal_address_column(
    bind: Connection, *, table: str, key: str, plain: str, sealed: str, purpose: str
) -> int:
    """Fill `sealed` with the sealed form of every non-empty `plain`; how many rows."""
    rows = bind.execute(
        text(f"SELECT {key}, {plain} FROM {table} WHERE {plain} IS NOT NULL AND {plain} <> ''")
    ).all()
    if not rows:
        return 0
    sealer = _sealer(purpose)
    bind.execute(
        text(f"UPDATE {table} SET {sealed} = :token WHERE {key} = :key"),
        [{"key": row[0], "token": sealer.seal(row[1])} for row in rows],
    )
    return len(rows)


def seal_outbox_addresses(bind: Connection, *, table: str = "outbox", purpose: str) -> None:
    """Events still waiting in the outbox go out sealed; published ones (kept only for
    investigations, until their retention) lose the address."""
    bind.execute(
        text(
            f"UPDATE {table} SET payload = payload - '{LEGACY_FIELD}' "
            f"WHERE published_at IS NOT NULL AND payload ? '{LEGACY_FIELD}'"
        )
    )
    pending = bind.execute(
        text(
            f"SELECT id, payload ->> '{LEGACY_FIELD}' FROM {table} "
            f"WHERE published_at IS NULL AND payload ? '{LEGACY_FIELD}'"
        )
    ).all()
    with_address = [row for row in pending if row[1]]
    sealer = _sealer(purpose) if with_address else None
    for row_id, address in pending:
        token = sealer.seal(address) if sealer is not None and address else None
        bind.execute(
            text(
                f"UPDATE {table} SET payload = (payload - '{LEGACY_FIELD}') "
                f"|| jsonb_build_object('{SEALED_FIELD}', CAST(:token AS text)) WHERE id = :id"
            ),
            {"id": row_id, "token": token},
        )
