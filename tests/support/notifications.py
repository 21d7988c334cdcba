"""Notifications test support: publishing events as another service would, SMTP servers that
misbehave on cue, and a notifications instance with its own database and settings."""

from __future__ import annotations

import asyncio
import json
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
from shared.events import CaseEventBase, EventPayload, decode_payload, topic_for
from shared.keys import PII_PRIVATE_KEYS, PII_PUBLIC_KEY, load_key_list
from shared.pii import ContactOpener, ContactSealer
from tests.support.db import execute, rows, scalar
from tests.support.services import RunningService
from tests.support.waiting import eventually, service_started


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
        await service_started(service.runtime)
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


async def dispatcher_caught_up(notifications: RunningService) -> None:
    """Wait until notifications' dispatcher has claimed everything due by now.

    A message queued now, due at once, to a recipient of its own: the dispatcher claims due
    messages oldest first, so once it has sent this one, any message due before it that it
    could claim has been claimed too. A test that proves a message due now is never sent (one
    cancelled, say) waits for this instead of for a guess at the dispatcher's next round."""
    marker = f"dispatcher-caught-up-{uuid.uuid4().hex}"
    await execute(
        notifications,
        "INSERT INTO messages (message_id, dedup_key, template, audience, essential,"
        " recipient, subject, body_text, body_html, status, attempts, next_attempt_at)"
        " VALUES (gen_random_uuid(), :k, 'fraud_alert', 'management', true,"
        " :to, :subject, :body, :body, 'pending', 0, clock_timestamp())",
        k=marker,
        to=f"{marker}@example.com",
        subject=marker,
        body=marker,
    )
    await eventually(
        lambda: scalar(notifications, "SELECT status FROM messages WHERE dedup_key = :k", k=marker),
        until=lambda status: status == "sent",
        timeout=60,
        what="the dispatcher to send a message queued after the one under test fell due",
    )


async def case_events_handled(
    bootstrap: str,
    reconciliation: RunningService,
    notifications: RunningService,
    case_id: str,
) -> None:
    """Wait until notifications has handled every event reconciliation has recorded about
    `case_id` so far, those it drafts nothing for (and so leaves no trace of) included.

    Once reconciliation's outbox has published them all, the case's latest event that
    notifications acts on goes again under a new id, on their partition (the key is the case's)
    behind them: notifications records its id in its inbox, and drafts nothing new (one message
    per case, template and version). Its id in the inbox means every event before it on the
    partition has been handled. A test that proves an event sent no email waits for this."""
    from services.notifications.messages.composing import may_compose

    recorded = await eventually(
        lambda: rows(
            reconciliation,
            "SELECT ce_type, topic, key, payload, published_at FROM outbox"
            " WHERE payload->>'case_id' = :c ORDER BY id",
            c=case_id,
        ),
        until=lambda rs: bool(rs) and all(r.published_at is not None for r in rs),
        timeout=60,
        what=f"every event about {case_id} published",
    )
    # One partition holds them all, in order: the one the event sent again goes to.
    assert len({(r.topic, r.key) for r in recorded}) == 1, recorded
    payloads = [decode_payload(r.ce_type, json.dumps(r.payload).encode()) for r in recorded]
    acted_on = [p for p in payloads if isinstance(p, CaseEventBase) and may_compose(p)]
    assert acted_on, f"no event about {case_id} that notifications acts on"
    again = envelope(acted_on[-1])
    assert (topic_for(again.payload).name, again.key) == (recorded[0].topic, recorded[0].key)
    await publish(bootstrap, again)
    await handled(notifications, again)


async def handled(notifications: RunningService, event: CloudEvent) -> None:
    """Wait until notifications has handled `event` (its id is in the inbox): every event
    before it on its partition, with the same key, has been handled by then, those it did
    nothing with included. `event` must be one it acts on (an event it skips leaves no id)."""
    await eventually(
        lambda: scalar(notifications, "SELECT count(*) FROM inbox WHERE ce_id = :i", i=event.id),
        until=lambda n: n == 1,
        timeout=60,
        what=f"notifications to handle {event.type} {event.id}",
    )
