"""Every relative link in the project's Markdown resolves: the file exists and, where the link
names a section, the section's heading is there. The design documents link into their journals
by section, so a heading renamed or moved would otherwise break a link silently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [
        *ROOT.glob("*.md"),
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("bench/*.md"),
        *ROOT.glob("deploy/**/*.md"),
        *ROOT.glob("services/*/*.md"),
    ]
)

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, inline code and link markup reduced to
    their text, punctuation other than hyphens and underscores dropped, spaces made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(document: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    fenced = False
    for line in document.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match is None:
            continue
        base = anchor(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links_of(document: Path) -> list[str]:
    links: list[str] = []
    fenced = False
    for line in document.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            # Inline code may show link syntax as an example; it is not a link.
            links.extend(LINK.findall(re.sub(r"`[^`]*`", "", line)))
    return links


def test_the_anchor_rule_matches_githubs() -> None:
    assert anchor("Claim abuse: where the days go (since 2026-12-04)") == (
        "claim-abuse-where-the-days-go-since-2026-12-04"
    )
    assert anchor("`fraud-eval`") == "fraud-eval"
    assert anchor("Wrong/used returns (buyer)") == "wrongused-returns-buyer"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken: list[str] = []
    for target in links_of(document):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, section = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif section and linked.suffix == ".md" and section not in anchors_of(linked):
            broken.append(f"{target}: no such section")
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)
