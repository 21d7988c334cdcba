"""Invisible and control characters, by field kind (shared/validation.py) and in the deciding
headers (shared/request_path.py): free text keeps the zero-width space and the joiners that
scripts need and refuses the rest inside it; identifiers refuse every invisible character; a
deciding header holds visible ASCII only."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import httpx
import pytest
from pydantic import AfterValidator, TypeAdapter, ValidationError
from starlette.types import Receive, Scope, Send

from services.intake.admin.schemas import StatusMappingIn
from services.intake.partners.parsing import PartnerCode, PartnerEventId, Status
from shared.problems import problem_bytes
from shared.request_path import SINGLETON_HEADERS, ServiceRequests
from shared.validation import (
    IDENTIFIER_INVISIBLE,
    EmailAddress,
    OptionalText,
    RequestModel,
    Text,
    no_invisible_in_identifier,
    url_errors,
)
from tests.support.routes import service_apps


class _Note(RequestModel):
    text: Text
    note: OptionalText = ""
    tags: list[str] = []


KEPT_IN_TEXT = {
    "Thai word breaks (U+200B)": "กล่อง\u200bแตก",
    "a Malayalam chillu (U+200D)": "ന്\u200d",
    "a Persian non-joiner (U+200C)": "می\u200cخواهم",
    "an emoji sequence (U+200D)": "👩\u200d💻",
}
REFUSED_IN_TEXT = {
    "U+2060": "em\u2060pty box",
    "U+2062": "a\u2062b",
    "U+FEFF": "Cracked\ufeffscreen",
    "U+0085": "line\x85break",
    "U+009B": "csi\x9b31m",
}


@pytest.mark.parametrize("text", KEPT_IN_TEXT.values(), ids=list(KEPT_IN_TEXT))
def test_free_text_keeps_what_scripts_are_written_with(text: str) -> None:
    assert _Note(text=text, note=text, tags=[text]).model_dump() == {
        "text": text,
        "note": text,
        "tags": [text],
    }


@pytest.mark.parametrize("code", REFUSED_IN_TEXT, ids=list(REFUSED_IN_TEXT))
@pytest.mark.parametrize("field", ["text", "note", "tags"])
def test_free_text_refuses_what_hides_its_words_naming_the_field(code: str, field: str) -> None:
    value = REFUSED_IN_TEXT[code]
    sent = {"text": "ok", field: [value] if field == "tags" else value}
    with pytest.raises(ValidationError) as caught:
        _Note.model_validate(sent)
    (error,) = caught.value.errors()
    assert error["loc"][0] == field and code in error["msg"], error


@pytest.mark.parametrize("blank", ["\ufeff", " \u2060 ", "\u200b\ufeff"])
def test_text_of_invisible_characters_alone_is_blank_or_none(blank: str) -> None:
    with pytest.raises(ValidationError, match="whitespace"):
        TypeAdapter(Text).validate_python(blank)
    assert TypeAdapter(OptionalText).validate_python(blank) == ""


IDENTIFIER_REFUSED = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\xad",
    "\x85",
    "\U000e0041",
]


@pytest.mark.parametrize(
    "char", IDENTIFIER_REFUSED, ids=[f"U+{ord(c):04X}" for c in IDENTIFIER_REFUSED]
)
def test_an_identifier_refuses_every_invisible_character(char: str) -> None:
    for kind in (PartnerEventId, PartnerCode, Status):
        with pytest.raises(ValidationError, match=f"U\\+{ord(char):04X}"):
            TypeAdapter(kind).validate_python(f"HUB{char}1")
    with pytest.raises(ValidationError):
        TypeAdapter(EmailAddress).validate_python(f"seller{char}@example.com")
    with pytest.raises(ValidationError, match=f"U\\+{ord(char):04X}"):
        StatusMappingIn.model_validate({"status": f"DELIVERED{char}", "event_type": "PICKED_UP"})
    with pytest.raises(ValueError):
        no_invisible_in_identifier(f"E{char}1")


def test_an_identifier_of_any_script_is_kept() -> None:
    for value in ("HUB-1", "हब-१", "مركز", "ハブ"):
        assert TypeAdapter(PartnerCode).validate_python(value) == value
    email: TypeAdapter[str] = TypeAdapter(Annotated[EmailAddress, AfterValidator(str)])
    assert email.validate_python("विक्रेता@example.com") == "विक्रेता@example.com"


@pytest.mark.parametrize("raw", [b"q=a%C2%85b", b"q=a%E2%81%A0b", b"q=%EF%BB%BFx"])
def test_a_query_value_with_a_c1_control_or_invisible_character_is_refused(raw: bytes) -> None:
    errors = url_errors({"type": "http", "path": "/v1/x", "query_string": raw})
    assert [e["field"] for e in errors] == ["query.q"], errors


# --- the deciding headers ----------------------------------------------------------------------


async def _reached(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


BAD_BYTES = {
    "U+202E": "\u202e".encode(),
    "U+200B": "\u200b".encode(),
    "U+0663": "\u0663".encode(),  # an Arabic-Indic digit, in a timestamp
    "control character U+0001": b"\x01",
    "byte 0xFF": b"\xff",
}


@pytest.mark.parametrize("header", sorted(SINGLETON_HEADERS.values()))
@pytest.mark.parametrize("what", BAD_BYTES)
async def test_a_deciding_header_holds_visible_ascii_only(header: str, what: str) -> None:
    transport = httpx.ASGITransport(app=ServiceRequests(_reached, service="intake"))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.post(
            "/v1/anything", headers=[(header.encode(), b"a1" + BAD_BYTES[what] + b"b2")]
        )
    assert r.status_code == 422, (header, what, r.text)
    doc = r.json()
    assert r.content == problem_bytes(doc)
    assert doc["errors"][0]["field"] == f"header.{header}", doc
    assert doc["errors"][0]["message"].startswith(what), doc


async def test_visible_ascii_spaces_and_tabs_pass_and_other_headers_are_not_read() -> None:
    transport = httpx.ASGITransport(app=ServiceRequests(_reached, service="intake"))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.post(
            "/v1/anything",
            headers=[
                (b"authorization", b"Bearer dd_test_x"),
                (b"content-type", b'application/json; charset="utf-8"\t'),
                (b"user-agent", "ブラウザ".encode()),
                (b"traceparent", "00-\u202e".encode()),
            ],
        )
    assert r.status_code == 204, r.text


def test_the_identifier_refusal_holds_every_format_character_of_this_unicode() -> None:
    every = "".join(chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf")
    assert IDENTIFIER_INVISIBLE == every


@pytest.mark.parametrize("char", ["%E2%80%8B", "%C2%AD", "%E2%80%8D", "%F3%A0%80%81"])
async def test_a_path_id_with_an_invisible_character_is_refused_naming_it(char: str) -> None:
    transport = httpx.ASGITransport(app=service_apps()["reconciliation"])  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        r = await client.get(f"/v1/cases/C-1{char}")
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["path.case_id"], r.text
