"""The webhook's own request handler (services/intake/partners/route.py) answers exactly as
FastAPI's generic handler would for the same route: the same status, headers and bytes for a
model, a `Response` the endpoint returns, a `Problem` it raises and a path value out of bounds."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse

from services.intake.partners.route import PartnerWebhookRoute
from services.intake.partners.schemas import WebhookAccepted
from shared.problems import Problem, install_problem_handlers, problem_response
from shared.service_route import ServiceRoute

PartnerId = Annotated[str, Path(min_length=1, max_length=64)]


def _app(route_class: type[ServiceRoute]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter(route_class=route_class)

    @router.post("/v1/webhooks/{partner_id}", status_code=202, response_model=WebhookAccepted)
    async def receive(partner_id: PartnerId, request: Request) -> WebhookAccepted | JSONResponse:
        body = await request.body()
        if partner_id == "unknown":
            raise Problem(404, "Not found", "Unknown partner.")
        if body == b"invalid":
            return problem_response(request, 422, "Validation failed", "Invalid field(s): at")
        return WebhookAccepted(
            raw_ref=f"{partner_id}:{len(body)}", accepted=1, duplicates=0, unmapped=["x"], held=2
        )

    app.include_router(router)
    return app


async def _answer(app: FastAPI, path: str, body: bytes) -> tuple[int, list[Any], bytes]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.post(path, content=body)
    return r.status_code, sorted(r.headers.items()), r.content


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/webhooks/swiftship", b'{"event": "return.in_transit"}'),  # the model, 202
        ("/v1/webhooks/swiftship", b"invalid"),  # a problem document the endpoint returns
        ("/v1/webhooks/unknown", b"{}"),  # a Problem the endpoint raises
        ("/v1/webhooks/" + "x" * 65, b"{}"),  # a path value over its bound: FastAPI's 422
    ],
)
async def test_the_webhook_handler_answers_as_fastapis_would(path: str, body: bytes) -> None:
    generic = await _answer(_app(ServiceRoute), path, body)
    lean = await _answer(_app(PartnerWebhookRoute), path, body)
    assert lean == generic
    if len(path) > 70:
        assert lean[0] == 422 and b"path.partner_id" in lean[2]


def test_a_route_with_something_to_solve_is_refused_when_the_app_is_built() -> None:
    """The handler solves no dependency, body or query: a route that needs one must not be
    served by it silently."""

    async def caller() -> str:
        return "someone"

    router = APIRouter(route_class=PartnerWebhookRoute)

    with pytest.raises(TypeError, match="solves nothing else"):

        @router.post("/v1/webhooks/{partner_id}", status_code=202, response_model=WebhookAccepted)
        async def receive(
            partner_id: PartnerId, request: Request, who: Annotated[str, Depends(caller)]
        ) -> WebhookAccepted:
            raise AssertionError("never served")


def _refused(register: Any) -> None:
    router = APIRouter(route_class=PartnerWebhookRoute)
    with pytest.raises(TypeError, match="solves nothing else"):
        register(router)


def test_a_parameter_fastapi_injects_by_type_is_refused() -> None:
    """Background tasks or the response to set headers on would not be passed by this handler:
    every webhook would fail with a TypeError at the call, a 500 on the busiest route."""

    def register(router: APIRouter) -> None:
        @router.post("/v1/webhooks/{partner_id}", status_code=202, response_model=WebhookAccepted)
        async def receive(
            partner_id: PartnerId, request: Request, tasks: BackgroundTasks
        ) -> WebhookAccepted:
            raise AssertionError

    _refused(register)


def test_a_response_option_the_handler_would_not_apply_is_refused() -> None:
    def register(router: APIRouter) -> None:
        @router.post(
            "/v1/webhooks/{partner_id}",
            status_code=202,
            response_model=WebhookAccepted,
            response_model_exclude_none=True,
        )
        async def receive(partner_id: PartnerId, request: Request) -> WebhookAccepted:
            raise AssertionError

    _refused(register)


def test_a_plain_def_endpoint_is_refused() -> None:
    """FastAPI runs a plain function in a thread; this handler awaits its endpoint."""

    def register(router: APIRouter) -> None:
        @router.post("/v1/webhooks/{partner_id}", status_code=202, response_model=WebhookAccepted)
        def receive(partner_id: PartnerId, request: Request) -> WebhookAccepted:
            raise AssertionError

    _refused(register)
