"""The HTTP/1.1 protocol every process of ours is served with: uvicorn's httptools protocol,
whose own answers (written before any app runs) are problem+json like the apps' answers, and
which bounds what a request may make it hold before the app is even called.

uvicorn answers a request it cannot parse (an invalid method token, a header without a colon,
two Content-Length headers, TLS sent to the plain port) with a plain-text 400, and it buffers a
request line and headers of any size: the URL grows by concatenation, chunk by chunk. Here the
same 400 is a problem document naming what the parser refused, a URL over `max_url_bytes`
answers 414 and headers over `max_header_bytes` answer 431, both as soon as the limit is passed
(a header line that never ends too, once the head has taken more bytes than any head within both
limits could), and an HTTP/1.1 request without exactly one Host header answers 400 (uvicorn
serves it). A request too slow to arrive answers 408: headers not complete within
`header_timeout_s`, a body pausing for over `body_timeout_s`, or a whole body taking over
`body_deadline_s` (uvicorn waits for ever).

Every way we run uvicorn names this class: `disputedesk serve` and the supervisor's command
(`disputedesk run`, the drills' fleet), via `HTTP_PROTOCOL`, and takes `X-Forwarded-For` only
from the proxies the operator names (`trusts_proxy_headers`).
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from shared.problems import PROBLEM_JSON, TYPE_BASE, problem_bytes

# For uvicorn's `--http` option and `uvicorn.Config(http=...)`.
HTTP_PROTOCOL = "shared.http_protocol:ProblemHttpProtocol"


def trusts_proxy_headers(environ: Mapping[str, str]) -> bool:
    """Whether uvicorn may take the client's address from `X-Forwarded-For`: only when the
    operator names the proxies in `FORWARDED_ALLOW_IPS` (uvicorn reads it from there).

    uvicorn's own default believes the header from 127.0.0.1, so any client on the same host as
    the service (a process beside `disputedesk run`, or a local proxy passing the header through
    unchanged) chose its own address: a new one per request emptied no bucket of the limit on
    failed keys or of the console's sign-in limit, and guessing keys was unthrottled."""
    return bool(environ.get("FORWARDED_ALLOW_IPS", "").strip())


class HttpLimits(BaseSettings):
    """Read once per process, from HTTP_MAX_URL_BYTES, HTTP_MAX_HEADER_BYTES,
    HTTP_HEADER_TIMEOUT_S, HTTP_BODY_TIMEOUT_S and HTTP_BODY_DEADLINE_S."""

    model_config = SettingsConfigDict(env_prefix="HTTP_", extra="ignore")

    # Our longest URLs are a path with two ids and a paging cursor: well under 1 KiB.
    max_url_bytes: int = Field(default=8 * 1024, ge=1024)
    # A bearer key, a trace header and a browser's cookies fit in a few KiB; 32 KiB is the
    # order of what common proxies allow (nginx: 4 × 8 KiB).
    max_header_bytes: int = Field(default=32 * 1024, ge=4 * 1024)
    # From a connection's opening, or a request's first byte, until its headers are complete.
    # Every client of ours sends its headers in one write; a client that trickles them
    # (slowloris) holds a connection and its buffers for nothing.
    header_timeout_s: float = Field(default=10.0, gt=0)
    # The longest pause between two pieces of a request's body. A pause that our own back
    # pressure causes (the app has not read what arrived yet) does not count.
    body_timeout_s: float = Field(default=30.0, gt=0)
    # The longest a whole body may take, from the end of its headers to its last byte. Pauses
    # alone bound nothing: a body trickled a byte every 29 s would hold the connection, and the
    # worker's slot, until the body limit (1 MiB: a year). Our largest bodies (1 MiB) take
    # seconds even on a slow mobile link. Time our own back pressure holds the body back does
    # not count, as for `body_timeout_s`.
    body_deadline_s: float = Field(default=30.0, gt=0)


@cache
def http_limits() -> HttpLimits:
    return HttpLimits()


class _TimedFlow(FlowControl):
    """uvicorn's flow control, keeping how long reading has been paused for the app (it had not
    read what arrived), so that a deadline on the client can leave that time out."""

    def __init__(self, transport: asyncio.Transport, clock: Callable[[], float]) -> None:
        super().__init__(transport)
        self._clock = clock
        self._paused_since: float | None = None
        self._paused_before = 0.0

    def pause_reading(self) -> None:
        if not self.read_paused:
            self._paused_since = self._clock()
        super().pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and self._paused_since is not None:
            self._paused_before += self._clock() - self._paused_since
            self._paused_since = None
        super().resume_reading()

    def paused_s(self) -> float:
        """Seconds reading has been paused since the connection opened, the pause now included."""
        now_paused = 0.0 if self._paused_since is None else self._clock() - self._paused_since
        return self._paused_before + now_paused


