"""The fraud world's scorer reads thousands of risks: throttled answers are waited out."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from disputedesk.fraudworld import score
from disputedesk.fraudworld.score import Reader


def _reader(answers: list[httpx.Response]) -> tuple[Reader, list[int]]:
    asked: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(1)
        return answers.pop(0)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://fraud")
    return Reader(client, client, "key"), asked


async def test_throttled_answers_are_waited_out_without_spending_attempts() -> None:
    throttled = [httpx.Response(429, headers={"retry-after": "0"}) for _ in range(12)]
    reader, asked = _reader([*throttled, httpx.Response(200, json={"band": "LOW"})])
    assert await reader.get(reader.fraud, "/v1/risk/buyer/B1") == {"band": "LOW"}
    assert len(asked) == 13


async def test_other_failures_give_up_after_eight_attempts_naming_the_last_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_wait(_: float) -> None:
        return None

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    reader, asked = _reader([httpx.Response(500) for _ in range(8)])
    with pytest.raises(RuntimeError, match="last answer: 500"):
        await reader.get(reader.fraud, "/v1/risk/buyer/B1")
    assert len(asked) == 8


async def test_throttling_past_the_budget_counts_as_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_wait(_: float) -> None:
        return None

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    monkeypatch.setattr(score, "THROTTLED_WAIT_S", 3.0)
    reader, asked = _reader([httpx.Response(429, headers={"retry-after": "1"}) for _ in range(11)])
    with pytest.raises(RuntimeError, match="last answer: 429"):
        await reader.get(reader.fraud, "/v1/risk/buyer/B1")
    assert len(asked) == 3 + 8
