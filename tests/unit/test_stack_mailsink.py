"""The mail sink's handler: every message becomes one complete .eml file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aiosmtpd.smtp import SMTP, Envelope, Session

from disputedesk.stack.mailsink import MailDirHandler, list_messages, message_file_name


def test_file_names_sort_by_arrival() -> None:
    earlier = message_file_name(datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC), uuid.uuid4())
    later = message_file_name(datetime(2025, 1, 2, 3, 4, 5, 7, tzinfo=UTC), uuid.uuid4())

    assert earlier.startswith("20250102T030405.000006Z-")
    assert earlier.endswith(".eml")
    assert sorted([later, earlier]) == [earlier, later]


async def test_handler_stores_message_with_its_envelope(tmp_path: Path) -> None:
    handler = MailDirHandler(tmp_path / "mail")
    envelope = Envelope()
    envelope.mail_from = "desk@example.test"
    envelope.rcpt_tos = ["seller@example.test", "audit@example.test"]
    envelope.original_content = b"Subject: Dispute D-1\r\n\r\nLiability: carrier\r\n"
    unused = cast(Any, None)

    reply = await handler.handle_DATA(cast(SMTP, unused), cast(Session, unused), envelope)

    [stored] = list_messages(tmp_path / "mail")
    assert reply.startswith("250 ")
    assert stored.name in reply
    assert stored.read_bytes() == (
        b"X-Envelope-From: desk@example.test\r\n"
        b"X-Envelope-To: seller@example.test, audit@example.test\r\n"
        b"Subject: Dispute D-1\r\n\r\nLiability: carrier\r\n"
    )
    assert [p.name for p in (tmp_path / "mail").iterdir()] == [stored.name]  # no partial left


def test_partial_files_are_not_messages(tmp_path: Path) -> None:
    (tmp_path / ".0d6f.partial").write_bytes(b"Subject: half")
    done = MailDirHandler(tmp_path).store(b"Subject: whole\r\n\r\n")

    assert list_messages(tmp_path) == [done]
    assert list_messages(tmp_path / "absent") == []
