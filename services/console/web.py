"""What every page shares: the templates, the signed-in session as a dependency, the CSRF check
on every form, and the few filters that turn API values into words (paise into rupees, times
into India time for people, hours left on a clock)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.responses import Response

from services.console.session import DeskSession, SessionStore
from services.console.settings import ConsoleSettings
from services.console.upstream import Upstream
from shared import money
from shared.negotiation import (
    JSON,
    PROBLEM_JSON,
    accept_of,
    offered_types,
    preferred,
    refuse_unacceptable,
)
from shared.problems import problem_response
from shared.service_route import ReadRoute

HERE = Path(__file__).resolve().parent
IST = timezone(timedelta(hours=5, minutes=30), "IST")

templates = Jinja2Templates(directory=str(HERE / "templates"))


def rupees(paise: int | None) -> str:
    """₹ with Indian digit grouping (12,34,567.89), a typographic minus for money owed back;
    money stays integer paise until here."""
    if paise is None:
        return "—"
    return money.rupees(int(paise)).replace("-", "−", 1)


def when(value: str | datetime | None) -> str:
    """A time as the desk reads it: India time, to the minute."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(IST).strftime("%d %b %Y %H:%M IST")


def words(code: str | None) -> str:
    """UNDER_REVIEW → Under review."""
    if not code:
        return "—"
    return code.replace("_", " ").capitalize()


templates.env.filters["rupees"] = rupees
templates.env.filters["when"] = when
templates.env.filters["words"] = words
templates.env.filters["urlquote"] = lambda s: quote(str(s), safe="")


class SignInRequired(Exception):
    """No live session: the page sends the browser to sign in (htmx: a full redirect)."""


class CsrfRefused(Exception):
    """A form came without this session's CSRF token."""


def settings_of(request: Request) -> ConsoleSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def upstream_of(request: Request) -> Upstream:
    return request.app.state.upstream  # type: ignore[no-any-return]


def store_of(request: Request) -> SessionStore:
    return request.app.state.sessions  # type: ignore[no-any-return]


async def current_desk(request: Request) -> DeskSession:
    settings = settings_of(request)
    desk = store_of(request).touch(request.cookies.get(settings.cookie_name))
    if desk is None:
        raise SignInRequired()
    request.state.desk = desk
    return desk


def _refuse_repeated(pairs: list[tuple[str, Any]], where: str) -> None:
    seen: set[str] = set()
    repeated: list[str] = []
    for name, _ in pairs:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise RequestValidationError(
            [
                {
                    "type": "repeated_field",
                    "loc": (where, name),
                    "msg": "given more than once; send it once",
                    "input": None,
                }
                for name in repeated[:10]
            ]
        )


def refuse_repeated_fields(form: FormData) -> None:
    """A field posted twice (`amount=100&amount=9999900`) answers the 422 page naming it, as a
    request body's key or a query parameter given twice does on the services: the form would
    be read by its last copy, while the person's browser, a proxy or a log may show the first,
    so the form meant two things at once. No page of the console posts a field twice."""
    _refuse_repeated(form.multi_items(), "body")


PAGE = "text/html"
# What a refusal can be written in: the error page, or the services' problem document.
_REFUSAL_TYPES = (PAGE, PROBLEM_JSON, JSON)


def page_types(route: APIRoute) -> tuple[str, ...]:
    """What a console route answers: an HTML page (a form's answer too: the page again, or a
    redirect to one), unless it declares otherwise (the KPI figures' JSON by its response
    class, a download's types in its 2xx `responses`)."""
    declared = not isinstance(route.response_class, DefaultPlaceholder) or any(
        str(status).startswith("2") and isinstance(answer, dict) and answer.get("content")
        for status, answer in (route.responses or {}).items()
    )
    return offered_types(route) if declared else (PAGE,)


def wants_problem(request: Request) -> bool:
    """Whether the client's `Accept` weighs a problem document (or JSON) above an HTML page:
    an API client (or a script) reading a console address; a browser asks for HTML first, and a
    client that names nothing gets the page."""
    return preferred(accept_of(request), _REFUSAL_TYPES) != PAGE


def refusal(
    request: Request,
    status_code: int,
    title: str,
    sentence: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The console's refusal in the type the client asked for: the error page for a browser,
    the services' problem+json (naming the fields in `errors`) for a client asking JSON."""
    if wants_problem(request):
        extra: dict[str, Any] = {"errors": errors} if errors else {}
        return problem_response(request, status_code, title, sentence, headers=headers, **extra)
    response = render(
        request, "error.html", status_code=status_code, title=title, sentence=sentence
    )
    response.headers.update(headers or {})
    return response


class ConsoleRoute(ReadRoute):
    """A console page, which answers what it serves only to a client that takes it, and takes
    each query parameter once: `?status=open&status=closed` (or a report's `start` twice) answers
    the 422 page naming it, as the services answer a query parameter given twice. No page or
    form of the console sends one twice. An `Accept` that takes none of the route's types (JSON
    alone on a page) is 406 problem+json naming `header.Accept` before the page runs (a form's
    action is not taken), as on the services; it comes before the sign-in, since what type a
    console address answers is no secret."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        offered = page_types(self)

        async def each_parameter_once(request: Request) -> Response:
            refuse_unacceptable(accept_of(request), offered)
            if request.scope.get("query_string"):
                _refuse_repeated(request.query_params.multi_items(), "query")
            return await handler(request)

        return each_parameter_once


async def checked_form(
    request: Request, desk: DeskSession = Depends(current_desk)
) -> dict[str, str]:
    """The posted form, once its CSRF token matched the session's; refused otherwise."""
    form = await request.form()
    refuse_repeated_fields(form)
    token = form.get("csrf_token")
    if not desk.csrf_ok(token if isinstance(token, str) else None):
        raise CsrfRefused()
    return {k: v for k, v in form.items() if isinstance(v, str)}


Desk = Annotated[DeskSession, Depends(current_desk)]
Form = Annotated[dict[str, str], Depends(checked_form)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    desk = getattr(request.state, "desk", None)
    return templates.TemplateResponse(
        request,
        template,
        {"desk": desk, "settings": settings_of(request), **context},
        status_code=status_code,
    )
