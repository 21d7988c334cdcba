"""Delivery against SMTP servers that misbehave on cue: temporary failures retried on a
persisted backoff schedule (surviving a restart), permanent failures not retried, hard bounces
suppressing the address, suppressed addresses getting nothing, and no address in the logs."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY

from services.notifications.catalogue import samples
from services.notifications.messages.service import handle_case_event
from services.notifications.settings import NotificationsSettings
from shared.clock import ManualClock
from shared.events import CaseEventBase
from tests.conftest import Harness
from tests.support.db import rows, scalar
from tests.support.factories import uid
from tests.support.notifications import (
    ScriptedSmtpHandler,
    contact_opener,
    free_port,
    fresh_database,
    notifications_instance,
    scripted_smtp,
)
from tests.support.services import RunningService
from tests.support.waiting import eventually


@pytest.fixture
async def smtp(tmp_path: Path) -> AsyncIterator[tuple[ScriptedSmtpHandler, int]]:
    async with scripted_smtp(tmp_path / "mail") as server:
        yield server


@pytest.fixture
def database(harness: Harness) -> Iterator[str]:
    name = f"test_notif_{uuid.uuid4().hex[:10]}"
    url = fresh_database(harness.stack, name)
    yield url
    harness.stack.postgres.drop_database(name)  # type: ignore[attr-defined]


def settings_for(database: str, port: int, **over: Any) -> NotificationsSettings:
    values: dict[str, Any] = {
        "database_url": database,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "consumer_enabled": False,  # this instance only delivers what the test queues
        "retry_base_delay_s": 0.05,
        "retry_jitter": 0.0,
        "dispatch_poll_interval_s": 0.02,
        "digest_poll_interval_s": 0.05,
    }
    values.update(over)
    return NotificationsSettings(**values)


async def queue(service: RunningService, event: CaseEventBase) -> None:
    runtime = service.runtime
    async with runtime.sessionmaker() as session, session.begin():
        await handle_case_event(
            session,
            event=event,
            settings=runtime.settings,  # type: ignore[arg-type]
            now=runtime.clock.now(),
            opener=contact_opener(),
        )


async def status_of(service: RunningService, case_id: str, template: str) -> str | None:
    return await scalar(  # type: ignore[no-any-return]
        service,
        "SELECT status FROM messages WHERE case_id = :c AND template = :t",
        c=case_id,
        t=template,
    )


def counter(template: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "disputedesk_notifications_total", {"template": template, "outcome": outcome}
        )
        or 0.0
    )


async def test_451_twice_then_accepted_delivers_once_with_every_attempt_recorded(
    database: str, smtp: tuple[ScriptedSmtpHandler, int]
) -> None:
    handler, port = smtp
    handler.data_replies = ["451 4.3.0 Mailbox busy, try later"] * 2
    case_id = uid("CASE")
    retried_before = counter("acknowledgement", "retried")
    async with notifications_instance(settings=settings_for(database, port)) as service:
        await queue(service, samples.case_opened(case_id, datetime.now(UTC)))
        await eventually(
            lambda: status_of(service, case_id, "acknowledgement"),
            until=lambda s: s == "sent",
            what="message sent after two 451s",
        )
        attempts = await rows(
            service,
            "SELECT a.attempt, a.outcome, a.code, a.error, a.attempted_at, a.next_attempt_at "
            "FROM delivery_attempts a JOIN messages m USING (message_id) "
            "WHERE m.case_id = :c ORDER BY a.attempt",
            c=case_id,
        )
        sent_events = await rows(
            service,
            "SELECT payload FROM outbox WHERE ce_type = 'disputedesk.notifications.sent.v1' "
            "AND payload->>'case_id' = :c",
            c=case_id,
        )
    assert [(a.attempt, a.outcome, a.code) for a in attempts] == [
        (1, "retried", 451),
        (2, "retried", 451),
        (3, "sent", 250),
    ]
    assert "451" in attempts[0].error
    # Exponential: the second wait is twice the first (no jitter in this test).
    first_wait = attempts[0].next_attempt_at - attempts[0].attempted_at
    second_wait = attempts[1].next_attempt_at - attempts[1].attempted_at
    assert first_wait == timedelta(seconds=0.05) and second_wait == timedelta(seconds=0.1)
    assert attempts[1].attempted_at >= attempts[0].next_attempt_at
    assert len(handler.delivered()) == 1
    assert handler.data_commands == 3
    assert [e.payload["attempts"] for e in sent_events] == [3]
    assert counter("acknowledgement", "retried") - retried_before == 2


async def test_550_on_rcpt_fails_once_suppresses_the_address_and_later_mail_is_not_sent(
    database: str, smtp: tuple[ScriptedSmtpHandler, int]
) -> None:
    handler, port = smtp
    address = f"{uid('gone').lower()}@example.com"
    handler.refuse_rcpt = f"550 5.1.1 <{address}>: mailbox does not exist"
    case_id = uid("CASE")
    async with notifications_instance(settings=settings_for(database, port)) as service:
        await queue(service, samples.case_opened(case_id, datetime.now(UTC), seller_email=address))
        await eventually(
            lambda: status_of(service, case_id, "acknowledgement"),
            until=lambda s: s == "failed",
            what="permanent failure recorded",
        )
        await asyncio.sleep(0.5)  # a retry, if there were one, would be due by now
        attempts = await rows(
            service,
            "SELECT a.outcome, a.code, a.error FROM delivery_attempts a "
            "JOIN messages m USING (message_id) WHERE m.case_id = :c",
            c=case_id,
        )
        assert [(a.outcome, a.code) for a in attempts] == [("failed", 550)]
        assert address not in attempts[0].error  # scrubbed: servers echo the address
        failed = await rows(
            service,
            "SELECT payload FROM outbox WHERE ce_type = 'disputedesk.notifications.failed.v1' "
            "AND payload->>'case_id' = :c",
            c=case_id,
        )
        assert len(failed) == 1 and failed[0].payload["permanent"] is True
        assert address not in str(failed[0].payload)
        suppressed = await rows(service, "SELECT address_hash, reason FROM suppressions")
        assert [s.reason for s in suppressed] == ["hard_bounce"]
        assert address not in suppressed[0].address_hash

        # The next message to that address is stopped before it reaches any server.
        handler.refuse_rcpt = None
        suppressed_before = counter("decision", "suppressed")
        await queue(service, samples.case_decided(case_id, datetime.now(UTC), seller_email=address))
        await eventually(
            lambda: status_of(service, case_id, "decision"),
            until=lambda s: s == "suppressed",
            what="suppressed decision",
        )
        assert handler.data_commands == 0 and handler.delivered() == []
        assert counter("decision", "suppressed") - suppressed_before == 1
        failed_events = await scalar(
            service,
            "SELECT count(*) FROM outbox WHERE ce_type = 'disputedesk.notifications.failed.v1' "
            "AND payload->>'case_id' = :c",
            c=case_id,
        )
        assert failed_events == 2


async def test_a_restart_during_backoff_still_delivers_on_the_persisted_schedule(
    database: str, smtp: tuple[ScriptedSmtpHandler, int]
) -> None:
    handler, port = smtp
    handler.data_replies = ["451 4.7.1 Greylisted, come back in a minute"]
    clock = ManualClock(datetime(2026, 11, 26, 6, 0, tzinfo=UTC))
    settings = settings_for(database, port, retry_base_delay_s=60.0)
    case_id = uid("CASE")
    async with notifications_instance(settings=settings, clock=clock) as first:
        await queue(first, samples.case_opened(case_id, clock.now()))
        await eventually(
            lambda: scalar(first, "SELECT count(*) FROM delivery_attempts"),
            until=lambda n: n == 1,
            what="first attempt recorded",
        )
        assert await status_of(first, case_id, "acknowledgement") == "pending"
    # The first instance is gone; a new one must pick the schedule up from the database.
    async with notifications_instance(settings=settings, clock=clock) as second:
        await asyncio.sleep(0.5)
        assert handler.delivered() == []  # not before the scheduled time
        clock.advance(timedelta(seconds=61))
        await eventually(
            lambda: status_of(second, case_id, "acknowledgement"),
            until=lambda s: s == "sent",
            what="delivered after the restart",
        )
        attempts = await rows(
            second, "SELECT outcome, code FROM delivery_attempts ORDER BY attempt"
        )
    assert [(a.outcome, a.code) for a in attempts] == [("retried", 451), ("sent", 250)]
    assert len(handler.delivered()) == 1


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_the_seller_address_never_appears_in_the_logs(
    database: str, smtp: tuple[ScriptedSmtpHandler, int]
) -> None:
    handler, port = smtp
    address = f"{uid('private').lower()}@example.com"
    handler.data_replies = [f"451 4.2.2 <{address}> mailbox full"]
    capture = _Capture()
    async with notifications_instance(settings=settings_for(database, port)) as service:
        root = logging.getLogger()
        level = root.level
        root.addHandler(capture)
        root.setLevel(logging.DEBUG)
        try:
            case_id = uid("CASE")
            await queue(
                service, samples.case_opened(case_id, datetime.now(UTC), seller_email=address)
            )
            await eventually(
                lambda: status_of(service, case_id, "acknowledgement"),
                until=lambda s: s == "sent",
                what="sent after a retry",
            )
            handler.refuse_rcpt = f"550 <{address}> no such user"
            await queue(
                service, samples.case_decided(case_id, datetime.now(UTC), seller_email=address)
            )
            await eventually(
                lambda: status_of(service, case_id, "decision"),
                until=lambda s: s == "failed",
                what="hard bounce",
            )
        finally:
            root.removeHandler(capture)
            root.setLevel(level)
    ours = [r for r in capture.records if not r.name.startswith("mail.log")]
    assert any("temporary delivery failure" in r.getMessage() for r in ours)
    assert any("delivery failed for good" in r.getMessage() for r in ours)
    for record in ours:
        text = record.getMessage() + repr(record.__dict__)
        assert address not in text, f"address leaked in a log record of {record.name}"


async def test_lessons_go_out_as_one_daily_digest_within_the_per_seller_limit(
    database: str, smtp: tuple[ScriptedSmtpHandler, int]
) -> None:
    from email import message_from_bytes
    from email.policy import default

    from services.notifications.messages.service import handle_seller_feedback
    from tests.support.mail import html_part, text_part

    handler, port = smtp
    # 10:00 India time; digests go out at 18:00 India time; one non-essential email a day.
    clock = ManualClock(datetime(2026, 11, 26, 4, 30, tzinfo=UTC))
    settings = settings_for(database, port, seller_daily_non_essential_limit=1, digest_hour_ist=18)
    seller, address = uid("S"), f"{uid('seller').lower()}@example.com"
    no_video, too_late = uid("CASE"), uid("CASE")
    async with notifications_instance(settings=settings, clock=clock) as service:
        await queue(
            service,
            samples.case_rejected(no_video, clock.now(), seller_id=seller, seller_email=address),
        )
        late = samples.case_rejected(too_late, clock.now(), seller_id=seller, seller_email=address)
        assert late.decision is not None
        await queue(
            service,
            late.model_copy(
                update={
                    "decision": late.decision.model_copy(
                        update={
                            "reason_code": "CLAIM_WINDOW_EXPIRED",
                            "explanation": "The claim was filed 9 days after delivery.",
                        }
                    )
                }
            ),
        )
        runtime = service.runtime
        async with runtime.sessionmaker() as session, session.begin():
            await handle_seller_feedback(
                session,
                event=samples.seller_feedback(
                    clock.now(), feedback_id=uid("FB"), seller_id=seller, seller_email=address
                ),
                settings=settings,
                now=clock.now(),
                opener=contact_opener(),
            )
        # Both decisions and the outreach go now; the lessons wait for the digest.
        await eventually(
            lambda: asyncio.to_thread(handler.delivered),
            until=lambda found: len(found) == 3,
            what="two decisions and outreach",
        )
        assert await scalar(service, "SELECT count(*) FROM digest_items") == 2

        clock.set(datetime(2026, 11, 26, 12, 31, tzinfo=UTC))  # 18:01 India time
        digest_status = await eventually(
            lambda: scalar(
                service, "SELECT status FROM messages WHERE template = 'policy_education'"
            ),
            what="digest message queued",
        )
        # The outreach already used today's allowance: the digest waits for tomorrow morning.
        assert digest_status == "pending"
        send_at = await scalar(
            service, "SELECT next_attempt_at FROM messages WHERE template = 'policy_education'"
        )
        assert send_at == datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 09:00 India time
        await asyncio.sleep(0.3)
        assert len(handler.delivered()) == 3

        clock.set(datetime(2026, 11, 27, 3, 31, tzinfo=UTC))
        found = await eventually(
            lambda: asyncio.to_thread(handler.delivered),
            until=lambda f: len(f) == 4,
            what="digest delivered",
        )
    digest = message_from_bytes(found[-1].read_bytes(), policy=default)
    assert no_video in digest["Subject"] and too_late in digest["Subject"]
    assert "2 tips" in digest["Subject"]
    for part in (text_part(digest), html_part(digest)):  # type: ignore[arg-type]
        assert "Keep an unboxing video for every return" in part
        assert "Check returns on the day they arrive" in part
        assert "within 7 days of delivery" in part


async def test_ops_manage_suppressions_see_attempts_and_resend(
    harness: Harness, database: str, smtp: tuple[ScriptedSmtpHandler, int]
) -> None:
    handler, port = smtp
    address = f"{uid('paused').lower()}@example.com"
    case_id = uid("CASE")
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    agent = harness.key("DISPUTEDESK_KEY_OPS_AGENT")
    async with notifications_instance(settings=settings_for(database, port)) as service:
        client = service.client
        r = await client.post("/v1/suppressions", json={"address": address}, headers=agent)
        assert r.status_code == 403
        r = await client.post(
            "/v1/suppressions", json={"address": "not-an-address"}, headers=manager
        )
        assert r.status_code == 422 and "address" in r.text
        r = await client.post(
            "/v1/suppressions", json={"address": address, "detail": "asked"}, headers=manager
        )
        assert r.status_code == 201, r.text
        address_hash = r.json()["address_hash"]
        assert address not in r.text
        r = await client.post(
            "/v1/suppressions", json={"address": address.upper()}, headers=manager
        )
        assert r.status_code == 200 and r.json()["address_hash"] == address_hash
        listed = (await client.get("/v1/suppressions", headers=manager)).json()["items"]
        assert [s["address_hash"] for s in listed] == [address_hash]

        await queue(service, samples.case_opened(case_id, datetime.now(UTC), seller_email=address))
        await eventually(
            lambda: status_of(service, case_id, "acknowledgement"),
            until=lambda s: s == "suppressed",
            what="suppressed",
        )
        assert handler.delivered() == []

        r = await client.get("/v1/messages", params={"case_id": case_id}, headers=agent)
        assert r.status_code == 200, r.text
        [message] = r.json()["items"]
        assert message["status"] == "suppressed" and address not in r.text
        assert message["recipient"].startswith(address[0] + "***@")
        assert [a["outcome"] for a in message["delivery_attempts"]] == ["suppressed"]
        r = await client.post(f"/v1/messages/{message['message_id']}/resend", headers=agent)
        assert r.status_code == 409  # still suppressed

        r = await client.delete(f"/v1/suppressions/{address_hash}", headers=manager)
        assert r.status_code == 204
        key = {"Idempotency-Key": uid("resend")}
        r = await client.post(
            f"/v1/messages/{message['message_id']}/resend", headers={**agent, **key}
        )
        assert r.status_code == 201, r.text
        resent = r.json()
        assert resent["resend_of"] == message["message_id"]
        again = await client.post(
            f"/v1/messages/{message['message_id']}/resend", headers={**agent, **key}
        )
        assert again.json()["message_id"] == resent["message_id"]
        await eventually(
            lambda: asyncio.to_thread(handler.delivered),
            until=lambda f: len(f) == 1,
            what="resend delivered",
        )

        async def resent_status() -> str:
            r = await client.get("/v1/messages", params={"seller_id": "S-ACME-42"}, headers=agent)
            by_id = {m["message_id"]: m for m in r.json()["items"]}
            return str(by_id[resent["message_id"]]["status"])

        # Recorded just after the server accepted it.
        await eventually(resent_status, until=lambda s: s == "sent", what="resend recorded")
        r = await client.get("/v1/messages", headers=agent)
        assert r.status_code == 422 and r.headers["content-type"].startswith(
            "application/problem+json"
        )
        r = await client.get(
            "/v1/messages",
            params={"case_id": case_id},
            headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
        )
        assert r.status_code == 403
    assert len(handler.delivered()) == 1


async def test_an_unreachable_server_is_retried_until_it_comes_back(
    database: str, tmp_path: Path
) -> None:
    from tests.support.notifications import free_port

    port = free_port()  # nothing listens here yet: connection refused
    case_id = uid("CASE")
    async with notifications_instance(settings=settings_for(database, port)) as service:
        await queue(service, samples.case_opened(case_id, datetime.now(UTC)))
        await eventually(
            lambda: scalar(service, "SELECT count(*) FROM delivery_attempts"),
            until=lambda n: n >= 2,
            what="two refused connection attempts",
        )
        async with scripted_smtp(tmp_path / "late", port=port) as (handler, _):
            await eventually(
                lambda: status_of(service, case_id, "acknowledgement"),
                until=lambda s: s == "sent",
                what="sent once the server is up",
            )
            attempts = await rows(
                service, "SELECT outcome, code, error FROM delivery_attempts ORDER BY attempt"
            )
            assert len(handler.delivered()) == 1
    assert attempts[-1].outcome == "sent"
    assert {a.outcome for a in attempts[:-1]} == {"retried"}
    assert all(a.code is None and "Connect" in a.error for a in attempts[:-1])


async def test_a_send_whose_dispatcher_died_is_taken_over_when_its_lease_runs_out(
    database: str, smtp: tuple[ScriptedSmtpHandler, int]
) -> None:
    handler, port = smtp
    clock = ManualClock(datetime(2026, 11, 26, 6, 0, tzinfo=UTC))
    case_id = uid("CASE")
    async with notifications_instance(
        settings=settings_for(database, port, dispatch_lease_s=120), clock=clock
    ) as service:
        from sqlalchemy import text

        from services.notifications.messages.service import flush_pending

        # Queued and, in the same transaction, left as a dispatcher that claimed the message
        # and then crashed would leave it.
        async with service.runtime.sessionmaker() as session, session.begin():
            await handle_case_event(
                session,
                event=samples.case_opened(case_id, clock.now()),
                settings=service.runtime.settings,  # type: ignore[arg-type]
                now=clock.now(),
                opener=contact_opener(),
            )
            await flush_pending(session)
            await session.execute(
                text("UPDATE messages SET status = 'sending', lease_until = :l WHERE case_id = :c"),
                {"l": clock.now() + timedelta(seconds=120), "c": case_id},
            )
        await asyncio.sleep(0.4)
        assert handler.delivered() == []  # the lease still holds
        clock.advance(timedelta(seconds=121))
        await eventually(
            lambda: status_of(service, case_id, "acknowledgement"),
            until=lambda s: s == "sent",
            what="taken over after the lease",
        )
    assert len(handler.delivered()) == 1


class SlowSmtpHandler(ScriptedSmtpHandler):
    """A mail server that takes `delay_s` over each DATA, as a degraded relay does."""

    def __init__(self, directory: Path, delay_s: float) -> None:
        super().__init__(directory)
        self.delay_s = delay_s

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay_s)
        return await super().handle_DATA(server, session, envelope)


async def test_a_batch_slower_than_its_lease_is_still_sent_once(
    database: str, tmp_path: Path
) -> None:
    """A dispatcher whose sends outlast the lease keeps it renewed while it works, so no other
    round takes its messages over and sends them a second time (a slow relay, a big batch)."""
    handler = SlowSmtpHandler(tmp_path / "slow", delay_s=0.4)
    cases = [uid("CASE") for _ in range(4)]
    # Four messages in one claim, 0.4 s each over one connection, under a 0.6 s lease.
    port = free_port()
    settings = settings_for(
        database,
        port,
        dispatch_lease_s=0.6,
        dispatch_batch_size=10,
        dispatch_workers=2,
        dispatch_connections=1,
    )
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    await asyncio.to_thread(controller.start)
    try:
        async with notifications_instance(settings=settings) as service:
            runtime = service.runtime
            async with runtime.sessionmaker() as session, session.begin():
                for case_id in cases:
                    await handle_case_event(
                        session,
                        event=samples.case_opened(case_id, datetime.now(UTC)),
                        settings=runtime.settings,  # type: ignore[arg-type]
                        now=runtime.clock.now(),
                        opener=contact_opener(),
                    )
            await eventually(
                lambda: scalar(service, "SELECT count(*) FROM messages WHERE status = 'sent'"),
                until=lambda n: n == len(cases),
                what="every message sent",
                timeout=30,
            )
            await asyncio.sleep(1.0)  # a second round, if there were one, would have sent by now
            outcomes = await rows(service, "SELECT outcome FROM delivery_attempts")
    finally:
        await asyncio.to_thread(controller.stop)
    assert handler.data_commands == len(cases)
    assert len(handler.delivered()) == len(cases)
    assert [o.outcome for o in outcomes] == ["sent"] * len(cases)


# The test server offers AUTH without TLS, which aiosmtpd rightly warns about; STARTTLS is a
# setting of the same client and needs a certificate this test does not have.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_authentication_is_used_when_configured(database: str, tmp_path: Path) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"s3cret"
        if isinstance(data, LoginPassword):
            logins.append((data.login, data.password))
        return AuthResult(success=ok)

    case_id = uid("CASE")
    async with scripted_smtp(
        tmp_path / "auth",
        auth_required=True,
        auth_require_tls=False,
        authenticator=authenticator,
    ) as (handler, port):
        settings = settings_for(database, port, smtp_username="desk", smtp_password="s3cret")
        async with notifications_instance(settings=settings) as service:
            await queue(service, samples.case_opened(case_id, datetime.now(UTC)))
            await eventually(
                lambda: status_of(service, case_id, "acknowledgement"),
                until=lambda s: s == "sent",
                what="sent with authentication",
            )
        assert len(handler.delivered()) == 1
    assert logins and logins[0] == (b"desk", b"s3cret")


async def test_starttls_is_used_when_configured(database: str, tmp_path: Path) -> None:
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    await asyncio.to_thread(
        subprocess.run,
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    case_id = uid("CASE")
    async with scripted_smtp(tmp_path / "tls", tls_context=context, require_starttls=True) as (
        handler,
        port,
    ):
        # Without STARTTLS the server refuses (530): retried, never final.
        # A short lease: this instance may be stopped in the middle of an attempt, and the next
        # one must be able to take the message over without waiting minutes.
        plain = settings_for(database, port, retry_base_delay_s=0.05, dispatch_lease_s=1.0)
        async with notifications_instance(settings=plain) as service:
            await queue(service, samples.case_opened(case_id, datetime.now(UTC)))
            await eventually(
                lambda: scalar(
                    service,
                    "SELECT count(*) FROM delivery_attempts "
                    "WHERE outcome = 'retried' AND code = 530",
                ),
                what="530 retried",
            )
            assert await status_of(service, case_id, "acknowledgement") in {"pending", "sending"}
        # Reconfigured with STARTTLS (a self-signed test certificate), the same message goes.
        tls = settings_for(
            database, port, smtp_starttls=True, smtp_validate_certs=False, dispatch_lease_s=1.0
        )
        async with notifications_instance(settings=tls) as service:
            await eventually(
                lambda: status_of(service, case_id, "acknowledgement"),
                until=lambda s: s == "sent",
                what="sent over STARTTLS",
            )
        assert len(handler.delivered()) == 1


@pytest.mark.parametrize("smtputf8", [True, False], ids=["server-with-smtputf8", "without"])
async def test_internationalised_address_goes_over_smtputf8_or_fails_once(
    database: str, tmp_path: Path, smtputf8: bool
) -> None:
    """A non-ASCII address (RFC 6531) is sent with SMTPUTF8 when the server offers it; a server
    without it can never take the message, so it fails once and is not retried forever."""
    address = f"विक्रेता.{uuid.uuid4().hex[:6]}@example.com"
    case_id = uid("CASE")
    async with (
        scripted_smtp(tmp_path / "mail", enable_SMTPUTF8=smtputf8) as (handler, port),
        notifications_instance(settings=settings_for(database, port)) as service,
    ):
        await queue(service, samples.case_opened(case_id, datetime.now(UTC), seller_email=address))
        final = "sent" if smtputf8 else "failed"
        await eventually(
            lambda: status_of(service, case_id, "acknowledgement"),
            until=lambda s: s == final,
            what=f"acknowledgement {final}",
        )
        await asyncio.sleep(0.3)  # a retry, if there were one, would be due by now
        attempts = await rows(
            service,
            "SELECT a.outcome FROM delivery_attempts a JOIN messages m USING (message_id) "
            "WHERE m.case_id = :c",
            c=case_id,
        )
        assert [a.outcome for a in attempts] == [final]
        assert len(handler.delivered()) == (1 if smtputf8 else 0)
        assert await rows(service, "SELECT 1 FROM suppressions") == []


class CountingSmtpHandler(ScriptedSmtpHandler):
    """Counts the connections a client opens (one EHLO each) and the QUITs it says."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.ehlos = 0
        self.quits = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.ehlos += 1
        session.host_name = hostname  # what aiosmtpd does itself when no hook is set
        return responses

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"


