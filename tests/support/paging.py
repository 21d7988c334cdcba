"""Reading the paging convention's `Link` header (docs/api.md, "Paging")."""

from __future__ import annotations

import re

import httpx

_NEXT = re.compile(r'^<([^>]+)>; rel="next"$')


def next_link(response: httpx.Response) -> dict[str, str]:
    """The query parameters of the `Link: <…>; rel="next"` header (fails when there is none)."""
    match = _NEXT.match(response.headers.get("link", ""))
    assert match, f"no rel=next Link header: {response.headers.get('link')!r}"
    url = httpx.URL(match.group(1))
    assert url.path == response.request.url.path
    return dict(url.params)


async def all_pages(
    client: httpx.AsyncClient, path: str, *, params: dict[str, str | int], headers: dict[str, str]
) -> list[dict[str, object]]:
    """Every item of a list endpoint, page by page, checking `next` against `Link` each time."""
    items: list[dict[str, object]] = []
    query: dict[str, str | int] = dict(params)
    for _ in range(1000):
        r = await client.get(path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) >= {"items", "next"}, body
        items += body["items"]
        if body["next"] is None:
            assert "link" not in r.headers
            return items
        assert next_link(r) == {**{k: str(v) for k, v in params.items()}, "cursor": body["next"]}
        query = {**params, "cursor": body["next"]}
    raise AssertionError("more than 1000 pages")
