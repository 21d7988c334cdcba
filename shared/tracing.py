"""OpenTelemetry traces across the services: one trace from an HTTP request through each outbox
row, Kafka message and consumer to the email it causes (docs/operations.md, "Tracing").

A request always gets its span context, so that logs and problem documents can name a trace
id; it, and the per-event hops (publish, consume), make an SDK span only when it is recorded
(`recorded`) and otherwise pass the context on. Spans leave the process only when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set (OTLP over HTTP). Each service has its own tracer
provider, so spans carry their service's name even when several services share one process
(the tests run all four in one).

How the context crosses each gap:
- HTTP: `shared.request_path.ServiceRequests` continues an incoming W3C `traceparent`
  header, or starts a trace;
- outbox: the row stores the `traceparent` of the span that enqueued it;
- Kafka: the relay's publish span (unrecorded: the row's own context) travels as the
  CloudEvents `traceparent` extension attribute (`ce_traceparent` in binary mode,
  shared/envelope.py); the consumer continues it;
- background work (the email dispatcher): the row it works from stores the `traceparent`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import Token
from functools import lru_cache
from random import getrandbits
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.trace import (
    INVALID_SPAN_CONTEXT,
    INVALID_SPAN_ID,
    INVALID_TRACE_ID,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

# Where the HTTP middleware leaves the request's trace id for handlers that run outside its
# span (Starlette answers unhandled exceptions from its outermost layer).
SCOPE_TRACE_ID = "disputedesk.trace_id"


class _Listeners(SpanProcessor):
    """Hands finished spans to processors added at run time (`add_listener`): a test's
    in-memory exporter sees the spans of services that were started before it."""

    def __init__(self) -> None:
        self.processors: list[SpanProcessor] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for p in list(self.processors):
            p.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for p in list(self.processors):
            p.on_end(span)

    def shutdown(self) -> None:
        for p in list(self.processors):
            p.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(p.force_flush(timeout_millis) for p in list(self.processors))


_LISTENERS = _Listeners()
_providers: dict[str, TracerProvider] = {}
_exporting: dict[str, str] = {}
_lock = threading.Lock()


def _provider(service: str) -> TracerProvider:
    with _lock:
        provider = _providers.get(service)
        if provider is None:
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(_LISTENERS)
            _providers[service] = provider
        return provider


def configure_tracing(service: str, otlp_endpoint: str | None) -> None:
    """Export this service's spans to an OTLP/HTTP collector when an endpoint is given (once
    per service and endpoint; restarting a service in the same process adds no second one)."""
    if not otlp_endpoint:
        return
    provider = _provider(service)
    with _lock:
        if _exporting.get(service) == otlp_endpoint:
            return
        _exporting[service] = otlp_endpoint
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    endpoint = otlp_endpoint.rstrip("/")
    if not endpoint.endswith("/v1/traces"):
        endpoint += "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    log.info("exporting traces over OTLP", extra={"endpoint": endpoint})


def recorded(service: str) -> bool:
    """Whether a span of `service` reaches anyone: its OTLP exporter, or a listener (tests).

    When none does, the per-event paths (the outbox relay's publish, the consumer's handling)
    pass the trace context on instead of making a span per event that nobody sees: the
    message, the rows a handler enqueues and its log lines still name the same trace, whose
    next recorded span is then the publisher's."""
    return service in _exporting or bool(_LISTENERS.processors)


def add_listener(processor: SpanProcessor) -> None:
    """Also hand every service's finished spans to `processor` (tests: an in-memory exporter)."""
    _LISTENERS.processors.append(processor)


def remove_listener(processor: SpanProcessor) -> None:
    _LISTENERS.processors.remove(processor)


_tracers: dict[str, Tracer] = {}


