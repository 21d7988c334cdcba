"""CloudEvents 1.0 in Kafka binary mode: attributes as `ce_*` headers, the payload as the value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid4

from shared.events import EventPayload, decode_payload

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class EnvelopeError(ValueError):
    """A message whose headers do not make a valid CloudEvent."""


@dataclass(frozen=True, slots=True)
class Envelope:
    payload: EventPayload
    source: str
    id: UUID = field(default_factory=uuid4)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    # CloudEvents distributed-tracing extension: the W3C trace context of the span that
    # published the event. Optional, so events written before tracing still parse.
    traceparent: str | None = None

    @property
    def type(self) -> str:
        return self.payload.ce_type

    @property
    def key(self) -> str:
        return self.payload.kafka_key()

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_id", str(self.id).encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.subject:
            headers.append(("ce_subject", self.subject.encode()))
        if self.traceparent:
            headers.append(("ce_traceparent", self.traceparent.encode()))
        return headers

    def value(self) -> bytes:
        return self.payload.model_dump_json().encode()


def header_map(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in headers}


def decode_envelope(headers: dict[str, str], value: bytes | None) -> Envelope:
    """Parse a consumed message; raises EnvelopeError or pydantic.ValidationError when invalid."""
    missing = [h for h in ("ce_id", "ce_source", "ce_type", "ce_time") if h not in headers]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
    if headers.get("ce_specversion", SPEC_VERSION) != SPEC_VERSION:
        raise EnvelopeError(f"unsupported ce_specversion {headers['ce_specversion']!r}")
    try:
        ce_id = UUID(headers["ce_id"])
        ce_time = datetime.fromisoformat(headers["ce_time"])
    except ValueError as exc:
        raise EnvelopeError(f"bad ce_id or ce_time: {exc}") from exc
    if value is None:
        raise EnvelopeError("message has no value")
    payload = decode_payload(headers["ce_type"], value)
    return Envelope(
        payload=payload,
        source=headers["ce_source"],
        id=ce_id,
        time=ce_time,
        subject=headers.get("ce_subject"),
        traceparent=headers.get("ce_traceparent"),
    )
