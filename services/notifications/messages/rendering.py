"""Jinja2 rendering of message templates (plain text and HTML, HTML autoescaped), and the
seller-facing formats: rupees in the Indian grouping, times in India time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.settings import INDIA as INDIA

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


def india_time(value: datetime) -> str:
    """Seller-facing times are India time, e.g. `28 Nov 2026, 3:05 PM IST`."""
    local = value.astimezone(INDIA)
    hour = local.strftime("%I").lstrip("0")
    return f"{local.day} {local.strftime('%b %Y')}, {hour}:{local.strftime('%M %p')} IST"


def india_date(value: datetime) -> str:
    """`28 Nov 2026` in India time."""
    local = value.astimezone(INDIA)
    return f"{local.day} {local.strftime('%b %Y')}"


def inr(paise: int) -> str:
    """Integer paise as rupees with Indian digit grouping: 12345600 → `₹1,23,456.00`."""
    sign = "-" if paise < 0 else ""
    rupees, rest = divmod(abs(paise), 100)
    digits = str(rupees)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join([*groups, tail])
    return f"{sign}₹{digits}.{rest:02d}"


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["inr"] = inr
_env.filters["india_time"] = india_time
_env.filters["india_date"] = india_date


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, context: dict[str, Any]) -> Rendered:
    return Rendered(
        subject=" ".join(_env.get_template(f"{template}.subject.j2").render(context).split()),
        text=_env.get_template(f"{template}.txt.j2").render(context),
        html=_env.get_template(f"{template}.html.j2").render(context),
    )