def tracer(service: str) -> Tracer:
    """The service's tracer, made once: every request, consumed event and published row starts
    a span, and `get_tracer` builds a new tracer (and its scope) at each call."""
    found = _tracers.get(service)
    if found is None:
        found = _tracers[service] = _provider(service).get_tracer(f"disputedesk.{service}")
    return found


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, or None outside any span: the header the
    propagator's `inject` writes, formatted here without its carrier and setter (every outbox
    row asks, two a reconciliation decision)."""
    span_context = trace.get_current_span().get_span_context()
    if span_context == INVALID_SPAN_CONTEXT:
        return None
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
        f"-{span_context.trace_flags:02x}"
    )


def context_from(traceparent: str | None) -> Context | None:
    """The context a `traceparent` names (None when absent or malformed: a new trace starts).

    The W3C propagator's own reading of the header (its pattern and checks), without its
    carrier and getter and the second look-up of the span to ask whether it is valid: every
    request and every consumed event reads one, and the propagator took about 7 µs of the
    consumer's per-event work. The contexts of recent traceparents are kept: the events of one
    partner batch, or a decision's two case events, carry the same one, and a context is
    immutable."""
    if not traceparent or len(traceparent) > _TRACEPARENT_MAX:
        return None
    return _context_of(traceparent)


@lru_cache(maxsize=1024)
def _context_of(traceparent: str) -> Context | None:
    match = _TRACEPARENT_RE.search(traceparent)
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    span_context = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(flags, 16)),
    )
    return trace.set_span_in_context(NonRecordingSpan(span_context), Context())


_TRACEPARENT_RE = TraceContextTextMapPropagator._TRACEPARENT_HEADER_FORMAT_RE
_TRACEPARENT_MAX = TraceContextTextMapPropagator._TRACEPARENT_MAXIMUM_LENGTH
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside any span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x")


def add_trace_ids(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: every log line written inside a span names its trace and span."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict


@contextmanager
def span_from(
    service: str,
    name: str,
    traceparent: str | None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: dict[str, Any] | None = None,
) -> Iterator[trace.Span]:
    """A span continuing the trace `traceparent` names (a new trace when there is none)."""
    with tracer(service).start_as_current_span(
        name, context=context_from(traceparent), kind=kind, attributes=attributes
    ) as span:
        yield span


class continuing:  # noqa: N801 - used as a function: `with continuing(traceparent): ...`
    """The trace `traceparent` names as the current context, with no span of its own: what runs
    inside (rows it enqueues, lines it logs) belongs to that trace, as inside `span_from`, for
    when no span would be recorded (`recorded`).

    A class, not a generator-based context manager: the consumer enters one per event, and
    the generator's machinery cost as much as the context itself."""

    __slots__ = ("_context", "_token")

    def __init__(self, traceparent: str | None) -> None:
        self._context = context_from(traceparent)
        self._token: Token[Context] | None = None

    def __enter__(self) -> None:
        if self._context is not None:
            self._token = otel_context.attach(self._context)

    def __exit__(self, *_: object) -> None:
        if self._token is not None:
            otel_context.detach(self._token)
            self._token = None


def unrecorded_span(traceparent: str | None) -> NonRecordingSpan:
    """A request's span when nobody records it (`recorded` is false): a span context of its
    own, continuing the caller's trace or starting one, with no SDK span behind it.

    The request still names its trace (log lines, problem documents, the answer's
    `traceparent`, the outbox rows it writes), and its ids are made as the SDK makes them; but
    a recorded SDK span (attributes, processors, the span's end) cost more than a small
    endpoint's whole work, for a span nobody sees."""
    parent = trace.get_current_span(context_from(traceparent)).get_span_context()
    span_id = getrandbits(64)
    while span_id == INVALID_SPAN_ID:
        span_id = getrandbits(64)
    if parent.is_valid:
        trace_id, flags, state = parent.trace_id, parent.trace_flags, parent.trace_state
    else:
        trace_id = getrandbits(128)
        while trace_id == INVALID_TRACE_ID:
            trace_id = getrandbits(128)
        # As the SDK's default sampler (parent-based, always on) would mark a new trace.
        flags, state = _SAMPLED, None
    return NonRecordingSpan(
        SpanContext(trace_id, span_id, is_remote=False, trace_flags=flags, trace_state=state)
    )


_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def traceparent_of(span_context: SpanContext) -> str:
    """The W3C `traceparent` naming `span_context` (what the propagator would inject)."""
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-"
        f"{span_context.trace_flags:02x}"
    )
