"""Email over SMTP with aiosmtplib: STARTTLS and authentication as configured, connections
reused for a batch of messages and kept between the dispatcher's rounds while they are in use,
and every failure classified as temporary or permanent."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Iterable, Sequence
from email.header import Header
from email.utils import formatdate, parseaddr
from typing import Literal

import aiosmtplib
from aiosmtplib.typing import Default
from opentelemetry.trace import SpanKind, StatusCode

from services.notifications.channels.base import DeliveryError, OutgoingMessage
from services.notifications.settings import NotificationsSettings
from shared.logging import scrub
from shared.tracing import span_from

log = logging.getLogger(__name__)
MESSAGE_ID_DOMAIN = "disputedesk.dev"


def message_id_header(message: OutgoingMessage) -> str:
    # Stable across retries and redeliveries, so a receiving server can drop a re-send.
    return f"<{message.message_id}@{MESSAGE_ID_DOMAIN}>"


def thread_header(case_id: str) -> str:
    """The anchor every email of a case refers to (`References`): mail programs that thread by
    references (not by subject alone, and each of our subjects says something else) show the
    acknowledgement, the requests, the decision and the payment as one conversation. No
    message carries this id itself; a reference to an anchor is how a thread is named before
    its first message is known, and a seller's reply quotes it back."""
    return f"<{case_id.lower()}.thread@{MESSAGE_ID_DOMAIN}>"


