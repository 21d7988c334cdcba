"""The local SMTP listener for replies: the stack's mail sink relays mail for the reply domain
here, so the whole loop (our email, the seller's reply, its effect on the case) runs on one
machine. It listens on loopback only; production hands mail over through the authenticated
`POST /v1/inbound/email` instead."""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP, Envelope, Session

from services.notifications.replies import service
from services.notifications.replies.parsing import UnreadableEmail
from services.notifications.settings import NotificationsSettings
from shared.app import ServiceRuntime

log = logging.getLogger(__name__)


class ReplyHandler:
    def __init__(self, runtime: ServiceRuntime, settings: NotificationsSettings) -> None:
        self.runtime = runtime
        self.settings = settings

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not address.lower().endswith("@" + self.settings.reply_domain.lower()):
            return "550 5.1.1 not a reply address of this desk"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # The envelope recipient carries the token even when the To: header was rewritten.
        headers = "".join(f"X-Envelope-To: {r}\r\n" for r in envelope.rcpt_tos).encode()
        try:
            async with self.runtime.sessionmaker() as db, db.begin():
                await service.receive(
                    db, raw=headers + raw, now=self.runtime.clock.now(), settings=self.settings
                )
        except UnreadableEmail as unreadable:  # sent again, it would be refused again
            log.warning("an inbound email was refused: %s", unreadable)
            return "554 5.6.0 message cannot be read"
        except Exception:  # the sender keeps the message and retries: nothing is lost
            log.exception("an inbound email could not be recorded")
            return "451 4.3.0 try again later"
        self.runtime.relay.wake()
        return "250 OK"


async def run_listener(runtime: ServiceRuntime, settings: NotificationsSettings) -> None:
    loop = asyncio.get_running_loop()
    handler = ReplyHandler(runtime, settings)
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="disputedesk-replies",
            data_size_limit=settings.inbound_max_bytes,
            enable_SMTPUTF8=True,
        ),
        host=settings.inbound_smtp_host,
        port=settings.inbound_smtp_port,
    )
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        await server.wait_closed()
