"""Reading the SMTP sink's `.eml` files."""

from __future__ import annotations

import email
from email.message import Message
from email.policy import default
from pathlib import Path


def messages_mentioning(mail_dir: Path, needle: str) -> list[Message]:
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        raw = path.read_bytes()
        if needle.encode() in raw:
            found.append(email.message_from_bytes(raw, policy=default))
    return found


def text_part(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content()) if part else ""


def html_part(message: Message) -> str:
    part = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    return str(part.get_content()) if part else ""
