"""What every HTTP request of every service passes before its route, in one pure ASGI layer:
the URL's characters, the request's trace, the body limit and the RED metrics.

They were four middlewares, each wrapping `send` (and the body limit `receive`) and each
reading the scope's headers again; a service's `/healthz`, which does nothing, cost half as
much again as a bare endpoint in them. Here the headers are walked once, `send` is wrapped
once, and nothing a request does not need is made for it: no SDK span when nobody records
spans (`shared.tracing.recorded`), no counting `receive` when the declared length already
bounds the body, the metric children looked up once per (method, route, status).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import tracing
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.problems import TYPE_BASE, problem_bytes, send_problem
from shared.validation import url_errors, url_refusal

Headers = tuple[tuple[bytes, bytes], ...]
# How a refusal made before routing reaches the client: the scope, the channel, the status, the
# problem document and the headers it must carry. The services answer the document itself
# (`write_problem`); the console writes its error page for a browser (services/console/app.py).
RefusalWriter = Callable[[Scope, Send, int, dict[str, Any], Headers], Awaitable[None]]


async def write_problem(
    scope: Scope, send: Send, status: int, problem: dict[str, Any], headers: Headers
) -> None:
    await send_problem(send, status, problem_bytes(problem), *headers)


# The methods HTTP defines keep their own metric label; any other is `OTHER`. The client
# chooses the method, and each invented one would otherwise be a new series of every RED metric.
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


# Headers that say who is calling, what the body is, or which request this is. Sent twice,
# each reader would pick its own copy: Starlette's `headers.get` the first, a dict built from
# the headers the last, a proxy or log either. The request is refused instead, naming it.
SINGLETON_HEADERS: dict[bytes, str] = {
    name.lower().encode(): name
    for name in (
        "Authorization",
        "X-Api-Key",
        "Idempotency-Key",
        "Content-Type",
        "Content-Encoding",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "RapidRoute-Signature",
    )
}


def _repeated(header: str) -> dict[str, Any]:
    return {
        "type": f"{TYPE_BASE}bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": f"The {header} header was sent more than once; send it once.",
        "errors": [{"field": f"header.{header}", "message": "sent more than once"}],
    }


# What a deciding header's value may hold: visible ASCII, spaces and tabs. Every one of them is
# ASCII by its own definition (a key, a token, a media type, a coding, a signature, a partner's
# message id); anything else is a control character or the bytes of a non-ASCII one, such as
# U+202E or U+200B in UTF-8, which Starlette would hand on decoded as Latin-1 (`â\x80®`): a
# partner's `webhook-id` was stored so as its event id.
_HEADER_REFUSED = re.compile(rb"[^\t\x20-\x7e]")


def _header_character(value: bytes, at: int) -> str:
    """The refused character at `at` of a header value, as a client would have meant it."""
    byte = value[at]
    if byte >= 0x80:
        char = value[at : at + 4].decode("utf-8", errors="replace")[0]
        if char == "\ufffd":
            return f"byte 0x{byte:02X}, which is not ASCII"
        name = unicodedata.name(char, "")
        return f"U+{ord(char):04X}" + (f" ({name})" if name else "")
    return f"control character U+{byte:04X}"


def _header_characters(header: str, value: bytes, at: int) -> dict[str, Any]:
    found = _header_character(value, at)
    return {
        "type": f"{TYPE_BASE}validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": f"Invalid field(s): header.{header}",
        "errors": [
            {
                "field": f"header.{header}",
                "message": f"{found} is not accepted: the header holds visible ASCII only",
            }
        ],
    }


def _identity(value: bytes) -> bool:
    """Whether a Content-Encoding value names no coding but identity. It is a list (RFC 9110
    §8.4): empty elements are ignored (§5.6.1.2), so "" and "identity, " say the same as
    "identity"; any other element is a coding no route decodes."""
    return all(element.strip().lower() in (b"", b"identity") for element in value.split(b","))


def _encoded(coding: bytes) -> dict[str, Any]:
    # No route decodes a compressed body: read as it stands, gzip's bytes were refused as
    # "not UTF-8", and a plain body labelled gzip was read as if the label were not there.
    shown = coding.decode("latin-1")[:40].encode("unicode_escape").decode("ascii")
    return {
        "type": f"{TYPE_BASE}unsupported-media-type",
        "title": "Unsupported media type",
        "status": 415,
        "detail": f"Bodies are taken without a content coding; Content-Encoding {shown!r} "
        "is not accepted. Send the JSON itself.",
        "errors": [{"field": "header.Content-Encoding", "message": "only identity is accepted"}],
    }


_CLOSE: Headers = ((b"connection", b"close"),)


class ServiceRequests:
    """In order, as the request meets them:

    1. **URL characters**: a path segment or query name or value holding a control character
       answers 422 naming the field, before routing, so that no route, dependency, log line or
       metric label ever sees it (`shared.validation.url_errors`).
    2. **One of each deciding header**: `Authorization`, `X-Api-Key`, `Idempotency-Key`,
       `Content-Type`, `Content-Encoding` and the partners' signature headers sent twice answer
       400 naming the header (`SINGLETON_HEADERS`): the copies could disagree. One holding
       anything but visible ASCII, spaces and tabs (a control character, the UTF-8 bytes of
       U+202E or U+200B) answers 422 naming the header and the character. A request
       with content (a `Content-Length` other than 0, or a `Transfer-Encoding`) whose
       `Content-Encoding` lists a coding other than `identity` answers 415 with
       `Accept-Encoding: identity` (RFC 9110 §12.5.3): no route decodes a compressed body. A
       bodiless request's coding describes nothing and is ignored.
    3. **Trace**: the request's span continues the caller's `traceparent` header or starts a
       trace; the answer names it in its own `traceparent` header, and problem documents
       handled outside the span find its id in the scope (`tracing.SCOPE_TRACE_ID`). An SDK
       span is made only when someone records it; otherwise the span is a context of its own
       with the same ids (`tracing.unrecorded_span`).
    4. **Body limit** (`max_bytes`): 413 for a body over the limit, declared or streamed,
       before any parsing. A body sent without Content-Length (chunked) is counted as it
       arrives; when it passes the limit, the 413 goes out from here at once and the app below
       is told the client left, so whatever it does with that (an exception, a 400) never
       reaches the wire. A declared length within the limit needs no counting: the server
       reads no more than it declares.
    5. **RED metrics**: every request counted and timed by its route's template (the one
       FastAPI matched and left in the scope; `unmatched` for none), the method (`OTHER` for
       one HTTP does not define) and the status sent; a request whose handler raised counts as
       500.

    Every refusal above is a problem document, written by `refuse` (`write_problem` unless the
    app says otherwise): the console, whose clients are browsers, writes its error page for a
    client that weighs HTML highest, as its pages' own refusals do.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_bytes: int | None = None,
        refuse: RefusalWriter | None = None,
    ) -> None:
        self.app = app
        self.service = service
        self.max_bytes = max_bytes
        self.refuse = refuse or write_problem
        # (method, route, status) → the counter's and the histogram's children: prometheus'
        # `labels` validates, locks and builds a key at every call.
        self._red: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._too_large_problem = {
            "type": f"{TYPE_BASE}payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"The body is over {max_bytes} bytes.",
        }
        self._too_large = problem_bytes(self._too_large_problem)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        errors = url_errors(scope)
        if errors:
            await self.refuse(scope, send, 422, url_refusal(scope, errors), ())
            return
        traceparent: str | None = None
        declared: bytes | None = None
        chunked = False
        coding: bytes | None = None
        singletons: set[bytes] = set()
        for name, value in scope["headers"]:
            if name == b"traceparent":
                traceparent = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name in SINGLETON_HEADERS:
                if name in singletons:
                    await self.refuse(scope, send, 400, _repeated(SINGLETON_HEADERS[name]), ())
                    return
                singletons.add(name)
                if refused := _HEADER_REFUSED.search(value):
                    problem = _header_characters(SINGLETON_HEADERS[name], value, refused.start())
                    await self.refuse(scope, send, 422, problem, ())
                    return
                if name == b"content-encoding" and not _identity(value):
                    coding = value
        if coding is not None and (chunked or (declared is not None and declared != b"0")):
            # Only a request with content is refused for its coding: RFC 9110 §8.4 has
            # Content-Encoding describe the content, and 415 (§15.5.16) refuses content in a
            # format not supported. A bodiless GET has no content to be in any format.
            await self.refuse(
                scope, send, 415, _encoded(coding), ((b"accept-encoding", b"identity"),)
            )
            return
        if not tracing.recorded(self.service):
            span: Span = tracing.unrecorded_span(traceparent)
            token = otel_context.attach(trace.set_span_in_context(span))
            try:
                await self._traced(scope, receive, send, span, declared)
            finally:
                otel_context.detach(token)
            return
        method = scope["method"]
        with tracing.tracer(self.service).start_as_current_span(
            f"{method} {scope['path']}",
            context=tracing.context_from(traceparent),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            await self._traced(scope, receive, send, span, declared)

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, span: Span, declared: bytes | None
    ) -> None:
        span_context = span.get_span_context()
        scope[tracing.SCOPE_TRACE_ID] = format(span_context.trace_id, "032x")
        traceparent = (b"traceparent", tracing.traceparent_of(span_context).encode())
        recording = span.is_recording()
        started = time.perf_counter()
        status = 500
        rejected = False  # the 413 went out: nothing the app sends after it reaches the wire

        async def respond(message: Message) -> None:
            nonlocal status
            if rejected:
                return
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), traceparent]
                if recording:
                    self._describe(span, scope, status)
            await send(message)

        limit = self.max_bytes
        body_receive = receive
        if limit is not None:
            if declared is not None and declared.isdigit():
                if int(declared) > limit:
                    await self._reject(scope, respond)
                    self._count(scope, 413, started)
                    return
            else:
                seen = 0

                async def counted() -> Message:
                    nonlocal seen, rejected
                    if rejected:
                        return {"type": "http.disconnect"}
                    message = await receive()
                    if message["type"] == "http.request":
                        seen += len(message.get("body", b""))
                        if seen > limit:
                            await self._reject(scope, respond)
                            rejected = True
                            return {"type": "http.disconnect"}
                    return message

                body_receive = counted
        try:
            await self.app(scope, body_receive, respond)
        except Exception:
            if not rejected:
                raise
            # The app failed on the cut-off body; the client already has its 413.
        finally:
            self._count(scope, status, started)

    def _describe(self, span: Span, scope: Scope, status: int) -> None:
        span.set_attribute("http.response.status_code", status)
        template = getattr(scope.get("route"), "path", None)
        if template:  # a low-cardinality name once routing has matched
            span.update_name(f"{scope['method']} {template}")
            span.set_attribute("http.route", template)
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)

    def _count(self, scope: Scope, status: int, started: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        key = (method, route, status)
        children = self._red.get(key)
        if children is None:
            children = self._red[key] = (
                HTTP_REQUESTS.labels(self.service, method, route, str(status)),
                HTTP_LATENCY.labels(self.service, method, route),
            )
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

    async def _reject(self, scope: Scope, respond: Send) -> None:
        # The rest of the body is never read: the connection cannot be reused.
        if self.refuse is write_problem:  # the document made once, at start
            await send_problem(respond, 413, self._too_large, *_CLOSE)
        else:
            await self.refuse(scope, respond, 413, self._too_large_problem, _CLOSE)
