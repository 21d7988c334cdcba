"""Calls to the four services, always with the signed-in person's own key, so every
authorisation and every audit actor stays the service's own. Problems come back as sentences a
person can act on, addressed to the form field they name."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from services.console.session import DeskSession
from services.console.settings import ConsoleSettings

SERVICES = ("intake", "reconciliation", "fraud", "notifications")


@dataclass
class UpstreamProblem(Exception):
    """The service refused: `sentence` for the page, `fields` for the form fields it names."""

    status: int
    sentence: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.sentence


@dataclass
class UpstreamUnavailable(Exception):
    """The service did not answer in time, or not at all."""

    service: str
    slow: bool

    @property
    def sentence(self) -> str:
        if self.slow:
            return (
                f"The {self.service} service is slow to answer right now. Try again in a "
                "moment (an action sent again is applied only once)."
            )
        return f"The {self.service} service cannot be reached right now. Try again in a moment."

    def __str__(self) -> str:
        return self.sentence


_STATUS_SENTENCES = {
    401: "Your key was not accepted. Sign in again.",
    403: "Your role may not do this.",
    404: "That no longer exists, or never did.",
    409: "Someone changed this in the meantime; reload and try again.",
    429: "Too many requests from your key just now; wait a moment and try again.",
}


def _field_name(location: str) -> str:
    # "body.reason" → "reason"; "query.cursor" → "cursor"; "body.checklist.0" → "checklist".
    parts = [
        p for p in location.split(".") if p not in ("body", "query", "path") and not p.isdigit()
    ]
    return parts[0] if parts else ""


def _humanise(message: str) -> str:
    message = message.strip()
    message = re.sub(r"^(String|List|Value|Input) should", "Should", message)
    if message and not message.endswith("."):
        message += "."
    return message[:1].upper() + message[1:]


def problem_from(response: httpx.Response) -> UpstreamProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    fields: dict[str, str] = {}
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            name = _field_name(str(error.get("field", "")))
            if name and name not in fields:
                fields[name] = _humanise(str(error.get("message", "is not valid")))
    detail = body.get("detail")
    if fields and (not detail or str(detail).startswith("Invalid field(s)")):
        sentence = "Some fields need another look; see the notes beside them."
    elif detail:
        sentence = _humanise(str(detail))
    else:
        sentence = _STATUS_SENTENCES.get(response.status_code, "The service refused this.")
    return UpstreamProblem(status=response.status_code, sentence=sentence, fields=fields)


def _names_one_route(path: str) -> bool:
    """Whether a service path is the route the console meant, whatever ids it was built from:
    a `?` or `#` would begin a query or fragment, a `.` or `..` segment is resolved away on the
    way (RFC 3986: `/v1/cases/../tasks` is `/v1/tasks`), a control character is no URL."""
    if any(c in path for c in "?#") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return False
    return not any(segment in (".", "..") for segment in unquote(path).split("/"))


class Upstream:
    def __init__(
        self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None
    ):
        self._bases = {
            "intake": settings.intake_url,
            "reconciliation": settings.reconciliation_url,
            "fraud": settings.fraud_url,
            "notifications": settings.notifications_url,
        }
        self._deadline_s = settings.upstream_timeout_s
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.upstream_timeout_s),
            transport=transport,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        desk: DeskSession | str,
        method: str,
        service: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        if not _names_one_route(path):
            # An id from the page's address or a form, put into the path, would have called
            # another route of the service with the person's key (and shown its answer as this
            # page): it names nothing, as far as this page goes.
            raise UpstreamProblem(status=404, sentence=_STATUS_SENTENCES[404])
        key = desk if isinstance(desk, str) else desk.key
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        if method != "GET":
            # A resubmitted form (double click, reload) is applied once.
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            # httpx's timeouts bound each phase (connect, each read); this bounds the whole
            # exchange, so a service trickling its answer still gets the "slow" page in time.
            async with asyncio.timeout(self._deadline_s):
                response = await self._client.request(
                    method, self._bases[service] + path, params=clean, json=json, headers=headers
                )
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise UpstreamUnavailable(service, slow=True) from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(service, slow=False) from exc
        if response.status_code >= 400:
            raise problem_from(response)
        return response

    async def get(self, desk: DeskSession | str, service: str, path: str, **params: Any) -> Any:
        return (await self.request(desk, "GET", service, path, params=params)).json()

    async def post(
        self,
        desk: DeskSession,
        service: str,
        path: str,
        body: Any,
        *,
        idempotency_key: str | None = None,
    ) -> Any:
        response = await self.request(
            desk, "POST", service, path, json=body, idempotency_key=idempotency_key
        )
        return response.json() if response.content else None
