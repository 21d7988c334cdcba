"""The webhook's route class: FastAPI's request handler cut to what this one route uses.

A partner webhook is the request intake serves most, and FastAPI's generic handler did work
for it that the route does not need: it solved the route's dependencies (a pass over every
kind of parameter, the `Request` found by its annotation, a context for error messages, an
exit stack), then validated the model the endpoint had just built before serialising it. That
was about 30 µs of a webhook's in-process 80 µs outside the endpoint (`docs/cpu-journal.md`,
"Intake's webhook: a handler of its own").

The route takes no body parameter, no query, header or cookie parameter and no dependency:
its endpoint reads the partner's bytes itself (`request.body()`) and authenticates by the
partner's own scheme, so the service's auth dependency and the route class's body checks
(`shared.service_route`) have nothing to do for it. What is left is what this handler does:

1. the path parameters, validated by their own declarations as FastAPI does
   (`request_params_to_args`); a value outside them is handed to FastAPI's handler, which
   answers its 422 problem document exactly as for any other route;
2. the endpoint, with the values and the `Request`;
3. its answer: a `Response` as it is (problem documents), a model serialised once by the
   response model's serialiser, with the route's status code. Everything the endpoint raises
   (`Problem`) propagates to the app's problem handlers as before.

The route keeps everything FastAPI reads from it for the OpenAPI document (parameters,
response model, status code, responses), and the shared request layer (URL check, trace, body
limit, RED metrics; `shared.request_path`) runs before it as before. Anything this handler
would skip, a dependency or parameter added to the route later, is refused when the app is
built rather than silently not run.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.utils import request_params_to_args
from pydantic import TypeAdapter

from shared.service_route import Handler, ServiceRoute


class PartnerWebhookRoute(ServiceRoute):
    def get_route_handler(self) -> Handler:
        # FastAPI's handler for this route, for the one case answered its way: a bad path value.
        fastapi_handler = super().get_route_handler()
        dependant = self.dependant
        skipped = (
            dependant.dependencies
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or self.body_field is not None
            # Parameters FastAPI injects by type (background tasks, the response to set
            # headers on, a WebSocket or HTTP connection, security scopes): not passed here.
            or dependant.background_tasks_param_name
            or dependant.response_param_name
            or dependant.http_connection_param_name
            or dependant.websocket_param_name
            or dependant.security_scopes_param_name
        )
        # Response options FastAPI's serialiser applies and this one would not.
        reshaped = (
            self.response_model_include is not None
            or self.response_model_exclude is not None
            or not self.response_model_by_alias
            or self.response_model_exclude_unset
            or self.response_model_exclude_defaults
            or self.response_model_exclude_none
            or not isinstance(self.response_class, DefaultPlaceholder)
        )
        status_code = self.status_code
        if (
            skipped
            or reshaped
            or not inspect.iscoroutinefunction(self.endpoint)
            or dependant.request_param_name is None
            or self.response_model is None
            or status_code is None
        ):
            raise TypeError(
                f"{self.path}: PartnerWebhookRoute serves an endpoint of path parameters and "
                "the Request with a response model and status code (an async endpoint, the "
                "response as the model serialises it), and solves nothing else"
            )
        path_params = dependant.path_params
        request_param = dependant.request_param_name
        endpoint = self.endpoint
        dump_json = TypeAdapter(self.response_model).dump_json

        async def answer(request: Request) -> Response:
            values, errors = request_params_to_args(path_params, request.path_params)
            if errors:
                return await fastapi_handler(request)
            values[request_param] = request
            result: Any = await endpoint(**values)
            if isinstance(result, Response):
                return result
            # The endpoint built the model; FastAPI would validate it again before dumping it.
            return Response(
                dump_json(result), status_code=status_code, media_type="application/json"
            )

        return answer
