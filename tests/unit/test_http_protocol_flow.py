"""The body deadline's clock: the time reading is paused for the app (back pressure, a
pipelined request waiting) is the server's, and does not count against the client. And the
deadlines' one timer: requests on a kept-alive connection move it, they do not schedule it."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

from uvicorn.config import Config
from uvicorn.server import ServerState

from shared.http_protocol import HttpLimits, ProblemHttpProtocol, _TimedFlow


class _Transport:
    def __init__(self) -> None:
        self.reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


def test_paused_seconds_add_up_the_pauses_the_current_one_included() -> None:
    now = [10.0]
    transport: Any = _Transport()
    flow = _TimedFlow(transport, lambda: now[0])
    assert flow.paused_s() == 0.0
    flow.pause_reading()
    now[0] = 13.0
    flow.pause_reading()  # already paused: the pause still began at 10
    assert (flow.paused_s(), transport.reading) == (3.0, False)
    flow.resume_reading()
    now[0] = 20.0
    assert (flow.paused_s(), transport.reading) == (3.0, True)
    flow.resume_reading()  # not paused: nothing to add
    flow.pause_reading()
    now[0] = 21.5
    assert flow.paused_s() == 4.5


# The deadlines' timer: armed three times a request, met almost never.


async def _app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class _Wire(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.out: list[tuple[float, bytes]] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.out.append((asyncio.get_running_loop().time(), bytes(data)))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8001)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _protocol(header_timeout_s: float = 10.0) -> tuple[ProblemHttpProtocol, _Wire]:
    config = Config(app=_app, http=ProblemHttpProtocol, log_level="warning", access_log=False)
    config.load()
    protocol = ProblemHttpProtocol(config=config, server_state=ServerState(), app_state={})
    protocol._limits = HttpLimits(header_timeout_s=header_timeout_s)
    wire = _Wire()
    protocol.connection_made(wire)
    return protocol, wire


_POST = b"POST /v1/webhooks/swiftship HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n"


async def test_keep_alive_requests_schedule_no_timer_of_their_own() -> None:
    loop = asyncio.get_running_loop()
    ours: list[str] = []  # the deadlines' timers, not uvicorn's own keep-alive timer
    call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(callback, "__module__", None) == ProblemHttpProtocol.__module__:
            ours.append(callback.__name__)
        return call_at(when, callback, *args, **kwargs)

    with patch.object(loop, "call_at", counting_call_at):
        protocol, wire = _protocol()
        for _ in range(5):
            protocol.data_received(_POST + b"{}")
            for _ in range(10):
                await asyncio.sleep(0)
        answers = [data for _, data in wire.out if data.startswith(b"HTTP/1.1")]
        assert [a.split(b" ")[1] for a in answers] == [b"202"] * 5
        # The connection's one timer, for its first head; each request moved the deadline only.
        assert len(ours) == 1, ours
        protocol.connection_lost(None)


async def test_a_deadline_later_than_where_the_timer_stands_is_kept() -> None:
    # The timer goes off for the first head's deadline while the next head's, set later, is
    # still running: it is set again, and the 408 comes at that deadline, not before.
    protocol, wire = _protocol(header_timeout_s=0.2)
    await asyncio.sleep(0.1)
    protocol.data_received(_POST + b"{}")  # complete: no deadline until the next head
    for _ in range(10):
        await asyncio.sleep(0)
    began = asyncio.get_running_loop().time()
    protocol.data_received(b"POST /v1/webhooks/swiftship HTTP/1.1\r\nhost:")  # never finished
    for _ in range(100):
        if wire.closed:
            break
        await asyncio.sleep(0.02)
    at, answer = wire.out[-1]
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert at >= began + 0.2
    protocol.connection_lost(None)


async def test_headers_padded_with_trailing_whitespace_count_as_sent() -> None:
    # uvicorn strips a value's trailing spaces before keeping the header, so a limit counted
    # over the kept headers would let a head made mostly of padding through.
    protocol, wire = _protocol()
    padding = b"".join(b"x-pad-%d: a%s\r\n" % (i, b" " * 8000) for i in range(8))
    protocol.data_received(b"GET / HTTP/1.1\r\nhost: x\r\n" + padding + b"\r\n")
    for _ in range(20):
        await asyncio.sleep(0)
    answers = [data.split(b"\r\n")[0] for _, data in wire.out if data.startswith(b"HTTP/")]
    assert answers == [b"HTTP/1.1 431 Request Header Fields Too Large"], answers
    protocol.connection_lost(None)


async def test_a_header_line_that_never_ends_is_refused_once_no_head_could_be_that_long() -> None:
    # One header value sent in pieces without its line end reaches no header callback: the
    # bytes the head has taken are counted as they arrive, so it cannot grow until the deadline.
    protocol, wire = _protocol()
    protocol.data_received(b"GET / HTTP/1.1\r\nhost: x\r\nx-long: ")
    for _ in range(40):
        if wire.closed:
            break
        protocol.data_received(b"a" * 4096)
    for _ in range(20):
        await asyncio.sleep(0)
    answers = [data.split(b"\r\n")[0] for _, data in wire.out if data.startswith(b"HTTP/")]
    assert answers == [b"HTTP/1.1 431 Request Header Fields Too Large"], answers
    assert wire.closed
    protocol.connection_lost(None)
