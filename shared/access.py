"""The routes of a service app with who may call them: the source of the role matrix in
docs/security.md, of the bearer scheme in the OpenAPI document (shared/openapi.py) and of the
tests that hold every mutating route to the same rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from shared.auth import RoleCheck, authenticate

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class RouteAccess:
    method: str
    path: str
    # The roles that may call it; empty when any authenticated key may, None when the route
    # does not authenticate with an API key (health, metrics, docs, partner webhooks).
    roles: frozenset[str] | None
    route: APIRoute

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING

    @property
    def authenticated(self) -> bool:
        """It takes an API key (`Authorization: Bearer`), whatever the roles."""
        return self.roles is not None


def walk_dependencies(dependant: Dependant) -> Iterator[Dependant]:
    """The dependant and every dependency beneath it, depth first."""
    yield dependant
    for sub in dependant.dependencies:
        yield from walk_dependencies(sub)


def _roles(dependant: Dependant) -> frozenset[str] | None:
    roles: frozenset[str] | None = None
    for dep in walk_dependencies(dependant):
        if isinstance(dep.call, RoleCheck):
            roles = (roles or frozenset()) | dep.call.roles
        elif dep.call is authenticate and roles is None:
            roles = frozenset()
    return roles


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """The API routes of a router's `routes`, those of the routers it includes among them."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before route contexts: included routes are the app's own
        flat = list(routes)
    else:
        flat = [ctx.route for ctx in iter_route_contexts(list(routes))]
    for route in flat:
        if isinstance(route, APIRoute):
            yield route


def _api_routes(app: FastAPI) -> Iterator[APIRoute]:
    return api_routes(app.router.routes)


def route_access(app: FastAPI) -> list[RouteAccess]:
    """Every API route of `app` (one row per method), in the order they were added."""
    out = []
    for route in _api_routes(app):
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append(RouteAccess(method, route.path, _roles(route.dependant), route))
    return out
