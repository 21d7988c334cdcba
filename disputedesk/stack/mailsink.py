"""The mail sink: a real SMTP server (aiosmtpd) that keeps every message it receives as an
.eml file, so developers and tests can read what the notifications service sent.

Run alone with `python -m disputedesk.stack.mailsink --dir DIR --host 127.0.0.1 --port N`;
tests may instead embed `MailDirHandler` in an `aiosmtpd.controller.Controller`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import smtplib
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psutil
from aiosmtpd.smtp import SMTP, Envelope, Session

from disputedesk.stack.component import (
    ExternalComponentError,
    LocalComponent,
    StackError,
    StepListener,
    notify_step,
)
from disputedesk.stack.config import StackSettings, find_repo_root
from disputedesk.stack.ports import is_free, smtp_greets
from disputedesk.stack.process import (
    find_process,
    log_tail,
    spawn_detached,
    write_pid_file,
)

MESSAGE_SUFFIX = ".eml"
# Sellers' replies go to reply+<token>@ this domain (notifications' `reply_domain`): the sink
# relays them to notifications instead of only storing them, so the loop runs on one machine.
REPLY_DOMAIN = "replies.disputedesk.dev"
_SERVER_NAME = "disputedesk-mailsink"


def message_file_name(received_at: datetime, message_id: uuid.UUID) -> str:
    """`20250102T030405.123456Z-<uuid>.eml`: unique, and sorting by name sorts by arrival."""
    stamp = received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{message_id}{MESSAGE_SUFFIX}"


class MailDirHandler:
    """aiosmtpd handler that writes each accepted message to `directory` as an .eml file.

    The message is written under a hidden temporary name and renamed into place, so a reader
    listing `*.eml` never sees half a message. Two headers record the SMTP envelope, which
    the message itself may not show (Bcc recipients): X-Envelope-From and X-Envelope-To.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        relay_domain: str | None = None,
        relay_port: int | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.relay_domain = relay_domain.lower() if relay_domain else None
        self.relay_port = relay_port

    def _replies(self, envelope: Envelope) -> list[str]:
        if not self.relay_domain or not self.relay_port:
            return []
        return [r for r in envelope.rcpt_tos if r.lower().endswith("@" + self.relay_domain)]

    def relay(self, mail_from: str, recipients: list[str], content: bytes) -> None:
        """Hand a seller's reply to notifications' reply listener, as a real MX would."""
        assert self.relay_port is not None
        with smtplib.SMTP("127.0.0.1", self.relay_port, timeout=30) as client:
            client.sendmail(mail_from, recipients, content)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        replies = self._replies(envelope)
        if replies:
            try:
                await asyncio.to_thread(self.relay, envelope.mail_from or "", replies, content)
            except (OSError, smtplib.SMTPException) as exc:
                # Not stored either: the sender retries, and the reply arrives once.
                return f"451 4.4.1 reply listener not reachable: {type(exc).__name__}"
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from or ''}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        path = await asyncio.to_thread(self.store, envelope_headers + content)
        return f"250 Message accepted for delivery as {path.name}"

    def store(self, message: bytes) -> Path:
        """Write one raw message atomically; returns the final path."""
        message_id = uuid.uuid4()
        final = self.directory / message_file_name(datetime.now(UTC), message_id)
        partial = self.directory / f".{message_id}.partial"
        with partial.open("wb") as file:
            file.write(message)
        partial.replace(final)
        return final


def list_messages(directory: Path) -> list[Path]:
    """The stored messages, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{MESSAGE_SUFFIX}"))


async def serve(
    directory: Path,
    host: str,
    port: int,
    *,
    relay_domain: str | None = None,
    relay_port: int | None = None,
) -> None:
    """Serve SMTP on host:port until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    handler = MailDirHandler(directory, relay_domain=relay_domain, relay_port=relay_port)
    server = await loop.create_server(
        # A fixed hostname: the default looks up the machine's FQDN, which can stall on DNS.
        lambda: SMTP(handler, hostname=_SERVER_NAME, enable_SMTPUTF8=True, loop=loop),
        host=host,
        port=port,
    )
    stopping = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    print(f"mail sink listening on {host}:{port}, storing messages in {directory}", flush=True)
    await stopping.wait()
    server.close()
    await server.wait_closed()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, required=True, help="folder for the .eml files")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--relay-domain", help="mail for this domain is relayed (replies)")
    parser.add_argument("--relay-port", type=int, help="loopback SMTP port to relay it to")
    arguments = parser.parse_args(argv)
    asyncio.run(
        serve(
            arguments.dir.absolute(),
            arguments.host,
            arguments.port,
            relay_domain=arguments.relay_domain,
            relay_port=arguments.relay_port,
        )
    )


