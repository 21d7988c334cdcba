"""The console negotiates `Accept` as the services do (docs/console.md, "What the console
answers a client that asks for JSON").

Found by the hostile client (rounds eight and nine): a client asking for JSON on a console page
got the HTML page with 200 (a form's action taken too), and every refusal of the console (an
address with no page, a value a page does not take, a service's refusal, no session) came back
as the HTML error page or a redirect to the sign-in form, whatever the client asked for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Harness
from tests.support.console import Console, console_client
from tests.support.services import RunningService

PROBLEM = "application/problem+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON_FIRST = "application/json, text/html;q=0.5"
# The console's pages without an id in their address.
PAGES = ["/", "/queue/rows", "/queue/counts", "/fraud", "/sop", "/reports"]


@pytest.fixture
async def desk(harness: Harness, pipeline: dict[str, RunningService]) -> AsyncIterator[Console]:
    apps = {name: svc.app for name, svc in pipeline.items()}
    async with console_client(apps, harness.env["DISPUTEDESK_KEYRING_FILE"]) as client:
        console = Console(client)
        await console.sign_in(harness.secrets["DISPUTEDESK_KEY_OPS_MANAGER"])
        yield console


def _problem(r: httpx.Response, status: int, field: str | None = None) -> dict[str, object]:
    assert r.status_code == status, (r.request.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM), (r.request.url, r.headers)
    doc = r.json()
    assert doc["status"] == status and doc["title"] and doc["detail"], doc
    if field is not None:
        assert field in [e["field"] for e in doc["errors"]], doc
    return dict(doc)


@pytest.mark.parametrize("accept", ["application/json", PROBLEM, "image/png", "text/html;q=0"])
async def test_a_page_asked_for_another_type_is_406_naming_accept(
    desk: Console, accept: str
) -> None:
    for page in PAGES:
        r = await desk.request("GET", page, headers_extra={"Accept": accept})
        doc = _problem(r, 406, "header.Accept")
        assert doc["acceptable"] == ["text/html"], doc
        # A browser, a client naming nothing and a JSON client that also takes HTML get the page.
        for fine in (BROWSER, "*/*", JSON_FIRST):
            r = await desk.request("GET", page, headers_extra={"Accept": fine})
            assert r.status_code == 200, (page, fine, r.status_code, r.text[:200])
            assert r.headers["content-type"].startswith("text/html"), (page, fine)


async def test_a_form_asked_for_json_is_not_acted_on(desk: Console) -> None:
    token = await desk.csrf("/")
    r = await desk.request(
        "POST",
        "/sign-out",
        data={"csrf_token": token},
        headers_extra={"Accept": "application/json"},
    )
    _problem(r, 406, "header.Accept")
    still = await desk.request("GET", "/", headers_extra={"Accept": BROWSER})
    assert still.status_code == 200, "the 406 signed the person out"


async def test_the_kpi_figures_are_json_and_negotiated(desk: Console) -> None:
    r = await desk.request("GET", "/reports/kpis.json", headers_extra={"Accept": "text/html"})
    assert _problem(r, 406, "header.Accept")["acceptable"] == ["application/json"]
    r = await desk.request(
        "GET", "/reports/kpis.json", headers_extra={"Accept": "application/json"}
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")


async def test_a_refusal_comes_in_the_type_the_client_asked_for(desk: Console) -> None:
    refusals = [  # address, a page (HTML alone), the refusal, the field it names
        ("/no-such-page", False, 404, None),
        ("/reports?start=2026-13-01", True, 422, "query.start"),
        ("/reports/statement?partner_id=%21", False, 422, "query.partner_id"),
        ("/cases/C-NO-SUCH-CASE", True, 404, None),  # the service's refusal, relayed
    ]
    for url, page, status, field in refusals:
        for accept in ("application/json", JSON_FIRST, PROBLEM):
            r = await desk.request("GET", url, headers_extra={"Accept": accept})
            if page and accept != JSON_FIRST:
                _problem(r, 406, "header.Accept")  # a page takes no JSON-only client
            else:
                _problem(r, status, field)
        r = await desk.request("GET", url, headers_extra={"Accept": BROWSER})
        assert r.status_code == status, (url, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("text/html"), (url, r.headers)
        r = await desk.request("GET", url)  # no Accept at all: the page
        assert r.headers["content-type"].startswith("text/html"), (url, r.headers)


async def test_no_session_is_401_for_a_json_client_and_the_sign_in_for_a_browser(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    apps = {name: svc.app for name, svc in pipeline.items()}
    async with console_client(apps, harness.env["DISPUTEDESK_KEYRING_FILE"]) as client:
        r = await client.get("/", headers={"Accept": JSON_FIRST})
        _problem(r, 401)
        r = await client.get("/", headers={"Accept": BROWSER})
        assert r.status_code == 303 and r.headers["location"] == "/sign-in", r.headers
        r = await client.get("/", headers={"Accept": "application/json"})
        _problem(r, 406, "header.Accept")
