"""Sign-in with a key, sign-out. The sign-in form has no session yet, so its CSRF token is a
double submit: a random value both in a SameSite=Strict cookie and in the form."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.console.auth.throttle import SignInThrottle
from services.console.session import DESK_ROLES
from services.console.web import (
    ConsoleRoute,
    Form,
    refuse_repeated_fields,
    render,
    settings_of,
    store_of,
)

router = APIRouter(route_class=ConsoleRoute, tags=["session"])

PRE_SIGN_IN_COOKIE = "dd_console_signin"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        secure=settings_of(request).cookie_secure,
        samesite="strict",
        path="/",
    )


def _sign_in_page(request: Request, status_code: int = 200, **context: object) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "sign_in.html", status_code=status_code, csrf=token, **context)
    _cookie(response, request, PRE_SIGN_IN_COOKIE, token, max_age=3600)
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request, expired: int = 0) -> Response:
    notice = (
        "Your session ended after a while without activity. Sign in again." if expired else None
    )
    return _sign_in_page(request, notice=notice)


def _address(request: Request) -> str:
    # The connection's peer; behind a proxy named in FORWARDED_ALLOW_IPS, the client's (uvicorn
    # reads X-Forwarded-For from that proxy alone: `shared.http_protocol.trusts_proxy_headers`).
    return request.client.host if request.client else "unknown"


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = _address(request)
    wait_s = throttle.retry_after_s(address)
    if wait_s is not None:
        # Checked before the key is even read: a throttled address learns nothing about keys.
        response = _sign_in_page(
            request,
            status_code=429,
            key_error=f"Too many failed sign-ins from your address. Wait {wait_s} seconds, "
            "then try again with your own desk key.",
        )
        response.headers["Retry-After"] = str(wait_s)
        return response
    form = await request.form()
    refuse_repeated_fields(form)
    token = form.get("csrf_token")
    cookie = request.cookies.get(PRE_SIGN_IN_COOKIE)
    if not isinstance(token, str) or not cookie or not hmac.compare_digest(token, cookie):
        return render(
            request,
            "error.html",
            status_code=403,
            title="Form refused",
            sentence="This sign-in form was not sent from this console's own page. "
            "Reload the sign-in page and try again.",
        )
    key = form.get("key")
    key = key.strip() if isinstance(key, str) else ""
    principal = request.app.state.keyring.lookup(key) if key else None
    if principal is None:
        throttle.failed(address)
        return _sign_in_page(
            request, status_code=401, key_error="This key is not known (or was revoked)."
        )
    if not principal.has(*DESK_ROLES):
        throttle.failed(address)
        return _sign_in_page(
            request,
            status_code=403,
            key_error="This key belongs to a system or a seller, not to a person at the desk: "
            "sign in with an ops agent, ops manager or finance key.",
        )
    store = store_of(request)
    store.close(request.cookies.get(settings_of(request).cookie_name))
    desk = store.open(key, principal)
    response = RedirectResponse("/", status_code=303)
    # No max-age: a browser session cookie; the server's idle clock decides how long it lives.
    response.set_cookie(
        settings_of(request).cookie_name,
        desk.session_id,
        httponly=True,
        secure=settings_of(request).cookie_secure,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(PRE_SIGN_IN_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, form: Form) -> Response:
    settings = settings_of(request)
    store_of(request).close(request.cookies.get(settings.cookie_name))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(settings.cookie_name, path="/")
    return response
