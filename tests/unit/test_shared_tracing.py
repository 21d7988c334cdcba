"""Trace context on the envelope, in log lines and in problem documents (shared/tracing.py)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from shared import tracing
from shared.envelope import Envelope, decode_envelope, header_map
from shared.events import ReturnInitiated
from shared.logging import configure_logging
from shared.problems import Problem, install_problem_handlers
from shared.request_path import ServiceRequests

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _return() -> ReturnInitiated:
    return ReturnInitiated(
        return_id="RET-1",
        order_id="O-1",
        seller_id="S-1",
        buyer_id="B-1",
        category="toys",
        item_value=1000,
        qc_required=False,
        partner_id="swiftship",
        awb="SS1",
        initiated_at=datetime(2026, 11, 26, tzinfo=UTC),
    )


def test_traceparent_travels_as_the_cloudevents_extension_header() -> None:
    env = Envelope(_return(), source="t", traceparent=TRACEPARENT)
    headers = header_map(env.headers())
    assert headers["ce_traceparent"] == TRACEPARENT
    assert decode_envelope(headers, env.value()).traceparent == TRACEPARENT


def test_an_event_without_trace_context_still_parses() -> None:
    env = Envelope(_return(), source="t")
    headers = header_map(env.headers())
    assert "ce_traceparent" not in headers
    assert decode_envelope(headers, env.value()).traceparent is None


def test_a_span_continues_the_trace_its_traceparent_names() -> None:
    with tracing.span_from("unit", "work", TRACEPARENT):
        assert tracing.current_trace_id() == "0af7651916cd43dd8448eb211c80319c"
        own = tracing.current_traceparent()
    assert own is not None and own.split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert tracing.current_traceparent() is None
    # Garbage starts a new trace rather than failing the handler.
    with tracing.span_from("unit", "work", "not-a-traceparent"):
        assert tracing.current_trace_id() not in (None, "0af7651916cd43dd8448eb211c80319c")


def test_log_lines_inside_a_span_name_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", "INFO")
    with tracing.span_from("unit", "work", TRACEPARENT):
        logging.getLogger("anything").warning("inside")
    logging.getLogger("anything").warning("outside")
    inside, outside = (json.loads(line) for line in capsys.readouterr().err.splitlines()[-2:])
    assert inside["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert len(inside["span_id"]) == 16
    assert "trace_id" not in outside


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(ServiceRequests, service="unit")

    @app.get("/refused")
    async def refused() -> None:
        raise Problem(409, "Conflict", "no")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.mark.parametrize("path,status", [("/refused", 409), ("/bug", 500), ("/nowhere", 404)])
async def test_problem_documents_name_the_request_trace(path: str, status: int) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get(path, headers={"traceparent": TRACEPARENT})
    assert r.status_code == status
    assert r.json()["trace_id"] == "0af7651916cd43dd8448eb211c80319c"


def test_compose_sends_every_service_s_spans_through_a_collector_to_jaeger() -> None:
    from pathlib import Path

    import yaml

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    compose = yaml.safe_load((deploy / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"otel-collector", "jaeger"} <= set(services)
    for name in ("intake", "fraud", "reconciliation", "notifications"):
        endpoint = services[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert "http://otel-collector:4318" in endpoint
    mounted = services["otel-collector"]["volumes"][0].split(":")[0]
    config = yaml.safe_load((deploy / mounted).read_text())
    pipeline = config["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert config["exporters"][pipeline["exporters"][0]]["endpoint"] == "jaeger:4317"


def test_the_current_traceparent_is_the_header_the_w3c_propagator_writes() -> None:
    """`current_traceparent` formats the header itself: the propagator's `traceparent` for a
    sampled span, an unsampled one, one with a trace state, and none outside any span."""
    from opentelemetry import trace
    from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    trace_id, span_id = (int(part, 16) for part in TRACEPARENT.split("-")[1:3])
    contexts = [
        SpanContext(trace_id, span_id, False, TraceFlags(1)),
        SpanContext(trace_id, span_id, True, TraceFlags(0)),
        SpanContext(1, 2, False, TraceFlags(1), TraceState([("vendor", "x")])),
    ]
    for context in contexts:
        with trace.use_span(NonRecordingSpan(context)):
            carrier: dict[str, str] = {}
            propagator.inject(carrier)
            assert tracing.current_traceparent() == carrier["traceparent"]
    carrier = {}
    propagator.inject(carrier)
    assert carrier == {}
    assert tracing.current_traceparent() is None


def test_a_traceparent_is_read_as_the_w3c_propagator_reads_it() -> None:
    """`context_from` reads the header itself (the propagator's pattern and checks, without its
    carrier): the same span context as the propagator for valid and malformed headers alike."""
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    trace_id, span_id = TRACEPARENT.split("-")[1:3]
    headers = [
        TRACEPARENT,
        f"00-{trace_id}-{span_id}-00",
        f"  00-{trace_id}-{span_id}-01\t",
        f"00-{trace_id}-{span_id}-01\n",
        f"01-{trace_id}-{span_id}-01-future",
        f"00-{trace_id}-{span_id}-01-future",
        f"ff-{trace_id}-{span_id}-01",
        f"00-{'0' * 32}-{span_id}-01",
        f"00-{trace_id}-{'0' * 16}-01",
        f"00-{trace_id.upper()}-{span_id}-01",
        f"00-{trace_id[:-1]}-{span_id}-01",
        f"00-{trace_id}-{span_id}-1",
        "00-" + "a" * 600,
        "not-a-traceparent",
        "",
        None,
    ]
    for header in headers:
        expected = None
        if header:
            extracted = trace.get_current_span(propagator.extract({"traceparent": header}))
            if extracted.get_span_context().is_valid:
                expected = extracted.get_span_context()
        ctx = tracing.context_from(header)
        got = None if ctx is None else trace.get_current_span(ctx).get_span_context()
        assert got == expected, header
        assert got is None or got.is_remote
