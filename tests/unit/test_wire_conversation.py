"""The raw-socket conversation of the hostile-wire tests, against tiny local servers that
misbehave on purpose: an answer nobody asked for must still show, even though the read now ends
on a sentinel's answer instead of on silence."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.support.wire import conversation

# What the fake server does with each request head it reads, given the writer and the head.
Handler = Callable[[asyncio.StreamWriter, bytes], Awaitable[None]]

# Well under the conversation's own read timeout (10 s), so a test that passes within it shows
# that the read ended on a mark rather than by waiting that timeout out.
PROMPT_S = 5.0

REQUEST = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"


def _answer(status: int, body: bytes = b"", traceparent: bytes = b"") -> bytes:
    extra = b"traceparent: %s\r\n" % traceparent if traceparent else b""
    return b"HTTP/1.1 %d X\r\ncontent-length: %d\r\n%s\r\n%s" % (status, len(body), extra, body)


def _traceparent(head: bytes) -> bytes:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"traceparent":
            return value.strip()
    return b""


@contextlib.asynccontextmanager
async def _server(on_request: Handler) -> AsyncIterator[int]:
    """A keep-alive server reading bodiless requests and handing each to `on_request`."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while not writer.is_closing():
                await on_request(writer, await reader.readuntil(b"\r\n\r\n"))
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def _one_answer_each(writer: asyncio.StreamWriter, head: bytes) -> None:
    writer.write(_answer(200, b"one", _traceparent(head)))


async def _twice_to_the_first(writer: asyncio.StreamWriter, head: bytes) -> None:
    # A server that answers a request hidden behind the first: two answers to one write.
    if not _traceparent(head):
        writer.write(_answer(400, b"refused") + _answer(200, b"smuggled"))
    else:
        writer.write(_answer(200, b"sentinel", _traceparent(head)))


async def test_the_answers_before_the_sentinels_are_returned_without_waiting_for_silence() -> None:
    async with _server(_one_answer_each) as port:
        answers = await asyncio.wait_for(conversation(port, REQUEST), PROMPT_S)
    assert [(a[0], a[2]) for a in answers] == [(200, b"one")]


async def test_an_answer_nobody_asked_for_still_shows() -> None:
    async with _server(_twice_to_the_first) as port:
        answers = await asyncio.wait_for(conversation(port, REQUEST), PROMPT_S)
    assert [(a[0], a[2]) for a in answers] == [(400, b"refused"), (200, b"smuggled")]


async def test_a_server_that_closes_ends_the_conversation_at_once() -> None:
    async def answer_and_close(writer: asyncio.StreamWriter, head: bytes) -> None:
        writer.write(_answer(400, b"bye"))
        writer.close()

    async with _server(answer_and_close) as port:
        answers = await asyncio.wait_for(conversation(port, REQUEST), PROMPT_S)
    assert [a[0] for a in answers] == [400]


async def test_interim_answers_are_kept_only_when_asked_for() -> None:
    async def continue_then_answer(writer: asyncio.StreamWriter, head: bytes) -> None:
        if _traceparent(head):
            writer.write(_answer(200, b"sentinel", _traceparent(head)))
        else:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + _answer(202))

    async with _server(continue_then_answer) as port:
        plain = await conversation(port, REQUEST)
        interim = await conversation(port, REQUEST, interim=True)
    assert [a[0] for a in plain] == [202]
    assert [a[0] for a in interim] == [100, 202]


async def test_a_server_that_stops_answering_on_an_open_connection_fails_the_read() -> None:
    async def answer_the_first_only(writer: asyncio.StreamWriter, head: bytes) -> None:
        if not _traceparent(head):
            writer.write(_answer(200))

    async with _server(answer_the_first_only) as port:
        with pytest.raises(AssertionError, match=r"answered so far: \[200\]"):
            await conversation(port, REQUEST, timeout=0.3)


async def test_without_a_sentinel_a_second_answer_right_behind_the_first_still_shows() -> None:
    # Bytes after which the server reads nothing more (an upgrade request) carry no sentinel:
    # the read ends on a short quiet after the last answer.
    async def twice_then_silent(writer: asyncio.StreamWriter, head: bytes) -> None:
        writer.write(_answer(200, b"first"))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(_answer(200, b"second"))

    async with _server(twice_then_silent) as port:
        answers = await asyncio.wait_for(conversation(port, REQUEST, quiet_s=0.5), PROMPT_S)
    assert [a[2] for a in answers] == [b"first", b"second"]
