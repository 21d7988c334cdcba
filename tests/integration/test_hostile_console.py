"""The desk console under a hostile client, signed in as a manager: every page's address with ids
that are no ids (dot segments, `?` and `#`, NUL, look-alikes, markup), every query parameter and
every form field of every form the pages render (found by reading the pages, so a new form is
attacked without being listed) with the classic values. The answer is never a 5xx, an id never
changes which service route the console calls, and what a page shows of the input is escaped.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import Harness
from tests.support.console import Console, console_client
from tests.support.factories import escalation_body
from tests.support.feed import feed_return
from tests.support.keys import add_key
from tests.support.services import RunningService
from tests.support.waiting import eventually

SCRIPT = "<script>alert(1)</script>"

# Values a form field or query value gets, one at a time.
CLASSICS = {
    "NUL": "a\x00b",
    "a lone surrogate": "a\ud800b",
    "a control character": "a\x07b",
    "100,000 characters": "x" * 100_000,
    "markup": SCRIPT,
    "an attribute break": '"><img src=x onerror=alert(1)>',
    "2^63": str(2**63),
    "10^40": str(10**40),
    "NaN": "NaN",
    "minus one": "-1",
    "a fraction": "0.5",
    "year 9999": "9999-12-31T23:59:59Z",
    "no timezone": "2026-11-24T10:00:00",
    "empty": "",
    "a path": "../../v1/cases",
    "a Cyrillic look-alike": "\u0405-DEMO-1",
}

# Ids for a page's path: each must answer the console's own page, never reach another route.
ODD_IDS = [
    "%2E%2E",
    "%2E",
    "%3F",
    "%3Flimit%3D1",
    "%23",
    "%00",
    "%ff",
    "%C3%28",
    "x" * 3000,
    "%D0%85-DEMO-1",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%F0%9F%98%80",
    "%20",
]


@pytest.fixture
async def console(harness: Harness, pipeline: dict[str, RunningService]) -> AsyncIterator[Console]:
    apps = {name: svc.app for name, svc in pipeline.items()}
    async with console_client(apps, harness.env["DISPUTEDESK_KEYRING_FILE"]) as client:
        desk = Console(client)
        await desk.sign_in(harness.secrets["DISPUTEDESK_KEY_OPS_MANAGER"])
        yield desk


async def _a_case(harness: Harness, pipeline: dict[str, RunningService]) -> str:
    rid = (await feed_return(pipeline["intake"], harness))["return_id"]
    r = await pipeline["intake"].client.post(
        "/v1/escalations",
        json=escalation_body(rid),
        headers=harness.key("DISPUTEDESK_KEY_SELLER_PORTAL"),
    )
    assert r.status_code in (201, 202), r.text

    async def cases() -> list[dict[str, Any]]:
        r = await pipeline["reconciliation"].client.get(
            "/v1/cases",
            params={"return_id": rid},
            headers=harness.key("DISPUTEDESK_KEY_OPS_MANAGER"),
        )
        return list(r.json()["items"])

    [case] = await eventually(cases, timeout=60, what=f"the case of {rid}")
    return str(case["case_id"])


def _never_failed(r: httpx.Response, what: str) -> None:
    assert r.status_code < 500, (what, r.status_code, r.text[:500])
    if r.headers.get("content-type", "").startswith("text/html"):
        # Whatever the page repeats of the input is escaped: never the markup itself.
        assert SCRIPT not in r.text and "<img src=x" not in r.text, (what, r.text[:500])


PAGES_WITH_IDS = [
    "/cases/{}",
    "/sop/{}",
    "/fraud/risk/{}/S-1",
]
# Any entity has a risk (LOW, without reasons, when fraud has never seen it): an odd entity id
# answers a page naming it, escaped.
ANY_ID_PAGES = ["/fraud/risk/seller/{}"]


@pytest.mark.parametrize("page", PAGES_WITH_IDS + ANY_ID_PAGES)
async def test_odd_ids_in_a_page_address_answer_the_consoles_page(
    console: Console, page: str
) -> None:
    for odd in ODD_IDS:
        r = await console.request("GET", page.format(odd))
        _never_failed(r, odd)
        if page not in ANY_ID_PAGES:
            # An id that is no id names nothing: never another route's answer shown as a page.
            # (405: an encoded `/` made it another address, of a form.)
            assert r.status_code in (404, 405, 422), (odd, r.status_code, r.text[:300])


POST_PATHS_WITH_IDS = [
    "/cases/{}/note",
    "/cases/{}/decide",
    "/sop/{}/what-if",
    "/sop/{}/propose",
    "/fraud/alerts/{}",
]


@pytest.mark.parametrize("path", POST_PATHS_WITH_IDS)
async def test_odd_ids_in_a_form_address_reach_no_other_route(console: Console, path: str) -> None:
    token = await console.csrf()
    for odd in ODD_IDS:
        r = await console.request(
            "POST", path.format(odd), data={"csrf_token": token, "reason": "probe"}
        )
        _never_failed(r, odd)
        # Refused with the page, or back to the list with the refusal said (the fraud page).
        refused_back = r.status_code == 303 and "problem=" in r.headers["location"]
        assert r.status_code in (404, 405, 422) or refused_back, (odd, r.status_code, r.text[:300])


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
FIELD = re.compile(r"<(?:input|select|textarea)\b([^>]*)>")


def _forms(html: str) -> list[tuple[str, str, dict[str, str]]]:
    """Each form of a page: its method, action and fields with their values as rendered."""
    out = []
    for attrs, inner in FORM.findall(html):
        form = dict(ATTR.findall(attrs))
        fields: dict[str, str] = {}
        for field_attrs in FIELD.findall(inner):
            a = dict(ATTR.findall(field_attrs))
            if "name" in a:
                fields.setdefault(a["name"], unescape(a.get("value", "")))
        method = form.get("method", "get").upper()
        out.append((method, unescape(form.get("action", "")), fields))
    return out


async def test_every_field_of_every_form_takes_the_classics(
    harness: Harness, pipeline: dict[str, RunningService], console: Console
) -> None:
    case_id = await _a_case(harness, pipeline)
    pages = ["/", f"/cases/{case_id}", "/sop", "/sop/sop-v1", "/fraud", "/reports"]
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    attacked = 0
    for page in pages:
        r = await console.request("GET", page)
        assert r.status_code == 200, (page, r.text[:300])
        for method, action, fields in _forms(r.text):
            target = action or page
            if target in ("/sign-out",) or (method, target, tuple(fields)) in seen:
                continue
            seen.add((method, target, tuple(fields)))
            for name in fields:
                if name in ("csrf_token", "idem"):
                    continue
                for what, value in CLASSICS.items():
                    if method == "GET" and len(value) > 4000:
                        continue  # past any URL's limit: refused on the wire (414)
                    form = {**fields, name: value, "idem": str(uuid.uuid4())}
                    r = await console.submit(method, target, form)
                    _never_failed(r, f"{method} {target} {name}={what}")
                    attacked += 1
    assert attacked > 200  # the pages' forms were found
    # What the forms stored (notes, reasons, watchlist entries holding markup) is shown escaped.
    for page in pages:
        r = await console.request("GET", page)
        _never_failed(r, f"{page} after the forms")
    r = await console.request("GET", f"/cases/{case_id}")
    assert unescape(SCRIPT) in unescape(r.text)  # the markup was stored and is shown, as text


async def test_a_person_of_one_team_reads_its_teams_cases_in_the_console(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    """A warehouse person signed in sees, in the queue, the cases the desk asked the warehouse
    something on and no other; its case page shows the case and the warehouse's task, and
    says the seller's emails and the partner's notices are the desk's (the services refuse
    them such a key: the page no longer asks); another case's page is the console's 404."""
    ours, theirs = await _a_case(harness, pipeline), await _a_case(harness, pipeline)
    r = await pipeline["reconciliation"].client.post(
        f"/v1/cases/{ours}/tasks",
        json={"team": "warehouse", "ask": "Open the box and photograph what came back"},
        headers=harness.key("DISPUTEDESK_KEY_OPS_AGENT"),
    )
    assert r.status_code == 201, r.text
    bearer = add_key(
        harness.env, f"warehouse.{uuid.uuid4().hex[:8]}", ["ops_agent"], team="warehouse"
    )
    key = bearer["Authorization"].removeprefix("Bearer ")
    apps = {name: svc.app for name, svc in pipeline.items()}
    async with console_client(apps, harness.env["DISPUTEDESK_KEYRING_FILE"]) as client:
        person = Console(client)
        await person.sign_in(key)
        queue = await person.request("GET", "/")
        assert queue.status_code == 200, queue.text[:300]
        assert ours in queue.text and theirs not in queue.text
        page = await person.request("GET", f"/cases/{ours}")
        assert page.status_code == 200, page.text[:300]
        assert "Open the box" in page.text and "The desk keeps these" in page.text
        assert "Your role may not do this" not in page.text
        other = await person.request("GET", f"/cases/{theirs}")
        assert other.status_code == 404, other.text[:300]
        # The desk's pages answer the person as the console answers a refusal, never a 5xx.
        for path in (
            "/queue/rows",
            "/queue/counts",
            "/fraud",
            "/fraud/risk",
            "/fraud/risk/seller/S-DEMO-1",
            "/reports",
            "/reports/kpis.json",
            "/reports/pack",
            "/reports/statement?partner_id=swiftship&month=2026-11",
            "/sop",
            "/sop/sop-v1",
        ):
            r = await person.request("GET", path)
            _never_failed(r, path)
            assert "Traceback" not in r.text, path


@pytest.mark.parametrize("path", ["/reports/", "/sop/", "/fraud/", "/sign-in/", "/cases/"])
async def test_a_trailing_slash_never_redirects_to_the_hosts_the_client_names(
    console: Console, path: str
) -> None:
    # Found by hostile9: `/reports/` answered 307 to `https://evil.example/reports` when the
    # request's Host said so. Now the console's 404 page, as the services answer.
    r = await console.request("GET", path, headers_extra={"Host": "evil.example"})
    assert r.status_code == 404, (path, r.status_code, r.headers)
    assert "location" not in r.headers, r.headers
    assert r.headers["content-type"].startswith("text/html"), r.headers


async def test_a_queue_filter_holding_url_syntax_is_the_same_filter_on_the_next_request(
    console: Console,
) -> None:
    # Found by hostile9: the queue wrote its filters into its refresh and paging links
    # unencoded, so `assignee=a&state=CLOSED` (one assignee's name) came back on the next
    # refresh as the assignee `a` and the state CLOSED: another filter, and another list.
    name = "a&state=CLOSED#x"
    r = await console.request("GET", "/queue/rows?" + urlencode({"assignee": name}))
    assert r.status_code == 200, r.text[:300]
    refresh = re.search(r'hx-get="([^"]+)"', r.text)
    assert refresh is not None, r.text[:300]
    asked = parse_qs(urlsplit(unescape(refresh.group(1))).query)
    assert asked == {"assignee": [name]}, asked
