"""Templates list and preview with sample data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import AfterValidator, BaseModel

from services.notifications.catalogue.registry import TEMPLATES, preview
from shared import paging
from shared.auth import Principal, Role, require
from shared.paging import Cursor, Limit, PageOf, link_next
from shared.service_route import ServiceRoute

router = APIRouter(route_class=ServiceRoute, tags=["templates"])
READERS = (Role.OPS_AGENT, Role.OPS_MANAGER)


def _known(name: str) -> str:
    if name not in TEMPLATES:
        raise ValueError(f"no template {name!r}; known: {', '.join(sorted(TEMPLATES))}")
    return name


# The catalogue is fixed when the service is built, so a template's name is one of a list: the
# document says which, and any other is the caller's mistake (422), not an object not found.
TemplateName = Annotated[
    str, AfterValidator(_known), Path(json_schema_extra={"enum": sorted(TEMPLATES)})
]


class TemplateOut(BaseModel):
    name: str
    description: str
    audience: str
    trigger: str
    essential: bool


class TemplatePage(PageOf):
    """A page of the template catalogue, by name (docs/api.md, "Paging")."""

    items: list[TemplateOut]


class PreviewOut(BaseModel):
    name: str
    subject: str
    body_text: str
    body_html: str


@router.get("/v1/templates", response_model=TemplatePage, summary="Every message template")
async def list_templates(
    request: Request,
    response: Response,
    limit: int = Limit(100, 500),
    cursor: Cursor = None,
    # The catalogue names no case nor seller: every team may read what the desk sends.
    principal: Principal = require(*READERS, team_reads=True),
) -> TemplatePage:
    catalogue = [
        TemplateOut(
            name=t.name,
            description=t.description,
            audience=t.audience,
            trigger=t.trigger,
            essential=t.essential,
        )
        for t in TEMPLATES.values()
    ]
    items, next_cursor = paging.page_of_list(
        catalogue, limit=limit, cursor=cursor, key=lambda t: (t.name,)
    )
    link_next(request, response, next_cursor)
    return TemplatePage(items=items, next=next_cursor)


@router.get(
    "/v1/templates/{name}/preview",
    response_model=PreviewOut,
    summary="A template rendered with realistic sample data",
)
async def preview_template(
    name: TemplateName,
    request: Request,
    principal: Principal = require(*READERS, team_reads=True),
) -> PreviewOut:
    rendered = preview(name, request.app.state.runtime.settings)
    return PreviewOut(
        name=name, subject=rendered.subject, body_text=rendered.text, body_html=rendered.html
    )
