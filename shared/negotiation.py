"""Which media types a route answers, and whether a request's `Accept` takes any of them.

Every route answers one media type (JSON), or a few it chooses between itself (a statement's
CSV or XLSX by `?format=`, a printable report's HTML). A client whose `Accept` names none of
them (`application/xml`, `image/png`, `application/json;q=0`) was answered in the route's type
anyway, with 200, so a client that cannot read JSON took an answer it cannot read for one it
asked for. RFC 9110 §12.5.1 lets a server disregard `Accept`, or answer 406 (§15.5.7); we answer
406 problem+json naming the header and the types the route does answer (`acceptable`), before
the route runs, so a refused write changes nothing.

What still answers: no `Accept` at all, an empty one, `*/*`, `application/*`, the route's own
type, and `application/problem+json` named on a JSON route (a client that reads our problem
documents reads our JSON). q-values are read as RFC 9110 §12.4.2 says: for each type the route
answers, the most specific range that matches it gives its weight, and weight 0 refuses it.
An element that is not a media range (no `/`) is ignored, as a recipient may ignore what it
cannot parse; `*` alone, which some clients send, is `*/*`. A route that declares no type
(an attachment, served in the type it was stored with) is not negotiated.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute

from shared.problems import PROBLEM_JSON, Problem

JSON = "application/json"

Range = tuple[str, str, float, int]  # type, subtype, weight, specificity


def accept_of(request: Request) -> str | None:
    """The request's `Accept`, its field lines joined as one list (RFC 9110 §5.3); None when
    none was sent."""
    lines = request.headers.getlist("accept")
    return ", ".join(lines) if lines else None


def offered_types(route: APIRoute) -> tuple[str, ...]:
    """The media types the route answers a success in: its response class's, and every type its
    2xx answers document (a route that returns a `Response` of its own, such as a CSV, says
    so in `responses`)."""
    found: list[str] = []
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    media = getattr(response_class, "media_type", None)
    if isinstance(media, str):
        found.append(media)
    for status, answer in (route.responses or {}).items():
        if str(status).startswith("2") and isinstance(answer, dict):
            found.extend(str(media_type) for media_type in answer.get("content") or {})
    return tuple(dict.fromkeys(t.split(";")[0].strip().lower() for t in found if t))


def _weight(parameters: Iterable[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 1.0  # an unreadable weight: the range as if unweighted
            return min(max(weight, 0.0), 1.0)
    return 1.0


def _ranges(accept: str) -> list[Range]:
    ranges: list[Range] = []
    for element in accept.split(","):
        media, *parameters = element.split(";")
        media = media.strip().lower()
        if media == "*":
            media = "*/*"
        kind, slash, sub = media.partition("/")
        if not slash or not kind or not sub:
            continue
        specificity = 0 if kind == "*" else 1 if sub == "*" else 2
        ranges.append((kind, sub, _weight(parameters), specificity))
    return ranges


def _weight_of(media_type: str, ranges: list[Range]) -> float | None:
    kind, _, sub = media_type.partition("/")
    best: Range | None = None
    for r in ranges:
        matches = (r[0] == "*" or r[0] == kind) and (r[1] == "*" or r[1] == sub)
        if matches and (best is None or r[3] > best[3]):
            best = r
    return None if best is None else best[2]


def acceptable(accept: str | None, offered: tuple[str, ...]) -> bool:
    """Whether `Accept` takes one of `offered` (with a weight above 0)."""
    if accept is None or not offered:
        return True
    ranges = _ranges(accept)
    if not ranges:
        return True  # nothing readable asked: as if no Accept was sent
    if any((_weight_of(t, ranges) or 0.0) > 0 for t in offered):
        return True
    # A JSON route's answers are JSON documents, its refusals problem documents: a client that
    # names problem+json reads both.
    return JSON in offered and any(
        (r[0], r[1]) == ("application", "problem+json") and r[2] > 0 for r in ranges
    )


def preferred(accept: str | None, offered: tuple[str, ...]) -> str | None:
    """The type of `offered` that `Accept` weighs highest (the first of `offered` on a tie, and
    when nothing readable is asked); None when it takes none of them."""
    ranges = _ranges(accept) if accept is not None else []
    if not ranges:
        return offered[0] if offered else None
    best, best_weight = None, 0.0
    for media_type in offered:
        weight = _weight_of(media_type, ranges) or 0.0
        if weight > best_weight:
            best, best_weight = media_type, weight
    return best


def refuse_unacceptable(accept: str | None, offered: tuple[str, ...]) -> None:
    """406 problem+json naming `Accept` and the types the route answers, unless it takes one."""
    if acceptable(accept, offered):
        return
    listed = ", ".join(offered)
    raise Problem(
        406,
        "Not acceptable",
        f"This route answers {listed}; the Accept header takes none of them.",
        errors=[{"field": "header.Accept", "message": f"accepts none of: {listed}"}],
        acceptable=list(offered),
    )


__all__ = [
    "JSON",
    "PROBLEM_JSON",
    "accept_of",
    "acceptable",
    "offered_types",
    "preferred",
    "refuse_unacceptable",
]
