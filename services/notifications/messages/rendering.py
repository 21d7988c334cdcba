"""Jinja2 rendering of message templates (plain text and HTML, HTML autoescaped), and the
seller-facing formats: rupees in the Indian grouping, times in India time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.settings import INDIA as INDIA
from shared.money import rupees

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def india_time(value: datetime) -> str:
    """Seller-facing times are India time, e.g. `28 Nov 2026, 3:05 PM IST`."""
    local = value.astimezone(INDIA)
    hour = local.strftime("%I").lstrip("0")
    return f"{local.day} {local.strftime('%b %Y')}, {hour}:{local.strftime('%M %p')} IST"


def utc_time(value: datetime) -> str:
    """The same moment in UTC, `28 Nov 2026, 09:35 UTC`: said beside India time where a seller
    may need to match it against a record kept in UTC (a deadline that has passed)."""
    at = value.astimezone(UTC)
    return f"{at.day} {at.strftime('%b %Y, %H:%M')} UTC"


def seller_time(value: datetime) -> str:
    """A time as every seller email states it: India time, with the same moment in UTC beside it
    (`28 Nov 2026, 3:05 PM IST (28 Nov 2026, 09:35 UTC)`), so it can be matched against a
    record kept in UTC, such as the portal's or a partner's."""
    return f"{india_time(value)} ({utc_time(value)})"


def india_date(value: datetime) -> str:
    """`28 Nov 2026` in India time."""
    local = value.astimezone(INDIA)
    return f"{local.day} {local.strftime('%b %Y')}"


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["inr"] = rupees
_env.filters["india_time"] = seller_time
_env.filters["india_date"] = india_date
_env.filters["utc_time"] = utc_time

ENGLISH, HINDI = "en", "hi"
LANGUAGES = (ENGLISH, HINDI)


def _install_hindi() -> None:
    # Imported here: wording_hi reads INDIA from this module.
    from services.notifications.messages import wording_hi

    _env.filters["hi_time"] = wording_hi.time_hi
    _env.filters["hi_date"] = wording_hi.date_hi
    _env.filters["hi_claim"] = wording_hi.claim
    _env.filters["hi_state"] = wording_hi.state
    _env.filters["hi_checklist"] = wording_hi.checklist_item
    _env.globals["hi"] = wording_hi


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def has_translation(template: str, language: str) -> bool:
    names = _env.list_templates()
    return all(f"{template}.{language}.{part}.j2" in names for part in ("subject", "txt"))


def render(template: str, context: dict[str, Any], language: str = ENGLISH) -> Rendered:
    """The message in the seller's language. A translation is a subject and a text template
    (`name.hi.txt.j2`); its HTML part is that text in the shared layout, so the two parts can
    never say different things."""
    if language != ENGLISH and has_translation(template, language):
        text = _env.get_template(f"{template}.{language}.txt.j2").render(context)
        return Rendered(
            subject=" ".join(
                _env.get_template(f"{template}.{language}.subject.j2").render(context).split()
            ),
            text=text,
            html=_env.get_template(f"_text_as_html.{language}.j2").render(
                paragraphs=[p.strip() for p in text.split("\n\n") if p.strip()]
            ),
        )
    return Rendered(
        subject=" ".join(_env.get_template(f"{template}.subject.j2").render(context).split()),
        text=_env.get_template(f"{template}.txt.j2").render(context),
        html=_env.get_template(f"{template}.html.j2").render(context),
    )


_install_hindi()