def attachment_filename(name: str) -> str:
    """A filename safe inside a quoted header parameter: ASCII letters, digits, `.-_` only."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]
    return safe or "attachment"


# Line ends as the email package writes them; aiosmtplib puts EOL on the wire.
EOL = "\n"


# Characters `Header` takes for a separator at the edge of ASCII text: it puts no space between
# such text and an encoded word beside it.
_HEADER_SEPARATORS = ("(", ")", "\\")


def _plain_words(words: list[str]) -> list[bool]:
    """Which words go out as they are (the rest encoded). `Header` writes an encoded word
    straight after ASCII text ending in ")" (or before text starting with "("): "UTC)=?utf-8?…",
    which RFC 2047 does not allow and every reader decodes without the space ("UTC)तक"). Such a
    word beside an encoded one is encoded with it, until no plain word touches an encoded one
    at a separator."""
    plain = [word.isascii() for word in words]
    changed = True
    while changed:
        changed = False
        for i, word in enumerate(words):
            if not plain[i] or not word:
                continue
            after_encoded = i > 0 and not plain[i - 1] and word.startswith(_HEADER_SEPARATORS)
            before_encoded = (
                i + 1 < len(words) and not plain[i + 1] and word.endswith(_HEADER_SEPARATORS)
            )
            if after_encoded or before_encoded:
                plain[i] = False
                changed = True
    return plain


def subject_header(subject: str) -> Header:
    """Encode only the words that need it, so `[CASE-…]` stays readable in the raw header."""
    header = Header(charset="us-ascii")
    run: list[str] = []
    run_ascii = True
    words = subject.split(" ")
    for word, word_ascii in zip(words, _plain_words(words), strict=True):
        if run and word_ascii != run_ascii:
            # Header puts one space between chunks itself.
            header.append(" ".join(run), "us-ascii" if run_ascii else "utf-8")
            run = []
        run.append(word)
        run_ascii = word_ascii
    if run:
        header.append(" ".join(run), "us-ascii" if run_ascii else "utf-8")
    return header


# Refusals about how we connect (no STARTTLS, no or bad AUTH), not about the message: a fixed
# configuration delivers the message, so these are retried like temporary failures.
SENDER_CONFIGURATION_CODES = frozenset({530, 534, 535, 538})


def classify(exc: BaseException) -> DeliveryError:
    """SMTP 5xx is permanent (5xx on RCPT: a hard bounce); 4xx, dropped connections and
    timeouts are temporary. Error texts are scrubbed: servers echo the address back."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients[0] if exc.recipients else None
        code = refused.code if refused is not None else 550
        text = refused.message if refused is not None else str(exc)
        permanent = 500 <= code < 600
        return DeliveryError(
            scrub(f"SMTP {code} on RCPT: {text}"),
            permanent=permanent,
            code=code,
            hard_bounce=permanent,
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        permanent = 500 <= exc.code < 600
        return DeliveryError(
            scrub(f"SMTP {exc.code} on RCPT: {exc.message}"),
            permanent=permanent,
            code=exc.code,
            hard_bounce=permanent,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = 500 <= exc.code < 600 and exc.code not in SENDER_CONFIGURATION_CODES
        return DeliveryError(
            scrub(f"SMTP {exc.code}: {exc.message}"), permanent=permanent, code=exc.code
        )
    if isinstance(exc, ValueError):
        # Raised before anything is sent (a control character in an address, text that cannot
        # be encoded): the same message fails the same way every time, so it is not retried.
        return DeliveryError(scrub(f"{type(exc).__name__}: {exc}"), permanent=True)
    return DeliveryError(scrub(f"{type(exc).__name__}: {exc}"), permanent=False)


# A connection is retired (QUIT) once it has carried this many messages or is this old, whichever
# comes first, even while in use: servers cap both (messages per connection, session length), and
# a connection retired by us costs nothing, where one the server cuts costs a command's wait.
MAX_MESSAGES_PER_CONNECTION = 100
MAX_CONNECTION_AGE_S = 300.0
# How long a QUIT may take (`smtp_timeout_s` is for sending). The connection is closed after it
# regardless, and nothing is lost if it goes unanswered, so a server that does not answer (a
# half-open connection) must not hold up a round or the service's stop.
QUIT_TIMEOUT_S = 1.5


class _Connection(aiosmtplib.SMTP):
    """An SMTP client that counts the messages it carried and notes whether the server has
    accepted the current message's MAIL: until then nothing of the message has reached it, so
    on a connection that went stale the message may be sent again on a fresh one."""

    opened_at = 0.0  # the loop's clock when connected
    messages = 0  # messages tried on this connection (sent or not)
    mail_accepted = False  # the current message's MAIL was answered 250

    async def mail(
        self,
        sender: str,
        /,
        *,
        options: Iterable[str] | None = None,
        encoding: str = "ascii",
        timeout: float | Literal[Default.token] | None = Default.token,
    ) -> aiosmtplib.SMTPResponse:
        response = await super().mail(sender, options=options, encoding=encoding, timeout=timeout)
        self.mail_accepted = True
        return response


def _stale(client: _Connection, reused: bool, exc: BaseException) -> bool:
    """A reused connection whose first command for a message failed the way a stale one does:
    dropped (a server restart), no answer (a NAT forgot it: half-open, so `is_connected` still
    holds) or 4xx (421: the server's messages-per-connection limit). Never once MAIL has been
    accepted, so never after DATA's final dot, when a resend could deliver the message twice."""
    if not reused or client.mail_accepted:
        return False
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    # SMTPServerDisconnected is a ConnectionError, SMTPTimeoutError a TimeoutError.
    return isinstance(exc, ConnectionError | TimeoutError)


class SmtpChannel:
    """Each `send_many` takes a connection kept from an earlier one, or opens one, and keeps it
    afterwards if it is still usable. Opening one (the TCP handshake, the greeting, EHLO, with
    STARTTLS and AUTH as configured) and saying QUIT cost more of the client's CPU than sending
    a message, and a dispatcher's round usually carries one or two. A kept connection is closed
    after `smtp_keepalive_s` without use (`close_idle`), or at once when that is 0; one the
    server closed meanwhile is noticed before use and replaced, and one that proves stale on
    its first command for a message is replaced and the message sent again (`_stale`).
    Connections are retired after `MAX_MESSAGES_PER_CONNECTION` messages or
    `MAX_CONNECTION_AGE_S`."""

    name = "email"

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._sender = parseaddr(settings.mail_from)[1]
        self._from_header = (
            settings.mail_from
            if settings.mail_from.isascii()
            else Header(settings.mail_from, "utf-8").encode()
        )
        # Connections between rounds, with when each was last used (the loop's clock); at most
        # one per sender working at once (`dispatch_workers` × `dispatch_connections`).
        self._kept: list[tuple[_Connection, float]] = []
        self._closer: asyncio.Task[None] | None = None

    def build(self, message: OutgoingMessage) -> bytes:
        """The message as MIME bytes: multipart/alternative, text then HTML, both UTF-8
        quoted-printable; with attachments, that alternative is the first part of a
        multipart/mixed and each file follows in base64. Written directly rather than through
        `email.message`, whose header folding costs about a millisecond a message, which a
        backlog pays N times."""
        boundary = f"=_part_{message.message_id.hex}"
        to = (
            message.recipient
            if message.recipient.isascii()
            else Header(message.recipient, "utf-8").encode()
        )
        alternative = f'Content-Type: multipart/alternative; boundary="{boundary}"'
        mixed = f"=_mixed_{message.message_id.hex}"
        head = [
            f"From: {self._from_header}",
            f"To: {to}",
            f"Subject: {subject_header(message.subject).encode()}",
            f"Message-ID: {message_id_header(message)}",
            *([f"Reply-To: {message.reply_to}"] if message.reply_to else []),
            *([f"References: {thread_header(message.thread)}"] if message.thread else []),
            f"Date: {formatdate(usegmt=True)}",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/mixed; boundary="{mixed}"'
            if message.attachments
            else alternative,
            "",
        ]
        parts = []
        if message.attachments:
            parts += [f"--{mixed}", alternative, ""]
        for subtype, body in (("plain", message.body_text), ("html", message.body_html)):
            parts += [
                f"--{boundary}",
                f'Content-Type: text/{subtype}; charset="utf-8"',
                "Content-Transfer-Encoding: quoted-printable",
                "",
                # binascii's C encoder: the pure-Python one costs ~0.3 ms a message.
                binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii"),
            ]
        parts += [f"--{boundary}--"]
        for attachment in message.attachments:
            name = attachment_filename(attachment.filename)
            encoded = base64.b64encode(attachment.content.encode("utf-8")).decode("ascii")
            parts += [
                f"--{mixed}",
                f'Content-Type: {attachment.content_type}; charset="utf-8"; name="{name}"',
                "Content-Transfer-Encoding: base64",
                f'Content-Disposition: attachment; filename="{name}"',
                "",
                *(encoded[i : i + 76] for i in range(0, len(encoded), 76)),
            ]
        if message.attachments:
            parts += [f"--{mixed}--"]
        parts += [""]
        return EOL.join(head + parts).encode("ascii")

    def _client(self) -> _Connection:
        s = self.settings
        return _Connection(
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            username=s.smtp_username,
            password=s.smtp_password,
            timeout=s.smtp_timeout_s,
            validate_certs=s.smtp_validate_certs,
        )

    @staticmethod
    async def _mail_options(
        client: aiosmtplib.SMTP, message: OutgoingMessage
    ) -> list[str] | DeliveryError:
        """An internationalised address (non-ASCII, RFC 6531) travels only over SMTPUTF8.
        A server without it can never take the message, so that is a permanent failure rather
        than a retry forever; it is not a bounce, so the address is not suppressed."""
        if message.recipient.isascii():
            return []
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        if client.supports_extension("smtputf8"):
            return ["SMTPUTF8"]
        return DeliveryError(
            "the recipient address is not ASCII and the mail server does not offer SMTPUTF8",
            permanent=True,
        )

    async def send(self, message: OutgoingMessage) -> None:
        [error] = await self.send_many([message])
        if error is not None:
            raise error

    def _take_kept(self) -> _Connection | None:
        """The connection used last, if one is kept and still open. The server's closing a
        connection (its idle timeout, a restart) reaches the client as end of file, which closes
        the transport: such a connection is dropped here, not tried."""
        while self._kept:
            client, _ = self._kept.pop()
            if client.is_connected:
                return client
            client.close()
        return None

    @staticmethod
    def _worn_out(client: _Connection) -> bool:
        age = asyncio.get_running_loop().time() - client.opened_at
        return client.messages >= MAX_MESSAGES_PER_CONNECTION or age >= MAX_CONNECTION_AGE_S

    def _keep(self, client: _Connection) -> bool:
        """Keep `client` for the next round, if keeping is on; False: the caller closes it."""
        keepalive = self.settings.smtp_keepalive_s
        if keepalive <= 0 or not client.is_connected or self._worn_out(client):
            return False
        self._kept.append((client, asyncio.get_running_loop().time()))
        if self._closer is None or self._closer.done():
            self._closer = asyncio.create_task(self._close_when_idle(keepalive), name="smtp-idle")
        return True

    async def _close_when_idle(self, keepalive: float) -> None:
        """While connections are kept: close each once it has gone `keepalive` unused."""
        loop = asyncio.get_running_loop()
        while self._kept:
            oldest = min(used for _, used in self._kept)
            await asyncio.sleep(max(0.0, oldest + keepalive - loop.time()))
            await self.close_idle(keepalive)

    async def close_idle(self, older_than_s: float = 0.0) -> None:
        """Say QUIT on the kept connections unused for `older_than_s` or longer (every one: 0),
        all at once, then close them: N unanswered QUITs cost one `QUIT_TIMEOUT_S`."""
        now = asyncio.get_running_loop().time()
        stale = [client for client, used in self._kept if now - used >= older_than_s]
        self._kept = [(client, used) for client, used in self._kept if now - used < older_than_s]
        await asyncio.gather(*(_close(client, polite=True) for client in stale))

    async def close(self) -> None:
        """Close every kept connection (the service is stopping)."""
        closer, self._closer = self._closer, None
        if closer is not None:
            closer.cancel()
            # Waited for, so a QUIT it was in the middle of has closed its transport (`_close`)
            # before this returns; `wait` does not re-raise the closer's cancellation.
            await asyncio.wait({closer})
        await self.close_idle()

    async def _open(self) -> _Connection | DeliveryError:
        client = self._client()
        try:
            await client.connect()
        except Exception as exc:  # the server is away
            client.close()
            # Whatever the code (even 5xx in the greeting), the message is not at fault: it is
            # retried on the backoff schedule.
            error = classify(exc)
            return DeliveryError(str(error), permanent=False, code=error.code)
        client.opened_at = asyncio.get_running_loop().time()
        return client

    async def _send_one(
        self, client: _Connection, message: OutgoingMessage
    ) -> tuple[DeliveryError | None, _Connection | None, bool]:
        """Send `message` on `client`: its result, the connection if still usable (one that is
        not has been closed), and whether the failure was a stale reused connection's (`_stale`),
        which does not count against the message."""
        reused = client.messages > 0
        client.messages += 1
        client.mail_accepted = False
        try:
            options = await self._mail_options(client, message)
            if isinstance(options, DeliveryError):
                return options, client, False
            await client.sendmail(
                self._sender, [message.recipient], self.build(message), mail_options=options
            )
            return None, client, False
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
            stale = _stale(client, reused, exc)
            if stale or not client.is_connected:
                await _close(client)
                return classify(exc), None, stale
            try:
                await client.rset()
            except Exception:  # the session is unusable; a fresh one takes the next message
                await _close(client)
                return classify(exc), None, False
            return classify(exc), client, False
        except Exception as exc:  # connection dropped or timed out mid-message
            await _close(client)
            return classify(exc), None, _stale(client, reused, exc)

    async def send_many(self, messages: Sequence[OutgoingMessage]) -> list[DeliveryError | None]:
        results: list[DeliveryError | None] = []
        client: _Connection | None = self._take_kept() if messages else None
        ended = False  # the loop ran to its end: a connection cancelled mid-command is not kept
        try:
            for message in messages:
                if client is not None and self._worn_out(client):
                    await _close(client, polite=True)
                    client = None
                # A CLIENT span per message, in the trace of the event that asked for it.
                with span_from(
                    "notifications",
                    "smtp send",
                    message.traceparent,
                    kind=SpanKind.CLIENT,
                    attributes={"messaging.message.id": str(message.message_id)},
                ) as span:
                    # Twice at most: once more on a fresh connection if a reused one was stale.
                    # A fresh connection has carried nothing, so its failure is never `stale`.
                    stale = True
                    while stale:
                        if client is None:
                            opened = await self._open()
                            if isinstance(opened, DeliveryError):
                                # The rest waits for a retry.
                                span.set_status(StatusCode.ERROR, str(opened))
                                results.extend([opened] * (len(messages) - len(results)))
                                return results
                            client = opened
                        error, client, stale = await self._send_one(client, message)
                        if stale:
                            log.info("SMTP connection stale on reuse; sending on a fresh one")
                    results.append(error)
                    if error is not None:
                        span.set_status(StatusCode.ERROR, str(error))
            ended = True
            return results
        finally:
            if client is not None and not (ended and self._keep(client)):
                # A connection interrupted mid-command (cancelled) would pair QUIT with an
                # earlier command's answer: it is closed without QUIT.
                await _close(client, polite=ended)


async def _close(client: aiosmtplib.SMTP, *, polite: bool = False) -> None:
    """Close `client`'s transport in every case: after QUIT if `polite` (waiting up to
    `QUIT_TIMEOUT_S`), and also when QUIT fails, is refused or is cancelled."""
    try:
        if polite and client.is_connected:
            await client.quit(timeout=QUIT_TIMEOUT_S)
    except Exception:  # closing a connection we are done with; nothing left to lose
        log.debug("SMTP QUIT failed", exc_info=True)
    finally:
        client.close()
