"""The partner directory hears the registry's NOTIFY (intake migration e7b3c9a1f5d2): a change
written by anyone (another replica's admin, an operator's SQL, the retention) is seen as soon as
it commits, and while the directory listens it does not read every partner again every 2 s.

Real PostgreSQL; the change is written behind the running intake's back, as another replica
would write it, so its own admin router's `invalidate` plays no part."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from services.intake.partners.directory import PartnerDirectory
from services.intake.partners.secrets import PartnerSecrets
from shared import keys
from shared.keys import parse_key_list
from shared.secretbox import SecretBox
from tests.conftest import Harness
from tests.support.db import execute
from tests.support.factories import rapidroute_batch, rapidroute_event, uid
from tests.support.signing import rapidroute_headers
from tests.support.waiting import eventually


async def _register_rapidroute(harness: Harness, intake: Any, secret: str) -> str:
    partner_id = uid("rr").lower()
    r = await intake.client.post(
        "/v1/admin/partners",
        json={
            "partner_id": partner_id,
            "display_name": "RapidRoute South",
            "scheme": "rapidroute",
            "liability_cap": 500_000,
            "secret": secret,
        },
        headers=harness.key("DISPUTEDESK_KEY_ADMIN"),
    )
    assert r.status_code == 201, r.text
    return partner_id


async def _signed_batch_status(intake: Any, partner_id: str, secret: str) -> int:
    body = rapidroute_batch([rapidroute_event(uid("RET"))])
    r = await intake.client.post(
        f"/v1/webhooks/{partner_id}", content=body, headers=rapidroute_headers(secret, body)
    )
    return r.status_code


def _directory(intake: Any) -> PartnerDirectory:
    directory = intake.runtime.extras["partner_directory"]
    assert isinstance(directory, PartnerDirectory)
    return directory


async def test_a_secret_added_behind_the_process_authenticates_as_soon_as_it_commits(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    intake = pipeline["intake"]
    first = "rr_live_" + uuid.uuid4().hex
    partner_id = await _register_rapidroute(harness, intake, first)
    assert await _signed_batch_status(intake, partner_id, first) == 202  # cached now
    directory = _directory(intake)
    # Neither expiry can explain what follows: only the notification can.
    monkeypatch.setattr(directory, "ttl_s", 3600.0)
    monkeypatch.setattr(directory, "watched_ttl_s", 3600.0)
    assert directory.cached(partner_id) is not None
    second = "rr_live_" + uuid.uuid4().hex
    box = PartnerSecrets(SecretBox(parse_key_list(os.environ[keys.SECRETS_KEYS], name="k")))
    await execute(
        intake,
        "INSERT INTO partner_secrets (partner_id, secret_encrypted) VALUES (:p, :s)",
        p=partner_id,
        s=box.encrypt(partner_id=partner_id, secret=second),
    )
    await eventually(
        lambda: _forgotten(directory, partner_id), timeout=5, what="the directory to hear it"
    )
    assert await _signed_batch_status(intake, partner_id, second) == 202
    # A partner deactivated behind its back is refused as promptly.
    await execute(intake, "UPDATE partners SET active = false WHERE partner_id = :p", p=partner_id)
    await eventually(
        lambda: _forgotten(directory, partner_id), timeout=5, what="the directory to hear it"
    )
    assert await _signed_batch_status(intake, partner_id, first) == 404


async def _forgotten(directory: PartnerDirectory, partner_id: str) -> bool:
    return directory.cached(partner_id) is None


async def test_a_listening_directory_keeps_its_entries_past_the_polling_interval(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listening, an entry is read again only when the registry changed (or after the long
    safety interval), not every `ttl_s`: the reload, its session, two reads and the decryption
    of every secret, was 1.6 % of intake's CPU under the end-to-end load."""
    intake = pipeline["intake"]
    secret = "rr_live_" + uuid.uuid4().hex
    partner_id = await _register_rapidroute(harness, intake, secret)
    directory = _directory(intake)
    # Subscribed and heard once (the subscription fires its channel when its LISTEN is on).
    await eventually(lambda: _listening(intake), timeout=10, what="the LISTEN connection")
    assert await _signed_batch_status(intake, partner_id, secret) == 202
    entry = directory.cached(partner_id)
    assert entry is not None
    monkeypatch.setattr(directory, "ttl_s", 0.0)  # what the entry would live unheard
    assert directory.cached(partner_id) is entry
    # The LISTEN connection lost: back to the short interval at once.
    monkeypatch.setattr(intake.runtime.wakeups.connected, "is_set", lambda: False)
    assert directory.cached(partner_id) is None


async def _listening(intake: Any) -> bool:
    return bool(intake.runtime.wakeups.connected.is_set()) and _directory(intake)._heard
