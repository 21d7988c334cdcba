"""SMTP connections kept between the dispatcher's rounds (channels/smtp.py), against real SMTP
servers on localhost: a kept connection that went stale costs its message no attempt, a message
whose DATA went out is never sent twice, and stopping closes every connection quickly."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from services.notifications.channels import smtp
from services.notifications.channels.base import OutgoingMessage
from services.notifications.channels.smtp import SmtpChannel
from services.notifications.settings import NotificationsSettings
from tests.support.notifications import free_port

pytestmark = pytest.mark.timeout(20)


def _message(to: str) -> OutgoingMessage:
    return OutgoingMessage(uuid.uuid4(), to, "Subject", "text", "<p>html</p>")


def _settings(port: int, **overrides: Any) -> NotificationsSettings:
    values: dict[str, Any] = {"smtp_timeout_s": 1.0, "smtp_keepalive_s": 30.0}
    values.update(overrides)
    return NotificationsSettings(smtp_host="127.0.0.1", smtp_port=port, **values)


def _transport_closed(client: aiosmtplib.SMTP) -> bool:
    return client.transport is None or client.transport.is_closing()


class ScriptedServer:
    """A small SMTP server whose misbehaviour a test switches on: going silent without closing
    (a NAT that dropped the connection), dropping the connection after DATA's final dot, or
    answering RSET or QUIT with an error."""

    def __init__(self) -> None:
        self.connections = 0
        self.silent = False  # connections already open stop answering (new ones answer)
        self.drop_after_dot = False
        self.refuse_rcpt = False
        self.rset_reply = b"250 ok"
        self.quit_reply: bytes | None = b"221 bye"  # None: QUIT is never answered
        self.delivered: list[tuple[int, bytes]] = []  # (connection number, RCPT line)
        self.writers: list[asyncio.StreamWriter] = []
        self.port = 0  # set by `scripted` once it listens

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        me = self.connections
        self.writers.append(writer)
        silenced_from_start = self.silent
        writer.write(b"220 scripted\r\n")
        rcpt = b""
        while line := await reader.readline():
            if self.silent and not silenced_from_start:
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-scripted\r\n250 8BITMIME\r\n")
            elif verb == b"RCPT":
                rcpt = line.strip()
                writer.write(b"550 5.1.1 no such user\r\n" if self.refuse_rcpt else b"250 ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go\r\n")
                await writer.drain()
                while await reader.readline() != b".\r\n":
                    pass
                self.delivered.append((me, rcpt))
                if self.drop_after_dot:
                    writer.close()
                    return
                writer.write(b"250 queued\r\n")
            elif verb == b"RSET":
                writer.write(self.rset_reply + b"\r\n")
            elif verb == b"QUIT":
                if self.quit_reply is None:
                    continue
                writer.write(self.quit_reply + b"\r\n")
                if self.quit_reply.startswith(b"221"):
                    await writer.drain()
                    writer.close()
                    return
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


@asynccontextmanager
async def scripted() -> AsyncIterator[ScriptedServer]:
    """A scripted server on a port the kernel picks (`server.port`): a fixed port collides
    when two checkouts run the suite at once."""
    server = ScriptedServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = int(listener.sockets[0].getsockname()[1])
    try:
        yield server
    finally:
        listener.close()
        for writer in server.writers:
            writer.close()
        # Let the handlers see end of file and finish before the test's loop moves on.
        await asyncio.sleep(0.05)


async def test_a_kept_connection_gone_half_open_costs_the_message_no_attempt() -> None:
    async with scripted() as server:
        channel = SmtpChannel(_settings(server.port))
        try:
            assert await channel.send_many([_message("one@x.dev")]) == [None]
            server.silent = True  # the kept connection now hears nothing back, and no FIN
            results = await channel.send_many([_message("two@x.dev"), _message("three@x.dev")])
            assert results == [None, None]
            assert server.connections == 2
            assert [n for n, _ in server.delivered] == [1, 2, 2]
        finally:
            await channel.close()


class CappedHandler:
    """aiosmtpd handler refusing MAIL with 421 after `cap` messages on one connection."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.connections = 0
        self.delivered: list[str] = []

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        session.carried = 0
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if session.carried >= self.cap:
            return "421 4.7.0 too many messages on this connection"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        session.carried += 1
        self.delivered.extend(envelope.rcpt_tos)
        return "250 queued"


