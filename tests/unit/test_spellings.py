"""One thing in one spelling (shared/validation.py, shared/lookups.py, the partner directory):
instants and days as JSON text of a calendar day, addresses composed and without compatibility
forms, typed codes read NFKC, a pasted byte-order mark trimmed off free text, a partner named in
other letter case found in the registry."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from services.intake.partners.directory import PartnerDirectory
from services.intake.partners.parsing import PartnerCode, PartnerRef
from services.intake.partners.secrets import PartnerSecrets
from shared.keys import format_entry, parse_key_list
from shared.lookups import EntityId
from shared.secretbox import SecretBox
from shared.validation import EmailAddress, Instant, OptionalText, RequestModel, Text


class Dated(RequestModel):
    at: datetime
    on: date
    instant: Instant | None = None


GOOD = {"at": "2026-12-01T10:00:00Z", "on": "2026-12-01"}


@pytest.mark.parametrize(
    "text", ["1795690000", "1795690000000", "1795690000.5", "0", "-1", " 2026-12-01T10:00:00Z"]
)
def test_an_instant_in_digits_is_no_instant(text: str) -> None:
    for field in ("at", "instant"):
        with pytest.raises(ValidationError) as refused:
            Dated.model_validate({**GOOD, field: text})
        assert [e["loc"] for e in refused.value.errors()] == [(field,)]
        assert "RFC 3339" in refused.value.errors()[0]["msg"]


@pytest.mark.parametrize("text", ["1795651200", "2026-12-01T00:00:00+05:30", "2026-12-01T00:00Z"])
def test_a_day_is_yyyy_mm_dd_alone(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Dated.model_validate({**GOOD, "on": text})
    assert [e["loc"] for e in refused.value.errors()] == [("on",)]


@pytest.mark.parametrize("offset", ["+14:01", "-14:30", "-23:59", "+2300"])
def test_an_offset_no_place_keeps_is_refused(offset: str) -> None:
    for field in ("at", "instant"):
        with pytest.raises(ValidationError) as refused:
            Dated.model_validate({**GOOD, field: "2026-12-01T10:00:00" + offset})
        assert "±14:00" in refused.value.errors()[0]["msg"]


def test_an_event_published_before_the_offset_bound_still_reads() -> None:
    read = TypeAdapter(Instant).validate_json('"2026-12-01T10:00:00-23:59"')
    assert read == datetime(2026, 12, 2, 9, 59, tzinfo=UTC)


def test_rfc_3339_instants_and_days_still_read() -> None:
    read = Dated.model_validate(
        {"at": "2026-12-01t10:00:00z", "on": "2026-12-01", "instant": "2026-12-02T00:00:00+14:00"}
    )
    assert read.at == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert read.on == date(2026, 12, 1)
    assert read.instant == datetime(2026, 12, 1, 10, tzinfo=UTC)


class Words(RequestModel):
    text: Text
    optional: OptionalText = ""


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("\ufeffCracked screen", "Cracked screen"),
        ("\ufeff  Cracked screen \ufeff\n", "Cracked screen"),
        (" \ufeff\ufeffCracked", "Cracked"),
    ],
)
def test_a_byte_order_mark_at_the_ends_of_free_text_is_trimmed(sent: str, kept: str) -> None:
    words = Words.model_validate({"text": sent, "optional": sent})
    assert (words.text, words.optional) == (kept, kept)


@pytest.mark.parametrize("sent", ["Cracked\ufeff screen", "\u2060Cracked", "Cracked\u2060"])
def test_inside_text_or_another_invisible_at_its_ends_is_still_refused(sent: str) -> None:
    with pytest.raises(ValidationError):
        Words.model_validate({"text": sent})


ADDRESS: TypeAdapter[str] = TypeAdapter(EmailAddress)


def test_an_address_is_kept_composed() -> None:
    assert ADDRESS.validate_python("jose\u0301@example.com") == "jos\u00e9@example.com"
    assert ADDRESS.validate_python("सेलर@उदाहरण.भारत") == "सेलर@उदाहरण.भारत"


@pytest.mark.parametrize(
    "address",
    [
        "ｓｅｌｌｅｒ@example.com",
        "seller@ｅｘａｍｐｌｅ.com",
        "\ufb01nance@example.com",  # the ligature ﬁ
        "a\u00b2@example.com",  # a superscript two
    ],
)
def test_an_address_in_compatibility_forms_is_refused(address: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ADDRESS.validate_python(address)
    assert "compatibility form" in str(refused.value)


@pytest.mark.parametrize(
    ("adapter", "sent", "kept"),
    [
        (TypeAdapter(PartnerCode), " ＨＵＢ－１ ", "HUB-1"),
        (TypeAdapter(PartnerCode), "DEL-E\u0301KH", "DEL-\u00c9KH"),
        (TypeAdapter(PartnerRef), "ＲＥＴ－１", "RET-1"),
        (TypeAdapter(EntityId), "ＳＥＬ－１", "SEL-1"),
        (TypeAdapter(EntityId), "HUB-E\u0301", "HUB-\u00c9"),
    ],
)
def test_a_typed_code_is_read_in_one_spelling(adapter: Any, sent: str, kept: str) -> None:
    assert adapter.validate_python(sent) == kept
    assert unicodedata.is_normalized("NFKC", kept)


SECRETS = PartnerSecrets(SecretBox(parse_key_list(format_entry("k1", bytes(32)), name="test")))


async def test_the_directory_names_the_partner_spelled_otherwise_reading_the_ids_once() -> None:
    directory = PartnerDirectory(SECRETS, ttl_s=60.0)
    reads = 0

    async def read_ids() -> list[str]:
        nonlocal reads
        reads += 1
        return ["swiftship", "rapidroute", "FastLane"]

    assert await directory.spelled_otherwise("swiftship", read_ids) is None
    assert await directory.spelled_otherwise("SwiftShip", read_ids) == "swiftship"
    assert await directory.spelled_otherwise("fastlane", read_ids) == "FastLane"
    assert await directory.spelled_otherwise("bluedart", read_ids) is None
    assert reads == 1
    directory.invalidate()  # a change to the registry
    assert await directory.spelled_otherwise("RAPIDROUTE", read_ids) == "rapidroute"
    assert reads == 2
