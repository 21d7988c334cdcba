"""The route class of every service's API: what a route answers before FastAPI reads its body.

FastAPI reads and parses a request's body before it solves the route's dependencies, so with
authentication as a dependency alone an anonymous caller learns our validation: a malformed or
ambiguous body answered 400 or 422 where its missing key should have answered 401. Here the route's
own auth dependency (`shared.auth.authenticate`, and the `require(...)` duty check, which needs no
body) runs first; the dependency finds the principal in the scope afterwards, so a request spends
one rate-limit token as before. On a list, the cursors it reads and hands out are bound to it and
its filters (`shared.paging.listing`). Then an `Accept` that takes none of the route's media types
answers 406 (`shared.negotiation`, since 2026-12-07). Then a query parameter the route does not
take is refused, naming it (since 2026-12-05), and a body in another charset than UTF-8 is refused,
naming the charset, before anything parses it (RFC 8259 §8.1), and so is a JSON object that holds a
key twice (`shared.validation.unambiguous_json_body`). That check was an app-wide dependency, which
FastAPI solved for every request of every route (a nested solve with its own pass over the
parameters and a cache key), a route without a body and a probe included, where it did nothing.

Every router of the four services is made with `route_class=ServiceRoute`;
`shared.app.create_service_app` refuses a router whose API routes are not.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from shared.access import MUTATING, api_routes, walk_dependencies
from shared.auth import RoleCheck, authenticate, refuse_outside_team
from shared.negotiation import accept_of, offered_types, refuse_unacceptable
from shared.paging import listing
from shared.validation import (
    query_kind,
    refuse_lax_query,
    refuse_non_utf8_json,
    refuse_repeated_query,
    refuse_unknown_query,
    takes_many,
    unambiguous_json_body,
)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _head_of_get(scope: Scope, methods: set[str] | None) -> bool:
    return scope.get("method") == "HEAD" and "GET" in (methods or ())


class ReadRoute(APIRoute):
    """An API route that answers HEAD wherever it answers GET, as RFC 9110 §9.3.2 asks of
    every server: the same status and headers, no content (the server drops the body of a
    HEAD answer). FastAPI's routes answer HEAD 405 (Starlette's own routes add it), so a
    monitor or a proxy checking `/healthz` with HEAD saw the service refuse. OpenAPI lists the
    GET alone; HEAD is implied."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if _head_of_get(scope, self.methods):
            scope = {**scope, "method": "GET"}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _head_of_get(scope, self.methods):
            await self.app(scope, receive, send)  # the route's method check would refuse it
            return
        if self.methods and scope.get("method") not in self.methods:
            # The router hands a method no route of the path takes to the first route of the
            # path, whose 405 named its own methods alone (`Allow: GET` where a POST is also
            # taken). RFC 9110 §15.5.6: Allow lists what the resource supports, HEAD included.
            raise HTTPException(405, headers={"Allow": _allowed_at(scope)})
        await super().handle(scope, receive, send)


def _allowed_at(scope: Scope) -> str:
    methods: set[str] = set()
    for route in api_routes(getattr(scope.get("router"), "routes", ())):
        if route.matches(scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


class ServiceRoute(ReadRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        calls = [dep.call for dep in walk_dependencies(self.dependant)]
        checks = [call for call in calls if isinstance(call, RoleCheck)]
        authenticated = bool(checks) or authenticate in calls
        # A key bound to a team changes things only through routes marked as a team's work,
        # and reads only through routes that scope their answer to its team.
        changes = bool((self.methods or set()) & MUTATING) and not any(c.reads for c in checks)
        team_work = any(check.team_work for check in checks)
        team_reads = any(check.team_reads for check in checks)
        takes_body = self.body_field is not None
        query = [p for dep in walk_dependencies(self.dependant) for p in dep.query_params]
        known_query = frozenset(param.alias for param in query)
        single_query = frozenset(
            param.alias for param in query if not takes_many(param.field_info.annotation)
        )
        query_kinds = {
            param.alias: kind
            for param in query
            if (kind := query_kind(param.field_info.annotation)) is not None
        }
        # A route that answers no content (204) has no type for `Accept` to refuse.
        offered = () if self.status_code == 204 else offered_types(self)
        # A list's cursors belong to it and to the filters it was asked with (shared.paging).
        paged = "cursor" in known_query
        filters = known_query - {"cursor", "limit"}

        async def answered_in_order(request: Request) -> Response:
            if authenticated:
                principal = await authenticate(request)
                for check in checks:
                    await check(principal)
                refuse_outside_team(
                    principal, changes=changes, team_work=team_work, team_reads=team_reads
                )
                refuse_unknown_query(request, known_query)
            refuse_unacceptable(accept_of(request), offered)
            refuse_repeated_query(request, single_query)
            refuse_lax_query(request, query_kinds)
            if takes_body:
                await refuse_non_utf8_json(request)
                await unambiguous_json_body(request)
            if not paged:
                return await handler(request)
            with listing(request, filters):
                return await handler(request)

        return answered_in_order
