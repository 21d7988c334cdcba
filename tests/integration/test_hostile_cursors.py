"""A cursor belongs to the list, and to the filters, that handed it out (docs/api.md, "Paging").

Found by the hostile client (rounds eight and nine): one list's cursor passed to another was
read there as a position (200, the page after a row of another table) on the lists whose keys
had the same shape, and refused on the others; a cursor of the same list asked with another
filter (`entity_type=seller`'s page two asked for buyers) was read as a position in the other
rows, so a client changing its filters mid-paging skipped rows without a word. Every list of
the four OpenAPI documents is probed (found by its `cursor` parameter).
"""

from __future__ import annotations

from urllib.parse import quote

from tests.conftest import Harness
from tests.integration.test_hostile_sweep import OPERATIONS, Operation, _key, _send, _url, check
from tests.support.factories import uid
from tests.support.services import RunningService

PAGED = [op for op in OPERATIONS if op.method == "GET" and "cursor" in op.query]
# A list that answers only for one of its filters: the refusal under test is the cursor's.
NEEDS = {"notifications GET /v1/messages": "case_id=C-1&"}
# A list under an object that must exist (an unknown partner is a 404 before any cursor).
PATHS = {
    "intake GET /v1/admin/partners/{partner_id}/status-mappings": (
        "/v1/admin/partners/swiftship/status-mappings"
    )
}


def _list_url(op: Operation, query: str) -> str:
    return f"{PATHS.get(op.id, _url(op))}?{NEEDS.get(op.id, '')}{query}"


async def _seed(harness: Harness, pipeline: dict[str, RunningService], tag: str) -> None:
    """Two rows on a list keyed by number and two on one keyed by (time, text), whose keys
    have the shape of the cases', the escalations' and the replies' lists."""
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    for n in range(2):
        r = await pipeline["fraud"].client.post(
            "/v1/watchlist",
            json={"entity_type": "seller", "entity_id": uid(f"S-{tag}"), "reason": f"cursor {n}"},
            headers=manager,
        )
        assert r.status_code in (200, 201), r.text
        r = await pipeline["notifications"].client.post(
            "/v1/suppressions",
            json={"address": f"{uid(tag).lower()}@example.com", "reason": "manual"},
            headers=manager,
        )
        assert r.status_code in (200, 201), r.text


async def _handed_out(
    harness: Harness, pipeline: dict[str, RunningService]
) -> dict[str, tuple[Operation, str]]:
    """The `next` of page one (one item) of every list that has a second page."""
    cursors: dict[str, tuple[Operation, str]] = {}
    for op in PAGED:
        url = _list_url(op, "limit=1")
        r = await _send(pipeline[op.service].client, "GET", url, headers=_key(harness, op))
        if r.status_code == 200 and r.json().get("next"):
            cursors[op.id] = (op, r.json()["next"])
    return cursors


async def test_a_cursor_is_refused_by_every_list_but_its_own(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    await _seed(harness, pipeline, "CUR")
    cursors = await _handed_out(harness, pipeline)
    # The seeded lists at least, and the catalogues held in memory (partners, templates).
    assert {
        "fraud GET /v1/watchlist",
        "notifications GET /v1/suppressions",
        "intake GET /v1/admin/partners",
        "notifications GET /v1/templates",
    } <= set(cursors), sorted(cursors)
    accepted = []
    for source, (_, cursor) in cursors.items():
        for op in PAGED:
            if op.id == source:
                continue
            url = _list_url(op, f"cursor={quote(cursor)}")
            r = await _send(pipeline[op.service].client, "GET", url, headers=_key(harness, op))
            doc = check(r, f"{source}'s cursor on {op.id}", named="query.cursor")
            if r.status_code != 422:
                accepted.append((source, op.id, r.status_code))
                continue
            assert doc is not None
            assert [e["field"] for e in doc["errors"]] == ["query.cursor"], (source, op.id, doc)
    assert not accepted, f"{len(accepted)} read as a position:\n" + "\n".join(map(str, accepted))
    # Its own list still pages with it.
    for source, (op, cursor) in cursors.items():
        url = _list_url(op, f"limit=1&cursor={quote(cursor)}")
        r = await _send(pipeline[op.service].client, "GET", url, headers=_key(harness, op))
        assert r.status_code == 200, (source, r.status_code, r.text[:300])


async def test_a_cursor_is_refused_with_other_filters_and_kept_with_another_limit(
    harness: Harness, pipeline: dict[str, RunningService]
) -> None:
    await _seed(harness, pipeline, "CURF")
    fraud = pipeline["fraud"].client
    manager = harness.key("DISPUTEDESK_KEY_OPS_MANAGER")
    first = await fraud.get("/v1/watchlist?entity_type=seller&limit=1", headers=manager)
    assert first.status_code == 200, first.text
    cursor = first.json()["next"]
    assert cursor
    # The Link header is the next page with the same filters: followed as given, it pages.
    link = first.headers["link"]
    assert link.startswith("</v1/watchlist?") and "entity_type=seller" in link, link
    followed = await fraud.get(link[1 : link.index(">")], headers=manager)
    assert followed.status_code == 200, followed.text
    # Another limit is the same list asked for a larger page.
    larger = await fraud.get(
        f"/v1/watchlist?entity_type=seller&limit=5&cursor={cursor}", headers=manager
    )
    assert larger.status_code == 200, larger.text
    assert first.json()["items"][0] not in larger.json()["items"]
    for other in (
        "entity_type=buyer",
        "",  # the filter dropped
        "entity_type=seller&active=false",  # a filter added
        "entity_type=seller&entity_type=seller",  # no list asks a filter twice
    ):
        r = await fraud.get(f"/v1/watchlist?{other}&limit=1&cursor={cursor}", headers=manager)
        doc = check(r, f"cursor with {other!r}", named="query")
        assert r.status_code == 422, (other, r.status_code, r.text[:300])
        assert doc is not None
        assert len(doc["errors"]) == 1, doc
        if other.count("entity_type") < 2:
            assert doc["errors"][0]["field"] == "query.cursor", (other, doc)
            assert "other filters" in doc["errors"][0]["message"], (other, doc)
