"""A patient client for the probes that send faster than the services' rate limit.

The services limit a key to 100 requests a second and answer beyond it 429 with a Retry-After.
A hostile-input probe on a quiet machine sends faster than that, and what it tests is the
answer its input gets, not the limit's: so it waits as told and sends again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx


async def patiently(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    tries: int = 20,
    timeout_s: float | None = None,
) -> httpx.Response:
    """The first answer to `send()` that is not a 429, waiting each 429's Retry-After between
    (the last 429 after `tries`). With `timeout_s`, a send that gets no answer in that time
    raises TimeoutError."""
    response = await asyncio.wait_for(send(), timeout=timeout_s)
    for _ in range(tries - 1):
        if response.status_code != 429:
            break
        await response.aread()
        await asyncio.sleep(float(response.headers.get("retry-after") or 1))
        response = await asyncio.wait_for(send(), timeout=timeout_s)
    return response


class PatientTransport(httpx.AsyncBaseTransport):
    """A transport that waits out 429s (`patiently`) for every request sent through it. It does
    not own the transport it wraps: closing it leaves that one open."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await patiently(lambda: self.inner.handle_async_request(request))
