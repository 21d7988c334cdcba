"""Upgrading a database that holds plaintext: secrets get encrypted, addresses sealed or gone,
with the operator's keys read at upgrade time, and nothing changed when they are missing.

Each test migrates a scratch database on the real PostgreSQL to the revision before, writes
rows as the old code did, then upgrades to head.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.models import PartnerSecret
from services.intake.partners.secrets import PartnerSecrets
from shared import keys
from shared.keys import MissingKeyError
from shared.migrations import upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database
from tests.support.notifications import contact_opener

ADDRESS = "asha.legacy@example.com"


@pytest.fixture
async def scratch(harness: Harness) -> AsyncIterator[tuple[str, AsyncEngine]]:
    async with scratch_database(harness, "test_at_rest") as database:
        yield database


async def _exec(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.begin() as conn:
        result = await conn.execute(text(sql), params)
        return list(result.all()) if result.returns_rows else []


def _outbox_row(published: bool) -> dict[str, Any]:
    return {
        "ce": uuid.uuid4(),
        "payload": json.dumps({"type": "legacy", "seller_email": ADDRESS, "return_id": "RET-L"}),
        "published": datetime.now(UTC) if published else None,
    }


_OUTBOX_INSERT = (
    "INSERT INTO outbox (ce_id, ce_type, ce_source, ce_time, topic, key, payload, published_at) "
    "VALUES (:ce, 'legacy', 'test', now(), 't', 'RET-L', CAST(:payload AS jsonb), :published)"
)


async def test_intake_upgrade_encrypts_secrets_and_forgets_addresses(
    scratch: tuple[str, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = scratch
    await asyncio.to_thread(upgrade, "intake", url, "7e654c167361")
    await _exec(
        engine,
        "INSERT INTO partners (partner_id, display_name, scheme, liability_cap, "
        "rate_limit_per_s, active) VALUES ('rr-old', 'Old', 'rapidroute', 1, 1, true)",
    )
    await _exec(
        engine,
        "INSERT INTO partner_secrets (partner_id, secret) VALUES ('rr-old', 'rr_live_legacy')",
    )
    await _exec(
        engine,
        "INSERT INTO escalations (escalation_id, return_id, seller_id, claim_type, "
        "claimed_amount, description, evidence, channel, filed_by, filed_at, seller_email) "
        "VALUES ('ESC-L', 'RET-L', 'S-L', 'DAMAGED', 1, 'd', '[]', 'PORTAL', 'x', now(), :a)",
        a=ADDRESS,
    )
    await _exec(
        engine,
        "INSERT INTO return_events (ce_id, return_id, ce_type, occurred_at, recorded_at, payload)"
        " VALUES (:ce, 'RET-L', 't', now(), now(), CAST(:p AS jsonb))",
        ce=uuid.uuid4(),
        p=json.dumps({"seller_email": ADDRESS}),
    )
    for published in (True, False):
        await _exec(engine, _OUTBOX_INSERT, **_outbox_row(published))

    saved = {k: v for k, v in _environ().items() if k.startswith(keys.SECRETS_KEYS)}
    for name in saved:
        monkeypatch.delenv(name)
    with pytest.raises(MissingKeyError, match="DISPUTEDESK_SECRETS_KEYS"):
        await asyncio.to_thread(upgrade, "intake", url)
    # Nothing changed: the old column still holds the secret, for a retry with the key.
    assert await _exec(engine, "SELECT secret FROM partner_secrets") == [("rr_live_legacy",)]

    for name, value in saved.items():
        monkeypatch.setenv(name, value)
    await asyncio.to_thread(upgrade, "intake", url)
    [(stored,)] = await _exec(engine, "SELECT secret_encrypted FROM partner_secrets")
    assert "legacy" not in stored
    row = PartnerSecret(partner_id="rr-old", secret_encrypted=stored, secret_hash=None)
    assert PartnerSecrets.from_environment().credential(row).secret == "rr_live_legacy"
    for table in ("escalations", "return_events", "partner_secrets"):
        hits = await _exec(engine, f"SELECT count(*) FROM {table} AS t WHERE t::text LIKE '%@%'")
        assert hits == [(0,)], table
    outbox = await _exec(engine, "SELECT published_at IS NOT NULL, payload FROM outbox")
    for published, payload in outbox:
        assert "seller_email" not in payload
        if published:
            assert "seller_contact" not in payload
        else:
            assert contact_opener().unseal(payload["seller_contact"]) == ADDRESS


async def test_reconciliation_upgrade_seals_the_addresses_it_holds(
    scratch: tuple[str, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = scratch
    opener = contact_opener()  # notifications' keys, before the test hides them
    await asyncio.to_thread(upgrade, "reconciliation", url, "38fac58d512e")
    await _exec(
        engine,
        "INSERT INTO cases (case_id, return_id, seller_id, origin, state, version, opened_at, "
        "updated_at, seller_email) VALUES ('CASE-L', 'RET-L', 'S-L', 'SELLER', 'OPEN', 1, now(),"
        " now(), :a)",
        a=ADDRESS,
    )
    await _exec(
        engine,
        "INSERT INTO escalations (escalation_id, ce_id, return_id, seller_id, claim_type, "
        "claimed_amount, description, evidence, channel, filed_at, filed_by, seller_email) "
        "VALUES ('ESC-L', :ce, 'RET-L', 'S-L', 'DAMAGED', 1, 'd', '[]', 'PORTAL', now(), 'x', :a)",
        ce=uuid.uuid4(),
        a=ADDRESS,
    )
    await _exec(engine, _OUTBOX_INSERT, **_outbox_row(False))
    public = {k: v for k, v in _environ().items() if k.startswith(keys.PII_PUBLIC_KEY)}
    for name in public:
        monkeypatch.delenv(name)
    with pytest.raises(MissingKeyError, match="DISPUTEDESK_PII_PUBLIC_KEY"):
        await asyncio.to_thread(upgrade, "reconciliation", url)
    for name, value in public.items():
        monkeypatch.setenv(name, value)
    # Only the public key is needed: reconciliation never holds what opens the tokens.
    for name in [k for k in _environ() if k.startswith(keys.PII_PRIVATE_KEYS)]:
        monkeypatch.delenv(name)
    await asyncio.to_thread(upgrade, "reconciliation", url)
    for table in ("cases", "escalations"):
        [(token,)] = await _exec(engine, f"SELECT seller_contact FROM {table}")
        assert "@" not in token
        assert opener.unseal(token) == ADDRESS
        hits = await _exec(engine, f"SELECT count(*) FROM {table} AS t WHERE t::text LIKE '%@%'")
        assert hits == [(0,)]
    [(payload,)] = await _exec(engine, "SELECT payload FROM outbox")
    assert "seller_email" not in payload and payload["seller_contact"].startswith("sc1.")


def _environ() -> dict[str, str]:
    return dict(os.environ)
