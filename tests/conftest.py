"""Session set-up: the real local stack (Kafka, PostgreSQL, SMTP sink) on test ports, fresh
test databases migrated to head, development credentials and registered partners."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from disputedesk import credentials
from services.reconciliation import wiring

ROOT = Path(__file__).resolve().parent.parent

# Property tests check what holds, not how fast: on a shared, loaded machine one example can take
# longer than hypothesis' default 200 ms deadline and fail a correct property (the ledger postings'
# did once under load). Speed is the benchmarks' business (bench/), never a test's.
settings.register_profile(
    "disputedesk", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("disputedesk")

# Tests drive reconciliation's handlers without its app too: the rooms are wired as the app does.
wiring.install()

SERVICES = ("intake", "fraud", "reconciliation", "notifications")
# The seller the development seller portal key is bound to, and its registered address.
DEMO_SELLER, DEMO_SELLER_EMAIL = "S-DEMO-1", "seller.demo@example.com"

# The test stack never shares ports or state with a developer's `make run`.
TEST_STACK_DEFAULTS = {
    "DISPUTEDESK_STATE_DIR": str(ROOT / ".state" / "test"),
    "DISPUTEDESK_KAFKA_PORT": "29092",
    "DISPUTEDESK_PG_PORT": "29432",
    "DISPUTEDESK_SMTP_PORT": "29025",
}


@dataclass
class Harness:
    env: dict[str, str]
    secrets: dict[str, str]
    mail_dir: Path
    stack: object

    def key(self, role_env: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role_env]}"}


@pytest.fixture(autouse=True)
def _hang_report(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that hangs says which awaits never returned (tests/support/hangs.py)."""
    from tests.support.hangs import tasks_dumped_before

    marker = request.node.get_closest_marker("timeout")
    timeout = (
        marker.args[0]
        if marker and marker.args
        else request.config.getoption("timeout", None) or request.config.getini("timeout")
    )
    with tasks_dumped_before(float(timeout) if timeout else None):
        yield


@pytest.fixture(scope="session")
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    from disputedesk.stack import Stack
    from shared.migrations import upgrade

    environ = dict(os.environ)
    for k, v in TEST_STACK_DEFAULTS.items():
        environ.setdefault(k, v)
    stack = Stack.from_env(environ)
    env = dict(stack.up())
    # Services check their topics at start-up and create none: `topics apply` is ours to run.
    stack.apply_topics(env)
    external_db = all(f"{s.upper()}_DATABASE_URL" in os.environ for s in SERVICES)
    if not external_db:
        for svc in SERVICES:
            db = f"test_{svc}"
            stack.postgres.drop_database(db)
            stack.postgres.create_database(db)
            env[f"{svc.upper()}_DATABASE_URL"] = stack.postgres.database_url(db)
    for svc in SERVICES:
        upgrade(svc, env[f"{svc.upper()}_DATABASE_URL"])

    state = Path(environ["DISPUTEDESK_STATE_DIR"])
    creds_dir = state / "test-credentials"
    credentials.ensure(creds_dir)
    secrets = credentials.read_env(creds_dir / credentials.CREDENTIALS_FILE)
    env["DISPUTEDESK_KEYRING_FILE"] = str(creds_dir / credentials.KEYRING_FILE)
    # Keys for data at rest: the test credentials' own, unless the caller supplies keys.
    env.update(credentials.at_rest_environment(environ, secrets))
    # Fast timers for tests: nothing here waits on production-length polling.
    env.setdefault("LOG_LEVEL", "WARNING")
    # Evidence answers wait for the uploads to settle: seconds here, not the minute in use.
    env.setdefault("NOTIFICATIONS_EVIDENCE_SETTLE_S", "8")
    # Answers spaced (off by default): on here, for half a minute, so the spacing is exercised.
    env.setdefault("NOTIFICATIONS_EVIDENCE_ANSWER_SPACING_S", "30")
    # Tests bring a seller's digest hour forward by writing its flush time; the flusher sleeps
    # until the digest it knows of falls due (hours away) or this long: a second here, not the
    # half minute in use, or each such test waits up to that half minute for the flush.
    env.setdefault("NOTIFICATIONS_DIGEST_POLL_INTERVAL_S", "1")
    os.environ.update(env)

    from services.intake.partners.seeding import seed_dev_partners

    asyncio.run(seed_dev_partners(env["INTAKE_DATABASE_URL"], secrets))
    mail_dir = Path(env.get("MAIL_SINK_DIR", state / "mail"))
    yield Harness(env=env, secrets=secrets, mail_dir=mail_dir, stack=stack)
    # The stack stays up between runs (warm starts are seconds); `make test` stops it at the end.


@pytest.fixture(scope="session")
async def pipeline(harness: Harness) -> AsyncIterator[dict[str, object]]:
    """All four services running in-process for the whole session."""
    from tests.support.services import running

    async with running(*SERVICES) as services:
        # The seller the portal key acts for, registered as the marketplace registers its
        # sellers: the desk answers a portal filing at the directory's address.
        r = await services["notifications"].client.put(  # type: ignore[attr-defined]
            f"/v1/sellers/{DEMO_SELLER}",
            json={"emails": [DEMO_SELLER_EMAIL]},
            headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE"),
        )
        assert r.status_code in (200, 201), r.text
        yield services  # type: ignore[misc]