async def test_one_connection_serves_the_rounds_until_it_idles_or_the_server_drops_it(
    database: str, tmp_path: Path
) -> None:
    """The dispatcher's rounds share a connection while it lives: messages sent in rounds of
    their own take one EHLO between them, the connection says QUIT once it has gone
    `smtp_keepalive_s` unused, and one the server closed meanwhile is replaced before use, so
    its message goes out on the first attempt."""
    port = free_port()
    settings = settings_for(database, port, smtp_keepalive_s=0.8)
    first = CountingSmtpHandler(tmp_path / "first")
    controller = Controller(first, hostname="127.0.0.1", port=port, ready_timeout=10)
    await asyncio.to_thread(controller.start)
    try:
        async with notifications_instance(settings=settings) as service:
            cases = [uid("CASE") for _ in range(3)]
            for case_id in cases:  # one at a time: each is a round of its own
                await queue(service, samples.case_opened(case_id, datetime.now(UTC)))
                await eventually(
                    lambda c=case_id: status_of(service, c, "acknowledgement"),
                    until=lambda s: s == "sent",
                    what="acknowledgement sent",
                )
            assert len(first.delivered()) == len(cases)
            assert (first.ehlos, first.quits) == (1, 0)  # one connection, still open
            await eventually(
                lambda: asyncio.sleep(0, first.quits), until=lambda n: n == 1, what="idle QUIT"
            )

            # A new connection for the next round; then the server goes away with it open.
            await queue(service, samples.case_opened(uid("CASE"), datetime.now(UTC)))
            await eventually(
                lambda: asyncio.sleep(0, len(first.delivered())),
                until=lambda n: n == len(cases) + 1,
                what="sent after the idle close",
            )
            assert first.ehlos == 2
            await asyncio.to_thread(controller.stop)
            second = CountingSmtpHandler(tmp_path / "second")
            controller = Controller(second, hostname="127.0.0.1", port=port, ready_timeout=10)
            await asyncio.to_thread(controller.start)
            late = uid("CASE")
            await queue(service, samples.case_opened(late, datetime.now(UTC)))
            await eventually(
                lambda: status_of(service, late, "acknowledgement"),
                until=lambda s: s == "sent",
                what="sent to the restarted server",
            )
            attempts = await rows(
                service,
                "SELECT a.outcome FROM delivery_attempts a JOIN messages m USING (message_id) "
                "WHERE m.case_id = :c",
                c=late,
            )
            assert [a.outcome for a in attempts] == ["sent"]
            assert (len(second.delivered()), second.ehlos) == (1, 1)
    finally:
        await asyncio.to_thread(controller.stop)
