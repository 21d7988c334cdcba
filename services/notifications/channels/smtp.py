"""Email over SMTP with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.notifications.channels.base import DeliveryError, OutgoingMessage
from services.notifications.settings import NotificationsSettings

MESSAGE_ID_DOMAIN = "disputedesk.dev"


def message_id_header(message: OutgoingMessage) -> str:
    # Stable across retries and redeliveries, so a receiving server can drop a re-send.
    return f"<{message.message_id}@{MESSAGE_ID_DOMAIN}>"


class SmtpChannel:
    name = "email"

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    def build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.mail_from
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = message_id_header(message)
        email["Date"] = formatdate(usegmt=True)
        email.set_content(message.body_text)
        email.add_alternative(message.body_html, subtype="html")
        return email

    async def send(self, message: OutgoingMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                self.build(message),
                hostname=s.smtp_host,
                port=s.smtp_port,
                start_tls=s.smtp_starttls,
                username=s.smtp_username,
                password=s.smtp_password,
                timeout=s.smtp_timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.code}: {exc.message}", permanent=500 <= exc.code < 600, code=exc.code
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
