"""HTTP/1.1 conversations over a raw socket, for tests that send bytes no client library would.

A conversation ends on a positive mark, not on silence. After the case's bytes, the same write
carries a sentinel request: `GET /healthz` continuing a trace of its own, which every process
answers at once, naming that trace in the answer's `traceparent` header. Answers are read until
the sentinel's arrives or the server closes the connection. HTTP/1.1 answers a connection's
requests in order (RFC 9112 §9.3.2), so every answer the case's bytes caused arrives before the
sentinel's. That includes an answer to a request smuggled behind a refusal, which is what these
tests look for. A server that closes after its answer ends the read at once.

Waiting for silence would give the same guarantee at the cost of the whole wait on every
connection kept alive, which is every HTTP/1.1 connection by default.
"""

from __future__ import annotations

import asyncio
import secrets

# (status, headers with lower-case names, body)
Answer = tuple[int, dict[str, str], bytes]

# How long any one answer may take. The sentinel is a health check answered in milliseconds.
# This only bounds a server that has stopped serving the connection, and it is generous so that
# a loaded CI machine never fails a case that is merely slow.
READ_TIMEOUT_S = 10.0


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """One answer: its head, then as many body bytes as its `Content-Length` says."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(lines[0].split()[1]), headers, body


def sentinel_request() -> tuple[bytes, str]:
    """A request every process answers at once, and the trace id its answer will name."""
    trace_id = secrets.token_hex(16)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\ntraceparent: 00-%s-%s-01\r\n\r\n" % (
        trace_id.encode(),
        secrets.token_hex(8).encode(),
    )
    return request, trace_id


def _answers_sentinel(answer: Answer, trace_id: str) -> bool:
    # traceparent: version-trace_id-parent_id-flags (W3C Trace Context)
    return answer[1].get("traceparent", "").split("-")[1:2] == [trace_id]


async def conversation(
    port: int,
    request: bytes,
    *,
    interim: bool = False,
    quiet_s: float | None = None,
    timeout: float = READ_TIMEOUT_S,
) -> list[Answer]:
    """Every answer to `request` on one connection, the sentinel's left out. `interim` keeps
    1xx answers (their head alone).

    `quiet_s` is for bytes after which the server reads nothing more from the connection, so a
    sentinel would never be answered (a request asking to upgrade the protocol). No sentinel is
    sent then: the first answer is awaited for up to `timeout`, and later ones for `quiet_s`
    each. A second answer to one request would come from the same request cycle, right behind
    the first.

    Raises AssertionError when the server keeps the connection open but answers nothing for
    `timeout` seconds while an answer is still owed.
    """
    if quiet_s is None:
        sentinel, trace_id = sentinel_request()
    else:
        sentinel, trace_id = b"", ""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers: list[Answer] = []
    try:
        writer.write(request + sentinel)
        await writer.drain()
        while True:
            wait = timeout if quiet_s is None or not answers else quiet_s
            try:
                answer = await asyncio.wait_for(read_answer(reader), timeout=wait)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                return answers  # the server closed the connection
            except TimeoutError:
                if quiet_s is not None and answers:
                    return answers
                raise AssertionError(
                    f"no answer for {wait:g} s on an open connection; answered so far:"
                    f" {[a[0] for a in answers]}"
                ) from None
            if quiet_s is None and _answers_sentinel(answer, trace_id):
                return answers
            if answer[0] >= 200 or interim:
                answers.append(answer)
    finally:
        writer.close()
