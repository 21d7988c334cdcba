"""Jinja2 rendering of message templates (plain text and HTML, HTML autoescaped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
INDIA = ZoneInfo("Asia/Kolkata")


def india_time(value: datetime) -> str:
    """Seller-facing times are India time, e.g. `28 Nov 2026, 3:05 PM IST`."""
    local = value.astimezone(INDIA)
    return local.strftime("%d %b %Y, %I:%M %p IST").lstrip("0").replace(", 0", ", ")


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, context: dict[str, Any]) -> Rendered:
    return Rendered(
        subject=_env.get_template(f"{template}.subject.j2").render(context).strip(),
        text=_env.get_template(f"{template}.txt.j2").render(context),
        html=_env.get_template(f"{template}.html.j2").render(context),
    )
