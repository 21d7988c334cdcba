"""One trace from a seller's escalation to the email it causes, across all four services.

The services run in this process against the real Kafka, PostgreSQL and SMTP server; their spans
are read back from an in-memory exporter.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared import tracing
from tests.conftest import Harness
from tests.support.factories import escalation_body, return_body, swiftship_event, uid
from tests.support.signing import swiftship_headers
from tests.support.waiting import eventually


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    tracing.add_listener(processor)
    try:
        yield exporter
    finally:
        tracing.remove_listener(processor)


def _service(span: Any) -> str:
    return str(span.resource.attributes.get("service.name"))


async def test_an_escalation_is_one_trace_from_the_request_to_the_smtp_send(
    harness: Harness, pipeline: dict[str, Any], spans: InMemorySpanExporter
) -> None:
    intake = pipeline["intake"]
    ret = return_body()
    rid = ret["return_id"]
    r = await intake.client.post(
        "/v1/returns", json=ret, headers=harness.key("DISPUTEDESK_KEY_MARKETPLACE")
    )
    assert r.status_code == 202, r.text
    body = swiftship_event(rid, "return.delivered")
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=uid("msg")),
    )
    assert r.status_code == 202, r.text

    # The seller portal starts the trace; every hop must continue it.
    trace_id = secrets.token_hex(16)
    caller = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    r = await intake.client.post(
        "/v1/escalations",
        json=escalation_body(rid),
        headers={**harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"), "traceparent": caller},
    )
    assert r.status_code == 201, r.text
    assert r.headers["traceparent"].split("-")[1] == trace_id

    def in_trace() -> list[Any]:
        return [
            s
            for s in spans.get_finished_spans()
            if s.context is not None and format(s.context.trace_id, "032x") == trace_id
        ]

    async def smtp_sends() -> list[Any]:
        return [s for s in in_trace() if s.name == "smtp send"]

    await eventually(smtp_sends, timeout=60, what="the acknowledgement's SMTP send in the trace")

    async def services_in_trace() -> set[str]:
        return {_service(s) for s in in_trace()}

    # Fraud scores the escalation beside the acknowledgement's path, not on it: its span may
    # finish after the email went out.
    await eventually(
        services_in_trace,
        until=lambda found: found == {"intake", "fraud", "reconciliation", "notifications"},
        timeout=60,
        what="every service's span in the trace",
    )
    found = in_trace()
    by_id = {s.context.span_id: s for s in found}
    assert {_service(s) for s in found} == {"intake", "fraud", "reconciliation", "notifications"}
    [request] = [s for s in found if s.kind is SpanKind.SERVER]
    assert _service(request) == "intake" and request.name == "POST /v1/escalations"
    consumers = {(_service(s), s.name) for s in found if s.kind is SpanKind.CONSUMER}
    assert ("fraud", "consume disputedesk.intake.seller_escalation_filed.v1") in consumers
    assert ("reconciliation", "consume disputedesk.intake.seller_escalation_filed.v1") in consumers
    assert any(svc == "notifications" for svc, _ in consumers)

    # The send is a descendant of the request: walk its parents back to the intake span.
    send = (await smtp_sends())[0]
    chain = [send]
    while chain[-1].parent is not None and chain[-1].parent.span_id in by_id:
        chain.append(by_id[chain[-1].parent.span_id])
    assert chain[-1] is request
    hops = [(_service(s), s.kind) for s in reversed(chain)]
    assert hops[0] == ("intake", SpanKind.SERVER)
    assert ("intake", SpanKind.PRODUCER) in hops
    assert ("reconciliation", SpanKind.CONSUMER) in hops
    assert ("reconciliation", SpanKind.PRODUCER) in hops
    assert ("notifications", SpanKind.CONSUMER) in hops
    assert hops[-1] == ("notifications", SpanKind.CLIENT)
