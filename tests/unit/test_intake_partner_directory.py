"""The partner directory reads a partner once however many webhooks miss its cache at once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from services.intake.partners import directory as directory_module
from services.intake.partners.directory import PartnerDirectory
from services.intake.partners.secrets import PartnerSecrets
from shared.keys import format_entry, parse_key_list
from shared.secretbox import SecretBox

SECRETS = PartnerSecrets(SecretBox(parse_key_list(format_entry("k1", bytes(32)), name="test")))


class FakeRegistry:
    """Stands in for the partner repository; `release` holds every read until set."""

    def __init__(self) -> None:
        self.reads = 0
        self.release = asyncio.Event()
        self.fail_next = False
        self.secrets: list[Any] = []

    async def get_partner(self, session: Any, partner_id: str) -> Any:
        self.reads += 1
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("database away")
        if partner_id != "swiftship":
            return None
        return SimpleNamespace(
            partner_id=partner_id, scheme="swiftship", active=True, rate_limit_per_s=200
        )

    async def all_secrets(self, session: Any, *, partner_id: str) -> list[Any]:
        return list(self.secrets)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    fake = FakeRegistry()
    monkeypatch.setattr(directory_module.repository, "get_partner", fake.get_partner)
    monkeypatch.setattr(directory_module.repository, "all_secrets", fake.all_secrets)
    return fake


async def test_concurrent_misses_share_one_read(registry: FakeRegistry) -> None:
    directory = PartnerDirectory(SECRETS)
    lookups = [asyncio.create_task(directory.get(None, "swiftship")) for _ in range(50)]  # type: ignore[arg-type]
    await asyncio.sleep(0)
    registry.release.set()
    entries = await asyncio.gather(*lookups)
    assert registry.reads == 1
    assert {e.partner_id for e in entries if e} == {"swiftship"}
    assert await directory.get(None, "swiftship") is entries[0]  # type: ignore[arg-type]
    assert registry.reads == 1


async def test_waiters_read_for_themselves_when_the_shared_read_fails(
    registry: FakeRegistry,
) -> None:
    directory = PartnerDirectory(SECRETS)
    registry.fail_next = True
    first = asyncio.create_task(directory.get(None, "swiftship"))  # type: ignore[arg-type]
    second = asyncio.create_task(directory.get(None, "swiftship"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    registry.release.set()
    with pytest.raises(ConnectionError):
        await first
    entry = await second
    assert entry is not None and entry.partner_id == "swiftship"
    assert registry.reads == 2


async def test_an_entry_read_across_an_admin_change_is_not_cached(
    registry: FakeRegistry,
) -> None:
    directory = PartnerDirectory(SECRETS)
    lookup = asyncio.create_task(directory.get(None, "swiftship"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    directory.invalidate("swiftship")  # an admin rotated a secret meanwhile
    registry.release.set()
    await lookup
    await directory.get(None, "swiftship")  # type: ignore[arg-type]
    assert registry.reads == 2


async def test_the_cache_answers_without_a_session_only_while_fresh(
    registry: FakeRegistry,
) -> None:
    """What a webhook asks before opening a session: the entry while it is fresh, else None."""
    now = [100.0]
    directory = PartnerDirectory(SECRETS, ttl_s=2.0, monotonic=lambda: now[0])
    registry.release.set()
    assert directory.cached("swiftship") is None
    entry = await directory.get(None, "swiftship")  # type: ignore[arg-type]
    assert directory.cached("swiftship") is entry
    now[0] += 2.0
    assert directory.cached("swiftship") is None
    directory.invalidate("swiftship")
    assert directory.cached("swiftship") is None


async def test_unknown_partners_leave_nothing_behind(registry: FakeRegistry) -> None:
    directory = PartnerDirectory(SECRETS)
    registry.release.set()
    assert await directory.get(None, "nobody") is None  # type: ignore[arg-type]
    assert directory._loading == {} and directory._entries == {}


def test_a_secret_made_with_a_key_no_longer_listed_is_skipped_not_an_error() -> None:
    from datetime import UTC, datetime

    from services.intake.models import PartnerSecret

    other = PartnerSecrets(SecretBox(parse_key_list(format_entry("k0", bytes([7]) * 32), name="t")))
    lost = PartnerSecret(
        partner_id="swiftship",
        secret_encrypted=other.encrypt(partner_id="swiftship", secret="whsec_lost"),
        not_after=datetime.now(UTC),
    )
    kept = PartnerSecret(
        partner_id="swiftship",
        secret_encrypted=SECRETS.encrypt(partner_id="swiftship", secret="whsec_kept"),
    )
    hashed = PartnerSecret(partner_id="desipost", secret_hash="ab" * 32)
    assert SECRETS.credential(lost) is None
    assert SECRETS.credential(kept).secret == "whsec_kept"  # type: ignore[union-attr]
    assert SECRETS.credential(hashed).secret_hash == "ab" * 32  # type: ignore[union-attr]


class CountingSecrets(PartnerSecrets):
    def __init__(self) -> None:
        super().__init__(SECRETS.box)
        self.opened = 0

    def credential(self, row: Any) -> Any:
        self.opened += 1
        return super().credential(row)


def _secret_row(row_id: int, plain: str) -> Any:
    from services.intake.models import PartnerSecret

    return PartnerSecret(
        id=row_id,
        partner_id="swiftship",
        secret_encrypted=SECRETS.encrypt(partner_id="swiftship", secret=plain),
    )


async def test_a_reload_decrypts_only_the_secrets_it_has_not_opened(
    registry: FakeRegistry,
) -> None:
    registry.release.set()
    counting = CountingSecrets()
    directory = PartnerDirectory(counting)
    registry.secrets = [_secret_row(1, "whsec_a"), _secret_row(2, "whsec_b")]
    entry = await directory.get(None, "swiftship")  # type: ignore[arg-type]
    assert entry is not None and {c.secret for c in entry.credentials} == {"whsec_a", "whsec_b"}
    assert counting.opened == 2
    directory.invalidate()
    await directory.get(None, "swiftship")  # type: ignore[arg-type]
    assert counting.opened == 2  # nothing changed: nothing decrypted
    registry.secrets = [registry.secrets[1], _secret_row(3, "whsec_c")]  # a rotation
    directory.invalidate()
    entry = await directory.get(None, "swiftship")  # type: ignore[arg-type]
    assert entry is not None and {c.secret for c in entry.credentials} == {"whsec_b", "whsec_c"}
    assert counting.opened == 3
    assert len(directory._opened["swiftship"]) == 2  # the retired secret is forgotten


async def test_a_watched_directory_keeps_entries_while_it_hears_the_registry(
    registry: FakeRegistry,
) -> None:
    now = [100.0]
    listening = [True]
    directory = PartnerDirectory(SECRETS, ttl_s=2.0, watched_ttl_s=60.0, monotonic=lambda: now[0])
    changed = directory.watch(lambda: listening[0])
    registry.release.set()
    entry = await directory.get(None, "swiftship")  # type: ignore[arg-type]
    now[0] += 3.0
    assert directory.cached("swiftship") is None  # subscribed, not heard yet: the short interval
    changed()  # the LISTEN took effect (a subscription fires its channel once)
    entry = await directory.get(None, "swiftship")  # type: ignore[arg-type]
    now[0] += 30.0
    assert directory.cached("swiftship") is entry
    assert registry.reads == 2
    changed()  # the registry changed
    assert directory.cached("swiftship") is None
    entry = await directory.get(None, "swiftship")  # type: ignore[arg-type]
    listening[0] = False  # the LISTEN connection lost: the short interval again
    now[0] += 3.0
    assert directory.cached("swiftship") is None
    listening[0] = True
    changed()  # the connection's return fires the channel: what changed meanwhile is forgotten
    assert directory.cached("swiftship") is None
    entry = await directory.get(None, "swiftship")  # type: ignore[arg-type]
    now[0] += 60.0  # the safety interval
    assert directory.cached("swiftship") is None
