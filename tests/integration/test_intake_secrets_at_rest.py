"""Partner secrets at rest: encrypted with the operator's key, rotated, purged after revocation;
a service without its keys refuses to start, saying which.

Real PostgreSQL and Kafka; intake instances run in this process (the rotation one with its own
key list), and the start-up check also as the uvicorn process an operator would run.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.intake.partners.directory import PartnerDirectory
from services.intake.partners.secrets import PartnerSecrets, reencrypt_all
from shared import keys
from shared.keys import MissingKeyError, format_entry, parse_key_list
from shared.migrations import upgrade
from shared.secretbox import SecretBox
from tests.conftest import ROOT, Harness
from tests.support.db import rows, scalar
from tests.support.factories import rapidroute_batch, rapidroute_event, uid
from tests.support.services import running
from tests.support.signing import rapidroute_headers
from tests.support.waiting import eventually


def admin(harness: Harness) -> dict[str, str]:
    return harness.key("DISPUTEDESK_KEY_ADMIN")


async def _register_rapidroute(harness: Harness, intake: Any, secret: str) -> str:
    partner_id = uid("rr").lower()
    r = await intake.client.post(
        "/v1/admin/partners",
        json={
            "partner_id": partner_id,
            "display_name": "RapidRoute North",
            "scheme": "rapidroute",
            "liability_cap": 500_000,
            "secret": secret,
        },
        headers=admin(harness),
    )
    assert r.status_code == 201, r.text
    return partner_id


async def _signed_batch_status(intake: Any, partner_id: str, secret: str) -> int:
    body = rapidroute_batch([rapidroute_event(uid("RET"))])
    r = await intake.client.post(
        f"/v1/webhooks/{partner_id}", content=body, headers=rapidroute_headers(secret, body)
    )
    return r.status_code


async def test_hmac_secrets_are_stored_encrypted_and_still_authenticate(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    intake = pipeline["intake"]
    secret = "rr_live_" + uuid.uuid4().hex
    partner_id = await _register_rapidroute(harness, intake, secret)
    [(stored, hashed)] = await rows(
        intake,
        "SELECT secret_encrypted, secret_hash FROM partner_secrets WHERE partner_id = :p",
        p=partner_id,
    )
    assert hashed is None and stored.startswith("v1.dev1.")
    assert secret not in stored and secret[8:] not in stored
    # No column of the table holds the secret in clear, for this partner or the seeded ones.
    for plain in (
        secret,
        harness.secrets["SWIFTSHIP_SECRET"],
        harness.secrets["RAPIDROUTE_SECRET"],
    ):
        found = await scalar(
            intake,
            "SELECT count(*) FROM partner_secrets AS s WHERE s::text LIKE :x",
            x=f"%{plain}%",
        )
        assert found == 0
    assert await _signed_batch_status(intake, partner_id, secret) == 202
    assert await _signed_batch_status(intake, partner_id, "rr_live_" + uuid.uuid4().hex) == 401


@pytest.fixture
async def scratch_intake_database(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """Intake instances started in the test use a database of their own: a key rotation
    rewrites every secret, which must not touch the session's shared intake."""
    stack: Any = harness.stack
    name = f"test_intake_keys_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(stack.postgres.create_database, name)
    url = stack.postgres.database_url(name)
    await asyncio.to_thread(upgrade, "intake", url)
    monkeypatch.setenv("INTAKE_DATABASE_URL", url)
    monkeypatch.setenv("INTAKE_OUTBOX_POLL_INTERVAL_S", "3600")  # its events stay home
    yield url
    await asyncio.to_thread(stack.postgres.drop_database, name)