async def test_a_per_connection_message_limit_costs_no_message_an_attempt() -> None:
    handler = CappedHandler(cap=2)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    channel = SmtpChannel(_settings(port))
    try:
        rounds = [await channel.send_many([_message(f"r{i}@x.dev")]) for i in range(3)]
        assert rounds == [[None]] * 3
        batch = [_message(f"b{i}@x.dev") for i in range(5)]
        assert await channel.send_many(batch) == [None] * 5
        assert len(handler.delivered) == 8 == len(set(handler.delivered))
    finally:
        await channel.close()
        controller.stop()


async def test_a_message_whose_data_went_out_is_never_sent_twice() -> None:
    async with scripted() as server:
        channel = SmtpChannel(_settings(server.port))
        try:
            assert await channel.send_many([_message("one@x.dev")]) == [None]
            server.drop_after_dot = True  # the message arrived; its 250 never does
            [error] = await channel.send_many([_message("two@x.dev")])
            assert error is not None and not error.permanent
            assert len(server.delivered) == 2
        finally:
            await channel.close()


async def test_stopping_with_unresponsive_kept_connections_is_quick() -> None:
    async with scripted() as server:
        channel = SmtpChannel(_settings(server.port, smtp_timeout_s=3.0))
        await asyncio.gather(*(channel.send_many([_message(f"a{i}@x.dev")]) for i in range(4)))
        clients = [client for client, _ in channel._kept]
        assert len(clients) == 4
        server.silent = True
        started = time.monotonic()
        await channel.close()
        # One QUIT's wait (QUIT_TIMEOUT_S), not four, nor smtp_timeout_s; room for a busy host.
        assert time.monotonic() - started < 2.9
        assert all(_transport_closed(client) for client in clients)


async def test_close_while_the_idle_closer_waits_on_quit_leaves_no_transport_open() -> None:
    async with scripted() as server:
        server.quit_reply = None
        channel = SmtpChannel(_settings(server.port, smtp_keepalive_s=0.1, smtp_timeout_s=3.0))
        assert await channel.send_many([_message("one@x.dev")]) == [None]
        [(client, _)] = channel._kept
        await asyncio.sleep(0.3)  # the idle closer has said QUIT and waits for the answer
        closer = channel._closer
        await channel.close()
        assert closer is not None and closer.done()
        assert _transport_closed(client)


async def test_a_quit_answered_with_an_error_still_closes_the_transport() -> None:
    async with scripted() as server:
        server.quit_reply = b"500 no"
        channel = SmtpChannel(_settings(server.port))
        assert await channel.send_many([_message("one@x.dev")]) == [None]
        [(client, _)] = channel._kept
        await channel.close()
        assert _transport_closed(client)


async def test_a_failed_rset_closes_the_connection_it_drops() -> None:
    async with scripted() as server:
        channel = SmtpChannel(_settings(server.port))
        try:
            assert await channel.send_many([_message("one@x.dev")]) == [None]
            [(client, _)] = channel._kept
            server.refuse_rcpt = True
            server.rset_reply = b"500 no"
            [error] = await channel.send_many([_message("bad@x.dev")])
            assert error is not None and error.permanent
            assert channel._kept == []
            assert _transport_closed(client)
        finally:
            await channel.close()


async def test_a_connection_retires_after_its_message_cap_and_its_age(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(smtp, "MAX_MESSAGES_PER_CONNECTION", 2)
    monkeypatch.setattr(smtp, "MAX_CONNECTION_AGE_S", 0.3)
    async with scripted() as server:
        channel = SmtpChannel(_settings(server.port))
        try:
            batch = [_message(f"b{i}@x.dev") for i in range(5)]
            assert await channel.send_many(batch) == [None] * 5
            assert [n for n, _ in server.delivered] == [1, 1, 2, 2, 3]
            assert await channel.send_many([_message("kept@x.dev")]) == [None]
            assert server.delivered[-1][0] == 3  # the batch's last connection was kept
            await asyncio.sleep(0.35)
            assert await channel.send_many([_message("old@x.dev")]) == [None]
            assert server.delivered[-1][0] == 4  # too old to reuse: a fresh one
        finally:
            await channel.close()
