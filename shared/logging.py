"""Structured JSON logs with correlation fields (`ce_id`, `ce_type`, `return_id`) and PII
scrubbing.

Seller emails and phone numbers must never reach logs; the scrubber is the last line of defence
for text that slipped through (exception messages, third-party log lines).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import structlog

from shared.tracing import add_trace_ids

if TYPE_CHECKING:
    from shared.envelope import Envelope

# Internationalised addresses (RFC 6531) are accepted, so the local part and domain may be any
# script: anything up to a separator, around an @, ending in a dot and a name.
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"'.]{2,}")
# Not inside an identifier: CASE-919876543210 is a case id, not a phone number.
_PHONE = re.compile(r"(?<![\w\-])(?:\+?91[\s\-]?)?[6-9]\d{4}[\s\-]?\d{5}(?!\w)")


def scrub(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def _scrub_event(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = scrub(value)
    return event_dict


# The event a consumer is handling (set by the runner around each handler). Its fields are
# put in a log line only when one is written: binding them as structlog context variables for
# every event (three variables made and reset, the id formatted) cost more than the runner's
# other per-event work, for the few events that log anything.
HANDLED_EVENT: ContextVar[Envelope | None] = ContextVar("disputedesk_handled_event", default=None)


def add_handled_event(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: a line written while an event is handled names it (`ce_id`,
    `ce_type`, `return_id`); fields the line sets itself win."""
    envelope = HANDLED_EVENT.get()
    if envelope is not None:
        event_dict.setdefault("ce_id", str(envelope.id))
        event_dict.setdefault("ce_type", envelope.type)
        event_dict.setdefault("return_id", getattr(envelope.payload, "return_id", None))
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_handled_event,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        add_trace_ids,
        _scrub_event,
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared_processors, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _scrub_event,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.bind_contextvars(service=service)
    # aiokafka logs every reconnect attempt at ERROR while a broker is away; our own retry logs
    # already say so once per backoff step.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