async def test_a_key_rotation_reads_old_secrets_writes_new_ones_then_drops_the_old_key(
    harness: Harness, scratch_intake_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_secret = "rr_live_" + uuid.uuid4().hex
    async with running("intake") as services:  # the development key only
        partner_id = await _register_rapidroute(harness, services["intake"], old_secret)
    new_key = format_entry("k2026b", os.urandom(32))
    old_keys = os.environ[keys.SECRETS_KEYS]
    # Step 1: the new key goes first, the old one stays after it as retired.
    monkeypatch.setenv(keys.SECRETS_KEYS, f"{new_key}\n{old_keys}")
    async with running("intake") as services:
        rotated = services["intake"]
        assert await _signed_batch_status(rotated, partner_id, old_secret) == 202
        fresh_secret = "rr_live_" + uuid.uuid4().hex
        r = await rotated.client.post(
            f"/v1/admin/partners/{partner_id}/secrets",
            json={
                "secret": fresh_secret,
                "previous_not_after": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            },
            headers=admin(harness),
        )
        assert r.status_code == 200, r.text
        stored = [
            value
            for (value,) in await rows(
                rotated,
                "SELECT secret_encrypted FROM partner_secrets WHERE partner_id = :p ORDER BY id",
                p=partner_id,
            )
        ]
        assert [s.split(".")[1] for s in stored] == ["dev1", "k2026b"]
        # Step 2: re-encrypt what the retired key made.
        both = PartnerSecrets(SecretBox(parse_key_list(f"{new_key},{old_keys}", name="keys")))
        async with rotated.runtime.sessionmaker() as session, session.begin():
            assert await reencrypt_all(session, secrets=both) == 1
        async with rotated.runtime.sessionmaker() as session, session.begin():
            assert await reencrypt_all(session, secrets=both) == 0  # repeatable
        stored_now = await rows(
            rotated,
            "SELECT secret_encrypted FROM partner_secrets WHERE partner_id = :p",
            p=partner_id,
        )
        assert {value.split(".")[1] for (value,) in stored_now} == {"k2026b"}
    # Step 3: the old key is dropped; every secret still opens, and still authenticates.
    monkeypatch.setenv(keys.SECRETS_KEYS, new_key)
    async with running("intake") as services:
        rotated = services["intake"]
        assert await _signed_batch_status(rotated, partner_id, old_secret) == 202
        assert await _signed_batch_status(rotated, partner_id, fresh_secret) == 202
        only_new = PartnerSecrets(SecretBox(parse_key_list(new_key, name="keys")))
        async with rotated.runtime.sessionmaker() as session:
            entry = await PartnerDirectory(only_new).get(session, partner_id)
        assert entry is not None
        assert {c.secret for c in entry.credentials} == {old_secret, fresh_secret}


async def test_revoked_secrets_go_after_their_grace_and_recent_ones_stay(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = pipeline["intake"]
    partner_id = await _register_rapidroute(harness, intake, "rr_live_" + uuid.uuid4().hex)
    now = datetime.now(UTC)
    grace = timedelta(hours=7 * 24)  # the default INTAKE_REVOKED_SECRET_GRACE_H
    secrets = PartnerSecrets(SecretBox(parse_key_list(os.environ[keys.SECRETS_KEYS], name="k")))
    ages = {"past-grace": grace + timedelta(hours=1), "within-grace": grace - timedelta(hours=1)}
    async with intake.runtime.sessionmaker() as session, session.begin():
        for label, age in ages.items():
            await session.execute(
                _insert_secret(),
                {
                    "p": partner_id,
                    "v": secrets.encrypt(partner_id=partner_id, secret=f"rr_live_{label}"),
                    "n": now - age,
                },
            )

    async def remaining() -> list[Any]:
        return await rows(
            intake,
            "SELECT not_after FROM partner_secrets WHERE partner_id = :p ORDER BY id",
            p=partner_id,
        )

    assert len(await remaining()) == 3
    # A fresh replica purges when it starts and then every retention interval: the step lives
    # in every intake process and its state in PostgreSQL, so it survives restarts.
    monkeypatch.setenv("INTAKE_RETENTION_INTERVAL_S", "0.2")
    async with running("intake"):
        left = await eventually(remaining, until=lambda r: len(r) == 2, what="purge")
    assert left[0][0] is None  # the active secret
    assert left[1][0] == pytest.approx(now - ages["within-grace"], abs=timedelta(seconds=1))


def _insert_secret() -> Any:
    from sqlalchemy import text

    return text(
        "INSERT INTO partner_secrets (partner_id, secret_encrypted, not_after) VALUES (:p, :v, :n)"
    )


@pytest.mark.parametrize(
    "service, variable",
    [
        ("intake", keys.SECRETS_KEYS),
        ("intake", keys.PII_PUBLIC_KEY),
        ("notifications", keys.PII_PRIVATE_KEYS),
    ],
)
def test_a_service_without_its_key_refuses_to_start_and_names_it(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, service: str, variable: str
) -> None:
    from importlib import import_module

    monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(f"{variable}_FILE", raising=False)
    with pytest.raises(MissingKeyError, match=f"{variable} .*{variable}_FILE"):
        import_module(f"services.{service}.app").create_app()


async def test_uvicorn_exits_at_start_with_the_missing_key_named(harness: Harness) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(keys.SECRETS_KEYS)}
    process = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.intake.app:create_app",
            "--factory",
            "--port",
            "0",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode != 0
    assert "MissingKeyError" in process.stderr
    assert "DISPUTEDESK_SECRETS_KEYS_FILE" in process.stderr
