"""What a handler runs in: its event named in every line it logs, and the publisher's trace
(`EventHandlers.dispatch`, shared/kafka/consumer.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import structlog

from shared import tracing
from shared.envelope import Envelope
from shared.events import ReturnInitiated
from shared.kafka.consumer import EventHandlers, HandlerContext
from shared.logging import configure_logging
from tests.support.factories import return_initiated

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _context(envelope: Envelope) -> HandlerContext:
    # The handlers below touch no database: no session is needed.
    return HandlerContext(session=None, envelope=envelope, topic="t", service="unit")  # type: ignore[arg-type]


def test_a_handled_event_names_its_log_lines_and_runs_in_its_publishers_trace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("unit", "INFO")
    assert not tracing.recorded("unit")
    handlers = EventHandlers()
    seen: dict[str, Any] = {}

    @handlers.on(ReturnInitiated)
    async def handle(event: ReturnInitiated, ctx: HandlerContext) -> None:
        logging.getLogger("handler").warning("handling")
        logging.getLogger("handler").warning("its own", extra={"return_id": "RET-OTHER"})
        seen["traceparent"] = tracing.current_traceparent()
        # Nothing is bound per event as a structlog context variable: the event's fields are
        # read when a line is written, not made for every event.
        seen["bound"] = dict(structlog.contextvars.get_contextvars())
        if event.return_id == "RET-FAIL":
            raise RuntimeError("refused")

    traced = return_initiated("RET-1", TRACEPARENT)
    untraced = return_initiated("RET-2")
    asyncio.run(handlers.dispatch(_context(traced)))
    assert seen["traceparent"] == TRACEPARENT  # what the handler enqueues carries it
    assert "ce_id" not in seen["bound"] and "return_id" not in seen["bound"]
    asyncio.run(handlers.dispatch(_context(untraced)))
    assert seen["traceparent"] is None
    failing = return_initiated("RET-FAIL", TRACEPARENT)
    with pytest.raises(RuntimeError):
        asyncio.run(handlers.dispatch(_context(failing)))

    async def after_a_failure() -> None:
        # Within one task (as a batch handler dispatches), a failed event leaves nothing behind.
        with pytest.raises(RuntimeError):
            await handlers.dispatch(_context(failing))
        logging.getLogger("runner").warning("after")
        assert tracing.current_traceparent() is None

    asyncio.run(after_a_failure())
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    ours = [line for line in lines if line["event"] in ("handling", "its own", "after")]
    first, own, second, _, _, _, _, _, after = ours
    assert first["ce_id"] == str(traced.id)
    assert first["ce_type"] == ReturnInitiated.ce_type
    assert first["return_id"] == "RET-1"
    assert first["trace_id"] == TRACEPARENT.split("-")[1]
    assert first["span_id"] == TRACEPARENT.split("-")[2]
    assert own["return_id"] == "RET-OTHER" and own["ce_id"] == str(traced.id)
    assert second["ce_id"] == str(untraced.id) and "trace_id" not in second
    assert "ce_id" not in after and "trace_id" not in after and after["service"] == "unit"
