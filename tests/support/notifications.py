"""Notifications test support: publishing events as another service would, SMTP servers that
misbehave on cue, and a notifications instance with its own database and settings."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from disputedesk.stack.mailsink import MailDirHandler, list_messages
from shared.envelope import Envelope as CloudEvent
from shared.events import EventPayload, topic_for
from shared.keys import PII_PRIVATE_KEYS, PII_PUBLIC_KEY, load_key_list
from shared.pii import ContactOpener, ContactSealer
from tests.support.db import scalar
from tests.support.services import RunningService
from tests.support.waiting import eventually


async def publish(bootstrap: str, *envelopes: CloudEvent) -> None:
    """Put envelopes on their topics exactly as the outbox relay would."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(
                topic_for(env.payload).name,
                value=env.value(),
                key=env.key.encode(),
                headers=env.headers(),
            )
    finally:
        await producer.stop()


def envelope(payload: EventPayload, *, ce_id: uuid.UUID | None = None) -> CloudEvent:
    return CloudEvent(payload=payload, source="tests/reconciliation", id=ce_id or uuid.uuid4())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ScriptedSmtpHandler(MailDirHandler):
    """Stores accepted mail like the sink, but first answers from a script: `data_replies`
    are returned, in order, to the next DATA commands; `refuse_rcpt` answers every RCPT."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.data_replies: list[str] = []
        self.refuse_rcpt: str | None = None
        self.data_commands = 0

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        return await super().handle_DATA(server, session, envelope)

    def delivered(self) -> list[Path]:
        return list_messages(self.directory)


@asynccontextmanager
async def scripted_smtp(
    directory: Path, *, port: int | None = None, **smtp_kwargs: Any
) -> AsyncIterator[tuple[ScriptedSmtpHandler, int]]:
    """An SMTP server on a free port (or `port`); `smtp_kwargs` go to aiosmtpd's SMTP
    (e.g. `auth_required=True, authenticator=...`)."""
    handler = ScriptedSmtpHandler(directory)
    port = port or free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="faulty-smtp",
        ready_timeout=10,
        **smtp_kwargs,
    )
    await asyncio.to_thread(controller.start)
    try:
        yield handler, port
    finally:
        await asyncio.to_thread(controller.stop)


def fresh_database(stack: Any, name: str) -> str:
    """A new database migrated to head, for a notifications instance of the test's own."""
    from shared.migrations import upgrade

    stack.postgres.drop_database(name)
    stack.postgres.create_database(name)
    url = str(stack.postgres.database_url(name))
    upgrade("notifications", url)
    return url


@asynccontextmanager
async def notifications_instance(**create_app_kwargs: Any) -> AsyncIterator[RunningService]:
    from services.notifications.app import create_app

    app = create_app(**create_app_kwargs)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://notifications.test"
        ) as client,
    ):
        service = RunningService(app, client)
        await service.runtime.producer_ready.wait()
        yield service


def contact_opener() -> ContactOpener:
    """Notifications' opener of sealed seller contacts, with the harness's keys."""
    return ContactOpener(load_key_list(PII_PRIVATE_KEYS, purpose="tests"))


def seal_contact(address: str) -> str:
    """An address sealed as intake seals it, with the harness's keys."""
    return ContactSealer.from_keys(load_key_list(PII_PUBLIC_KEY, purpose="tests")).seal(address)


async def nothing_due(
    notifications: RunningService, *return_ids: str, within_s: float = 60
) -> None:
    """Wait until no email about `return_ids` is still due to go out within `within_s`: every
    message notifications drafted for them sent, superseded or cancelled, none being sent.

    The quiet period a test needs to prove that a second email does not come: a later email
    can only come from a draft (an answer held until the uploads settle, an acknowledgement
    held for the case's answer), so once none is left a blind sleep of the settle time proves
    nothing more. Reminders due days later are not this test's business. The test must first
    have seen the effect of the last event it caused (an email composed after it), so that no
    event is still on its way to notifications."""
    ids = list(return_ids)
    drafted = await scalar(
        notifications, "SELECT count(*) FROM messages WHERE return_id = ANY(:r)", r=ids
    )
    # Messages of these returns are found by their return: none at all means a wrong key, and
    # the wait below would prove nothing.
    assert drafted, f"no message about {ids} to wait on"
    await eventually(
        lambda: scalar(
            notifications,
            "SELECT count(*) FROM messages WHERE return_id = ANY(:r)"
            " AND (status = 'sending' OR (status = 'pending'"
            " AND next_attempt_at < now() + make_interval(secs => :w)))",
            r=ids,
            w=within_s,
        ),
        until=lambda n: n == 0,
        timeout=within_s + 60,
        what=f"no email about {ids} left to send",
    )
