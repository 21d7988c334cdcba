"""The one paging convention of every list endpoint (docs/api.md, "Paging").

A request gives `limit` (how many items at most) and, for every page after the first, the
`cursor` the previous page returned. A page answers `{"items": [...], "next": "<cursor>"}`,
`next` null on the last page, and the same cursor as a `Link: <url>; rel="next"` header.

Cursors are keyset positions (the sort key of the page's last item), opaque to the caller:
pages stay consistent while rows are added, and reading page 1,000 costs what page 1 does.

A cursor also says which list handed it out and with which filters (`listing`, set by
`shared.service_route.ServiceRoute` for the request's duration): a position means nothing on
another list (another list's `(time, id)` read as this one's skipped or repeated rows), nor on
the same list asked for other rows, so either is refused, naming `query.cursor`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Query, Request, Response
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from shared.problems import TYPE_BASE, Problem
from shared.validation import MAX_BIGINT

T = TypeVar("T")

# A cursor holds its page's last key, text keys included: a partner's status of 100 characters
# outside the Basic Multilingual Plane is 1,200 bytes of JSON escapes, 1,600 of base64. Room
# for that and more, still well within a URL's limit (8 KiB).
CURSOR_MAX_LENGTH = 4000
# Every cursor this API hands out is unpadded URL-safe base64 (`encode_cursor`). Anything else,
# the empty `?cursor=` included, is no cursor: read as "no cursor" it served the first page to a
# client whose paging had lost its place, and base64's decoder skips characters outside its
# alphabet, so a cursor padded or spliced with them read as the one it was made from.
_CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+")
NOT_A_CURSOR = "not a cursor this API returned"
ANOTHER_LIST = "a cursor of another list"
OTHER_FILTERS = "a cursor of this list asked with other filters"
# The list and the filters a cursor belongs to, as two short digests ("list.filters"). Not a
# secret: a client that forges one gains a position in a list it may read anyway (every filter
# and every team's scope is applied to the page whatever the cursor says). It catches mistakes.
_OUTSIDE_A_LIST = ("", "")
_listing: ContextVar[tuple[str, str]] = ContextVar("paging_listing", default=_OUTSIDE_A_LIST)


def _digest(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.blake2b(raw, digest_size=6).hexdigest()


@contextmanager
def listing(request: Request, filters: frozenset[str]) -> Iterator[None]:
    """Cursors made and read while this request is answered belong to its list (method and
    path, ids in the path included) and to its filters (the values of the query parameters
    named in `filters`, as sent). `limit` is no filter: a client may ask the next page larger."""
    asked = sorted((k, v) for k, v in request.query_params.multi_items() if k in filters)
    token = _listing.set(
        (_digest([request.method, request.scope["path"]]), _digest(asked)),
    )
    try:
        yield
    finally:
        _listing.reset(token)


def _handed_out(value: str | None) -> str | None:
    if value is not None and not _CURSOR_TEXT.fullmatch(value):
        raise PydanticCustomError(
            "cursor",
            NOT_A_CURSOR + "; pass a page's `next` as it came, or leave `cursor` out for the first "
            "page",
        )
    return value


Cursor = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX_LENGTH,
        description="Where the page starts: the `next` of the previous page (opaque). Leave "
        "it out for the first page; an empty `cursor=` is no cursor and is refused.",
        json_schema_extra={"minLength": 1, "pattern": "^[A-Za-z0-9_-]+$"},
    ),
    AfterValidator(_handed_out),
]


def Limit(default: int, maximum: int) -> Any:  # noqa: N802 - reads as a type in signatures
    """The `limit` query parameter: at most this many items on a page."""
    return Query(default, ge=1, le=maximum, description="At most this many items on the page.")


class PageOf(BaseModel):
    """Fields every page has besides its `items` (each page model declares its own)."""

    next: str | None = Field(
        default=None,
        description="Cursor of the next page (pass it as `cursor`); null on the last page. "
        'Also sent as a `Link: <…>; rel="next"` header.',
    )


KeyPart = datetime | str | int | UUID


def encode_cursor(key: Sequence[KeyPart]) -> str:
    of_list, of_filters = _listing.get()
    parts = [f"{of_list}.{of_filters}"]
    parts += [v.isoformat() if isinstance(v, datetime) else str(v) for v in key]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> tuple[Any, ...]:
    """The key a cursor holds, typed as `kinds`; 422 for anything this API did not hand out."""
    try:
        if not _CURSOR_TEXT.fullmatch(cursor):
            raise ValueError("not unpadded URL-safe base64")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
        if not isinstance(parts, list) or len(parts) != len(kinds) + 1:
            raise ValueError("wrong shape")
        _refuse_another_listing(parts.pop(0))
        out: list[Any] = []
        for kind, part in zip(kinds, parts, strict=True):
            if not isinstance(part, str):
                raise ValueError("wrong shape")
            # int(), UUID() and fromisoformat() read any script's digits as ASCII ones; a text
            # key is any text a row may hold (a partner's status in Devanagari).
            if kind is not str and not part.isascii():
                raise ValueError("not a value this API wrote")
            if kind is int and not -MAX_BIGINT <= int(part) <= MAX_BIGINT:
                raise ValueError("past the range of a stored id")
            if kind is datetime:
                when = datetime.fromisoformat(part)
                if when.tzinfo is None:
                    raise ValueError("naive time")
                out.append(when)
            else:
                out.append(kind(part))
        return tuple(out)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        # The parser's own words (a byte offset, a codec's name) say nothing a caller can act
        # on: a cursor is opaque, and the fix is always the `next` this API handed out.
        raise Problem(
            422,
            "Validation failed",
            "Invalid field(s): query.cursor (not a cursor this API returned; pass a page's "
            "`next` as it came, or no cursor for the first page).",
            type_=f"{TYPE_BASE}validation-failed",
            errors=[{"field": "query.cursor", "message": NOT_A_CURSOR}],
        ) from exc


def _refuse_another_listing(tag: Any) -> None:
    if not isinstance(tag, str):
        raise ValueError("wrong shape")
    of_list, _, of_filters = tag.partition(".")
    here_list, here_filters = _listing.get()
    if of_list != here_list:
        raise _cursor_refused(
            ANOTHER_LIST, "it was handed out by another list; pass this list's own `next`"
        )
    if of_filters != here_filters:
        raise _cursor_refused(
            OTHER_FILTERS,
            "its page came from other filters; send the same filters with it, or start again "
            "without a cursor",
        )


def _cursor_refused(message: str, advice: str) -> Problem:
    return Problem(
        422,
        "Validation failed",
        f"Invalid field(s): query.cursor ({message}: {advice}).",
        type_=f"{TYPE_BASE}validation-failed",
        errors=[{"field": "query.cursor", "message": message}],
    )


def after(order: Sequence[tuple[Any, bool]], key: Sequence[Any]) -> ColumnElement[bool]:
    """The rows that sort after `key` under `order` ((column, descending) pairs, the last one
    unique): (a, b) after (x, y) is a past x, or a equal to x and b past y."""
    clauses = []
    for i, (column, descending) in enumerate(order):
        equal = [c == v for (c, _), v in zip(order[:i], key[:i], strict=True)]
        past = column < key[i] if descending else column > key[i]
        clauses.append(and_(*equal, past))
    return or_(*clauses)


def page(
    rows: Sequence[T], limit: int, key: Callable[[T], Sequence[KeyPart]]
) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into the page and the cursor of the next one."""
    items = list(rows[:limit])
    return items, encode_cursor(key(items[-1])) if len(rows) > limit and items else None


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """Announce the next page as an RFC 8288 `Link` header (nothing on the last page).

    A relative reference: an absolute one would be built from the request's Host header, which
    the client chooses, so a forged Host would come back as the address of the next page."""
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'


def order_by(order: Sequence[tuple[Any, bool]]) -> list[Any]:
    """The ORDER BY of `order` ((column, descending) pairs), the same one `after` pages along."""
    return [column.desc() if descending else column.asc() for column, descending in order]


def page_of_list(
    items: Sequence[T],
    *,
    limit: int,
    cursor: str | None,
    key: Callable[[T], tuple[str, ...]],
) -> tuple[list[T], str | None]:
    """The same convention over a short list held in memory (a catalogue of templates, the
    partner registry): sorted by `key` (strings), the page after the cursor's key."""
    ordered = sorted(items, key=key)
    if cursor is not None:
        width = len(key(ordered[0])) if ordered else 1
        start = decode_cursor(cursor, (str,) * width)
        ordered = [item for item in ordered if key(item) > start]
    return page(ordered, limit, key)
