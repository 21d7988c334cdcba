"""Reading the SMTP sink's `.eml` files."""

from __future__ import annotations

import email
import os
import smtplib
import uuid
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path

# The sink's files, read once each: it renames a message into place whole and never changes
# it, while a test waiting for an email looks ten times a second and the suite's folder holds
# thousands of messages, each look reading all of them (`bench-results/tslow-20261206w24`).
_read: dict[Path, dict[str, bytes]] = {}


def messages_mentioning(mail_dir: Path, needle: str) -> list[Message]:
    found: list[Message] = []
    if not mail_dir.is_dir():
        return found
    wanted = needle.encode()
    seen = _read.setdefault(mail_dir, {})
    # Hidden names are the sink's messages still being written.
    for name in sorted(n for n in os.listdir(mail_dir) if n.endswith(".eml") and n[0] != "."):
        raw = seen.get(name)
        if raw is None:
            try:
                raw = seen[name] = (mail_dir / name).read_bytes()
            except FileNotFoundError:  # removed since listed
                continue
        if wanted in raw:
            found.append(email.message_from_bytes(raw, policy=default))
    return found


def text_part(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content()) if part else ""


def html_part(message: Message) -> str:
    part = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    return str(part.get_content()) if part else ""


def seller_reply(
    answering: Message,
    sender: str,
    text: str,
    *,
    attachments: tuple[tuple[bytes, str, str, str], ...] = (),
) -> EmailMessage:
    """A seller's answer to one of our emails, to its signed Reply-To address: `text` as the
    seller typed it, and files as (content, maintype, subtype, filename)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = str(answering["Reply-To"])
    mail["Subject"] = f"Re: {answering['Subject']}"
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@seller.example>"
    mail.set_content(text)
    for content, maintype, subtype, filename in attachments:
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return mail


def send_through_the_sink(smtp_port: int, mail: EmailMessage) -> None:
    """Hand the mail to the local sink, which relays replies to notifications' listener."""
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
        client.send_message(mail)