class LocalMailSink(LocalComponent):
    """The sink process, or the external SMTP server that SMTP_HOST names."""

    name = "mailsink"
    default_start_timeout = 30.0
    default_stop_timeout = 10.0

    def __init__(self, settings: StackSettings, *, repo_root: Path | None = None) -> None:
        super().__init__(settings)
        self.repo_root = repo_root or find_repo_root()
        self.home = settings.state_dir / "mailsink"
        self.mail_dir = settings.mail_dir
        self.pid_file = self.home / "mailsink.pid"

    @property
    def external(self) -> bool:
        return self.settings.mailsink_is_external

    @property
    def host(self) -> str:
        return self.settings.smtp_host or "127.0.0.1"

    @property
    def port(self) -> int:
        if self.external:
            return self.settings.external_smtp_port or 25
        return self.settings.smtp_port

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / "mailsink.log"

    @property
    def reply_port(self) -> int:
        """Where notifications listens for replies the sink relays (the port after SMTP's)."""
        return self.settings.smtp_port + 1

    def env(self) -> dict[str, str]:
        env = {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port)}
        if not self.external:
            env["MAIL_SINK_DIR"] = str(self.mail_dir)
            env["NOTIFICATIONS_INBOUND_SMTP_PORT"] = str(self.reply_port)
            env["NOTIFICATIONS_REPLY_DOMAIN"] = REPLY_DOMAIN
        return env

    def process(self) -> psutil.Process | None:
        return find_process(self.pid_file, marker=str(self.mail_dir))

    def _after_stop(self) -> None:
        self.pid_file.unlink(missing_ok=True)

    def probe(self) -> bool:
        return smtp_greets(self.host, self.port)

    def _launch(self, *, deadline: float, on_step: StepListener | None) -> None:
        if not is_free("127.0.0.1", self.port):
            raise StackError(
                f"port {self.port} on 127.0.0.1 is taken by another program, so the mail sink "
                "cannot listen there. Stop that program, or choose another port with "
                "DISPUTEDESK_SMTP_PORT."
            )
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # The sink must import this package even when it is not installed (plain checkout).
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(self.repo_root), env.get("PYTHONPATH")])
        )
        sink = spawn_detached(
            [
                sys.executable,
                "-m",
                "disputedesk.stack.mailsink",
                "--dir",
                str(self.mail_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--relay-domain",
                REPLY_DOMAIN,
                "--relay-port",
                str(self.reply_port),
            ],
            log_path=self.log_path,
            cwd=self.repo_root,
            env=env,
        )
        write_pid_file(self.pid_file, sink.pid)
        notify_step(on_step, f"waiting for SMTP (pid {sink.pid})")
        while not self.probe():
            if sink.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(
                    f"the mail sink exited with code {sink.returncode} while starting:\n"
                    f"{log_tail(self.log_path)}"
                )
            if time.monotonic() >= deadline:
                raise StackError(f"the mail sink did not answer on {self.endpoint} in time")
            time.sleep(0.1)

    # Reading what arrived.
    def messages(self) -> list[Path]:
        """The .eml files received so far, oldest first."""
        if self.external:
            raise ExternalComponentError(f"mail goes to the external server {self.endpoint}")
        return list_messages(self.mail_dir)

    def wait_for_messages(self, count: int, *, timeout: float = 10.0) -> list[Path]:
        """Wait until at least `count` messages arrived; returns all of them."""
        deadline = time.monotonic() + timeout
        while len(found := self.messages()) < count:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{len(found)} of {count} expected messages arrived in {self.mail_dir} "
                    f"within {timeout:.0f}s"
                )
            time.sleep(0.1)
        return found

    def clear(self) -> int:
        """Delete the stored messages; returns how many there were."""
        messages = self.messages()
        for path in messages:
            path.unlink(missing_ok=True)
        return len(messages)


if __name__ == "__main__":
    main()