class _Refused(Exception):
    """Raised from a parser callback: the parser stops, and this is the answer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


class ProblemHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = http_limits()
        self._url_bytes = 0
        self._header_bytes = 0
        self._head_bytes = 0  # the head's bytes read after the read it began in
        # The request whose app is running, which uvicorn does not keep: `self.cycle` is the
        # last one parsed, and pipelined ones wait in `self.pipeline`.
        self._running: RequestResponseCycle | None = None
        # Between a message's start and its complete head, the refused request has no cycle.
        self._in_head = False
        # A refusal waiting for the answers to the requests pipelined before it.
        self._refusal: bytes | None = None
        # The header or body deadline running now (the loop's time it falls due), if any, and
        # whether it is the whole body's. One timer stands for it, set to go off no later than
        # the deadline and moved only when a deadline comes sooner than it (see `_arm`).
        self._due: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._whole_body_due = False
        # When the body began (its headers' end), less the paused time before that.
        self._body_began = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Before any request: every cycle is handed `self.flow` when its headers are complete.
        self.flow = _TimedFlow(transport, self.loop.time)
        self._arm(self._limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        # Deadlines are armed three times a request (its head, its body, each piece of it) and
        # almost never met. Scheduling and cancelling a timer each time was a third of what
        # this protocol added to uvicorn's per request; now a deadline is a number, and the
        # timer is scheduled again only when the deadline is sooner than where it stands. A
        # timer that goes off before the deadline (a later one replaced the earlier) is set
        # again for the deadline; one that finds none armed does nothing.
        due = self.loop.time() + seconds
        self._due = due
        if self._timer is None or due < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(due, self._timer_went_off)
            self._timer_at = due

    def _timer_went_off(self) -> None:
        self._timer = None
        due = self._due
        if due is None:
            return
        if self.loop.time() < due:
            self._timer = self.loop.call_at(due, self._timer_went_off)
            self._timer_at = due
            return
        self._too_slow()

    def _arm_body(self) -> None:
        """The sooner of the body's deadlines: its pause's, and its whole time's."""
        assert isinstance(self.flow, _TimedFlow)
        spent = self.loop.time() - self.flow.paused_s() - self._body_began
        left = self._limits.body_deadline_s - spent
        self._arm(max(min(left, self._limits.body_timeout_s), 0.0))
        self._whole_body_due = left <= self._limits.body_timeout_s

    def _disarm(self) -> None:
        self._due = None

    def _too_slow(self) -> None:
        self._due = None
        if self.transport.is_closing() or self._refusal is not None:
            return
        in_body = not self._in_head and self.cycle is not None
        if in_body and self.flow.read_paused:
            # The app has not read the body that arrived: the wait is ours, not the client's.
            self._arm_body()
            return
        if not in_body:
            detail = (
                f"The request's headers did not arrive within {self._limits.header_timeout_s:g} s."
            )
        elif self._whole_body_due:
            detail = (
                f"The request's body did not arrive whole within {self._limits.body_deadline_s:g}"
                " s."
            )
        else:
            detail = f"The request's body paused for over {self._limits.body_timeout_s:g} s."
        self._send_problem(408, "Request timeout", detail)

    def _should_upgrade_to_ws(self) -> bool:
        # No route of ours speaks WebSocket. Upgraded, the request reached the app as a
        # websocket scope no route takes, and uvicorn answered a plain-text 403; an upgrade
        # request is served as the HTTP/1.1 request it also is instead (a server may ignore
        # Upgrade, RFC 9110 §7.8), whatever `--ws` says or whichever library is installed.
        return False

    def _unsupported_upgrade_warning(self) -> None:
        # uvicorn logs two warnings for every such request (one blaming a missing library): a
        # client could fill the log with them. Ignoring Upgrade is the intended answer.
        pass

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_bytes = 0
        self._header_bytes = 0
        self._head_bytes = 0
        self._in_head = True
        self._arm(self._limits.header_timeout_s)

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > self._limits.max_url_bytes:
            raise _Refused(
                414, "URI too long", f"The URL is over {self._limits.max_url_bytes} bytes."
            )
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # Counted here, as sent on the wire ("name: value\r\n") so the limit reads like a
        # proxy's: uvicorn strips a value's trailing whitespace before keeping it, so a count
        # of the kept headers would let a head of padding through, and each header is counted
        # once, as it arrives, so a head trickled in many pieces costs no more to check.
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self._limits.max_header_bytes:
            raise _Refused(
                431,
                "Request header fields too large",
                f"The headers are over {self._limits.max_header_bytes} bytes together.",
            )
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        # RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without a Host header
        # or with more than one; uvicorn serves it. Which host was meant decides which site,
        # cache entry or absolute link the request belongs to, so none is guessed.
        # One pass over the headers (uvicorn has lowered their names) for both checks below.
        hosts, transfer_codings = 0, []
        for name, value in self.headers:
            if name == b"host":
                hosts += 1
            elif name == b"transfer-encoding":
                transfer_codings.append(value)
        if self.parser.get_http_version() == "1.1":
            if hosts != 1:
                raise _Refused(
                    400,
                    "Bad request",
                    "An HTTP/1.1 request names its Host header exactly once (RFC 9112 §3.2); "
                    + ("this one has none." if hosts == 0 else f"this one has {hosts}."),
                )
        codings = [
            coding.strip().lower()
            for value in transfer_codings
            for coding in value.decode("latin-1").split(",")
        ]
        if codings and codings != ["chunked"]:
            # RFC 9112 §6.1: a transfer coding the server does not understand answers 501. We
            # decode chunked alone; a body "gzip, chunked" would reach the app still compressed.
            raise _Refused(
                501,
                "Not implemented",
                f"Transfer-Encoding {', '.join(codings)} is not supported: send the body as "
                "it is, with Content-Length or Transfer-Encoding: chunked.",
            )
        super().on_headers_complete()
        self._in_head = False
        assert isinstance(self.flow, _TimedFlow)
        self._body_began = self.loop.time() - self.flow.paused_s()
        self._arm_body()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_body()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, app)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:  # after a refusal nothing more is read
            return
        if self._in_head:
            # The head's bytes as they arrive: a header line not finished yet (no line end)
            # reaches no callback, and the parser would hold it, however long, until the header
            # deadline. No head within the URL and header limits is this long.
            self._head_bytes += len(data)
            if self._head_bytes > self._limits.max_url_bytes + self._limits.max_header_bytes + 1024:
                self._send_problem(
                    431,
                    "Request header fields too large",
                    f"The headers are over {self._limits.max_header_bytes} bytes together.",
                )
                return
        super().data_received(data)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._refusal is not None and not self._answers_pending(refused=None):
            self._close_with(self._refusal)

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this from the `except` around the parser, with a fixed message: the
        # exception being handled says what was refused.
        error = sys.exc_info()[1]
        cause = error.__context__ if error is not None else None
        if isinstance(cause, _Refused):
            self._send_problem(cause.status, cause.title, cause.detail)
            return
        if cause is not None:
            # Our own callbacks failed on what the parser let through, e.g. a non-ASCII byte in
            # the request target.
            reason = "the request line or a header holds a byte that is not allowed there"
        else:
            reason = str(error) if error is not None else msg
        self._send_problem(400, "Bad request", f"The request is not valid HTTP/1.1: {reason}.")

    def _answers_pending(self, refused: RequestResponseCycle | None) -> bool:
        """Whether a request received before the refused one still awaits its answer."""
        if self.pipeline:
            return True
        running = self._running
        return running is not None and running is not refused and not running.response_complete

    def _send_problem(self, status: int, title: str, detail: str) -> None:
        body = problem_bytes(
            {
                "type": f"{TYPE_BASE}{title.lower().replace(' ', '-')}",
                "title": title,
                "status": status,
                "detail": detail,
            }
        )
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                # The rest of what the client sent cannot be parsed: the connection ends here.
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        answer = b"".join(content)
        # The refused request's own cycle, when its head was complete (its body was refused): a
        # queued one is never run; a running one learns the client left when the connection ends.
        refused = None if self._in_head else self.cycle
        self.pipeline = deque(item for item in self.pipeline if item[0] is not refused)
        if self._answers_pending(refused):
            # HTTP/1.1 answers pipelined requests in order: the 400 for the third must not be
            # read as the answer to the first. It goes out after theirs, and ends the connection.
            self._refusal = answer
            self.flow.pause_reading()
            return
        self._close_with(answer)

    def _close_with(self, answer: bytes) -> None:
        self._refusal = None
        self.transport.write(answer)
        self.transport.close()
