"""The desk console: server-rendered pages over the four services' public APIs.

It owns no business data and no keys of its own: each request to a service carries the
signed-in person's key, so the services authorise and audit the person, as with curl."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.console.auth.router import router as auth_router
from services.console.auth.throttle import SignInThrottle
from services.console.cases.router import router as cases_router
from services.console.fraud.router import router as fraud_router
from services.console.queue.router import router as queue_router
from services.console.reports.router import router as reports_router
from services.console.session import SessionStore
from services.console.settings import ConsoleSettings
from services.console.sop.router import router as sop_router
from services.console.upstream import Upstream, UpstreamProblem, UpstreamUnavailable
from services.console.web import (
    HERE,
    ConsoleRoute,
    CsrfRefused,
    SignInRequired,
    refusal,
    render,
    wants_problem,
)
from shared.auth import Keyring
from shared.problems import Problem, problem_answer, problem_response
from shared.request_path import Headers, ServiceRequests, write_problem


def content_security_policy(settings: ConsoleSettings) -> str:
    """No inline script or style anywhere: everything the page runs comes from /static. Images
    come from the console itself (and `data:` for its own icons) and from the evidence stores
    named in `CONSOLE_EVIDENCE_IMAGE_SOURCES` alone, not from whatever https host a seller's
    evidence names: the browser refuses any other, even one injected into a page."""
    images = " ".join(["'self'", "data:", *sorted(settings.image_origins())])
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; "
        "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


# Every answer's security headers; `Cache-Control: no-store` on all but /static.
_SECURITY_HEADER_NAMES = frozenset(
    {b"content-security-policy", b"x-content-type-options", b"referrer-policy", b"x-frame-options"}
)


class SecurityHeaders:
    """Sets the console's security headers on every answer, outermost of its layers: the
    refusals the request layer makes before any page (`ServiceRequests`) carry them too."""

    def __init__(self, app: ASGIApp, *, policy: str) -> None:
        self.app = app
        self.static = [
            (b"content-security-policy", policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]
        # Pages carry other people's data and CSRF tokens: never cached, never shared.
        self.page = [*self.static, (b"cache-control", b"no-store")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")
        own = self.static if static else self.page
        replaced = _SECURITY_HEADER_NAMES if static else _SECURITY_HEADER_NAMES | {b"cache-control"}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", ()) if h[0].lower() not in replaced]
                message["headers"] = [*kept, *own]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _nothing_received() -> Message:
    return {"type": "http.disconnect"}


async def refused_before_any_page(
    scope: Scope, send: Send, status: int, problem: dict[str, Any], headers: Headers
) -> None:
    """How the request layer's refusals (a control character in the URL, a body over the
    limit, a deciding header twice, a compressed body) reach a console client: as every other
    refusal of the console (`web.refusal`), the error page for a browser and the problem
    document for a client weighing JSON above HTML."""
    request = Request(scope)
    if wants_problem(request):
        await write_problem(scope, send, status, problem, headers)
        return
    page = render(
        request,
        "error.html",
        status_code=status,
        title="Request refused",
        sentence=str(problem.get("detail", "The console could not take this request.")),
    )
    page.raw_headers.extend(headers)
    await page(scope, _nothing_received, send)


_HTTP_ERRORS = {
    400: ("Request refused", "The console could not read this form (too many fields?)."),
    404: ("Page not found", "There is no page at this address."),
    405: ("Request refused", "This page does not take that kind of request."),
}


def create_app(
    settings: ConsoleSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.upstream.aclose()

    app = FastAPI(
        title="disputedesk console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # `/reports/` answered 307 to `https://<the request's Host>/reports`: the absolute
        # address was built from a header the client chooses, so a forged Host came back as
        # where to go (the services never redirect for a slash either). No page of the console
        # links to an address with a trailing slash; such an address is the 404 page.
        redirect_slashes=False,
    )
    # Its own pages answer HEAD as their GET, like the services' (shared/service_route.py), and
    # take each query parameter once (`ConsoleRoute`).
    app.router.route_class = ConsoleRoute
    app.state.settings = settings
    app.state.sessions = SessionStore(settings.idle_timeout_s)
    app.state.upstream = Upstream(settings, transport=transport)
    app.state.keyring = Keyring(settings.keyring_file)
    app.state.sign_in_throttle = SignInThrottle(settings.sign_in_failures_per_min)
    # The services' request layer: the body limit, URLs with control characters, deciding
    # headers twice or not ASCII, a compressed body, refused before any page sees them; in the
    # type the client asked for, as every refusal of the console.
    app.add_middleware(
        ServiceRequests,
        service="console",
        max_bytes=settings.max_body_bytes,
        refuse=refused_before_any_page,
    )
    # Added last, so outermost: its headers are on the request layer's refusals too.
    app.add_middleware(SecurityHeaders, policy=content_security_policy(settings))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # Every refusal below is the console's error page for a browser, and the services' problem
    # document for a client whose `Accept` weighs JSON above HTML (`web.refusal`).

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = "/sign-in?expired=1" if request.cookies.get(settings.cookie_name) else "/sign-in"
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        if wants_problem(request):
            # A redirect to a form is no answer to a client reading JSON.
            return problem_response(
                request,
                401,
                "Sign-in required",
                f"This console address needs a signed-in session: sign in at {target}.",
                errors=[{"field": "cookie.session", "message": "no signed-in session"}],
            )
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        return refusal(
            request,
            403,
            "Form refused",
            "This form was not sent from a page of this console (its security token "
            "is missing or stale). Go back, reload the page and try again.",
            errors=[{"field": "body.csrf_token", "message": "missing or stale"}],
        )

    @app.exception_handler(UpstreamUnavailable)
    async def _unavailable(request: Request, exc: UpstreamUnavailable) -> Response:
        return refusal(request, 503, "Service unavailable", exc.sentence)

    @app.exception_handler(UpstreamProblem)
    async def _problem(request: Request, exc: UpstreamProblem) -> Response:
        return refusal(
            request,
            exc.status if exc.status >= 400 else 502,
            "Refused",
            exc.sentence,
            errors=[{"field": f, "message": m} for f, m in exc.fields.items()] or None,
        )

    @app.exception_handler(Problem)
    async def _refused(request: Request, exc: Problem) -> Response:
        # The route class's own refusals (406 for an `Accept` the page cannot answer).
        return problem_answer(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # An address with no page, a method a page does not take, a form it cannot read:
        # the console's own error page, not the framework's JSON `{"detail": ...}`.
        title, sentence = _HTTP_ERRORS.get(
            exc.status_code, ("Request refused", "The console could not take this request.")
        )
        return refusal(
            request, exc.status_code, title, sentence, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": str(e["msg"])}
            for e in exc.errors()[:10]
        ]
        named = [e["field"] for e in errors]
        return refusal(
            request,
            422,
            "Request refused",
            f"The page's address or form holds a value it does not take: {', '.join(named)}.",
            errors=errors,
        )

    @app.get("/healthz", include_in_schema=False, response_class=JSONResponse)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.include_router(auth_router)
    app.include_router(queue_router)
    app.include_router(cases_router)
    app.include_router(fraud_router)
    app.include_router(sop_router)
    app.include_router(reports_router)
    return app
