"""What every service's HTTP input must satisfy beyond its types: printable strings, bounded
numbers, money as strict integer paise, plausible timezone-aware instants, no unknown fields.

Each rule exists because the alternative is a 500 or silently lost data: PostgreSQL refuses NUL
in text and JSONB, a lone surrogate cannot be encoded as UTF-8, NaN is not JSON, an integer past
BIGINT or a date past year 9999 overflows, and an unknown (misspelt) field would be dropped. A bad
value answers 422 problem+json naming its field instead.

Path and query strings are checked by `url_errors` before routing; bodies by the types here
(`RequestModel` checks every string, however deeply nested, so a model cannot forget one).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import types
import unicodedata
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import parse_qsl, quote

from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    HttpUrl,
    Strict,
    field_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError
from starlette.requests import Request
from starlette.types import Scope

from shared.problems import TYPE_BASE, Problem

# ₹100 billion: the bound of the event contracts, whose sums (a partner's monthly debits) may
# gather many amounts; well inside a BIGINT.
MAX_PAISE = 10**13
# ₹10 crore: above any single item, claim, refund, ruling or cap a caller names to this desk.
# A caller's amount above it is a typo or a probe (10^11 paise claimed on an item of 249,900),
# and refused naming the field before it reaches a case, a ledger or an email.
MAX_SENT_PAISE = 10**10
# No return, scan, payment or report of this desk predates 2000; nothing is scheduled past 2099.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# How far ahead of our clock a caller's clock may run when it reports something that happened.
CLOCK_SKEW = timedelta(days=1)
# The widest offsets any place keeps (UTC-12:00 to UTC+14:00), for request bodies and partner
# formats alike (services/intake/validation.py). RFC 3339 and Python take up to ±23:59 and
# PostgreSQL refuses past ±15:59; `+14:30` or `-23:59` is a client's bug, not a place.
LATEST_OFFSET = timedelta(hours=14)
OFFSET_REFUSAL = "the UTC offset must be within ±14:00"
# A queue filter or report window counted in hours: ten years is beyond any case's age.
MAX_HOURS = 24 * 366 * 10
# Ids that reach SQL as BIGINT parameters.
MAX_BIGINT = 2**63 - 1
# Free-form request data (policy changes) is a few levels deep; anything far deeper is an attack.
MAX_NESTING = 32
# No request object of this desk has more than a few dozen members (a policy's changes, a report's
# filters); one holding thousands is refused before validation, which would build one error per
# unknown member (80,000 members cost two seconds of CPU to list).
MAX_MEMBERS = 1000

# Format characters that make text display otherwise than it is stored ("Trojan Source"): the
# bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and marks
# (U+200E, U+200F, U+061C) reorder what follows them, so a note, a reason or a name shows the
# desk one thing while the record, the email and the report hold another; the deprecated
# shaping controls (U+206A–U+206F) and the interlinear annotation marks (U+FFF9–U+FFFB) hide or
# alter text in the same way. No script needs them to be written: Hindi, Tamil or Arabic words
# lay themselves out by their own letters' direction. The joiners (U+200C, U+200D) stay: Indic
# conjuncts and emoji sequences are built with them.
FORMAT_CHARACTERS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u206a-\u206f\ufff9-\ufffb"
# Invisible characters no text needs inside it, which hide what it says: the word joiner and
# the invisible mathematical operators (U+2060–U+2064), and U+FEFF, a byte-order mark that
# belongs before a file, never inside a string ("em\u2060pty box" reads "empty box" to the desk
# and to nobody's keyword search). The zero-width space (U+200B: Thai, Khmer, Lao and Burmese
# mark word breaks with it) and the joiners U+200C/U+200D (Indic conjuncts, emoji sequences)
# stay accepted in free text; identifiers refuse every invisible character (`plain_token`).
INVISIBLE_CHARACTERS = "\u2060-\u2064\ufeff"
# Free text may hold tabs and line breaks; ids, paths and query values hold no control character.
# The C1 controls (U+0080–U+009F) are controls too: no text is written with them, and a
# terminal or log viewer obeys some of them. Lone surrogates (JSON "\ud800") are refused too:
# they cannot be stored as UTF-8.
_TEXT_REFUSED = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{FORMAT_CHARACTERS}{INVISIBLE_CHARACTERS}]"
)
_TOKEN_REFUSED = re.compile(
    rf"[\x00-\x1f\x7f-\x9f\ud800-\udfff{FORMAT_CHARACTERS}{INVISIBLE_CHARACTERS}]"
)
_FORMAT = re.compile(f"[{FORMAT_CHARACTERS}]")
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARACTERS}]")


def format_refusal(char: str) -> str:
    """Why a bidirectional or invisible format character is refused, naming its code point."""
    name = unicodedata.name(char, "format character")
    return (
        f"format character U+{ord(char):04X} ({name}) is not accepted: it makes text display "
        "otherwise than it is stored"
    )


def invisible_refusal(char: str, *, where: str = "text") -> str:
    """Why an invisible character is refused, naming its code point."""
    name = unicodedata.name(char, "format character")
    return (
        f"invisible character U+{ord(char):04X} ({name}) is not accepted in {where}: "
        "it hides what the value says"
    )


def _refusal(match: re.Match[str]) -> str:
    if _FORMAT.match(match.group()):
        return format_refusal(match.group())
    if _INVISIBLE.match(match.group()):
        return invisible_refusal(match.group())
    return f"control or unencodable character U+{ord(match.group()):04X} is not accepted"


# Where Unicode keeps its format characters (category Cf); scanning these blocks rather than
# all of Unicode keeps the import quick. tests/unit/test_invisible_characters.py checks that the
# set equals a scan of every code point under the running Python's Unicode version.
_FORMAT_BLOCKS: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x2070),
    (0xFEFF, 0xFFFC),
    (0x110BD, 0x13440),
    (0x1BCA0, 0x1D17B),
    (0xE0000, 0xE0080),
)
IDENTIFIER_INVISIBLE = "".join(
    chr(c)
    for start, end in _FORMAT_BLOCKS
    for c in range(start, end)
    if unicodedata.category(chr(c)) == "Cf"
)


def _as_ranges(chars: str) -> str:
    """A regex class body of `chars` as ranges (`\u200b-\u200f`): a class of single
    characters, several astral, is searched several times slower."""
    out, codes = [], sorted(map(ord, chars))
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        out.append(f"\\U{start:08x}" + (f"-\\U{prev:08x}" if prev != start else ""))
        start = prev = code
    return "".join(out)


_IDENTIFIER_INVISIBLE = re.compile(f"[{_as_ranges(IDENTIFIER_INVISIBLE)}]")


def _invisible_in_identifier(value: str) -> str | None:
    """The first character an identifier may not hold beyond `_TOKEN_REFUSED`: any format
    character (Unicode category Cf: zero-width space, joiners, soft hyphen, tags…). An id,
    an e-mail address, a partner's status or hub with one looks the same as the id without
    it on every screen, yet is another value to every lookup, dedupe and peer statistic."""
    if value.isascii():  # every format character lies above U+00AC; a str knows it is ASCII
        return None
    found = _IDENTIFIER_INVISIBLE.search(value)
    return found.group() if found else None


def no_format_characters(value: str) -> str:
    """The string, unless it holds a format character above: then a ValueError naming it (a
    partner's strings; an emailed reply is cleaned of them instead, as it cannot be refused)."""
    if found := _FORMAT.search(value):
        raise ValueError(format_refusal(found.group()))
    return value


def no_invisible_in_text(value: str) -> str:
    """The string, unless it holds U+2060–U+2064 or U+FEFF: then a ValueError naming it. A
    partner's free text (a city, a QC reason) is held to the rule of the desk's own (`Text`):
    `em\u2060pty box` reads "empty box" to the desk and to a partner reading its dispute, and is
    no "empty box" to any search. The zero-width space and the joiners stay (Thai, Indic)."""
    if found := _INVISIBLE.search(value):
        raise ValueError(invisible_refusal(found.group()))
    return value


def plain_text(value: str) -> str:
    """Free text: printable, with tabs and line breaks allowed."""
    if found := _TEXT_REFUSED.search(value):
        raise ValueError(_refusal(found))
    return value


def plain_token(value: str) -> str:
    """An id, a name, a filter value: no control character at all, and no invisible one."""
    if found := _TOKEN_REFUSED.search(value):
        raise ValueError(_refusal(found))
    if (char := _invisible_in_identifier(value)) is not None:
        raise ValueError(invisible_refusal(char, where="an identifier"))
    return value


def no_invisible_in_identifier(value: str) -> str:
    """A partner's identifier (an event id, a hub, an agent, a status matched byte for byte):
    no control character (C0 or C1) and no format character, bidirectional or invisible."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise ValueError(f"control or unencodable character U+{ord(ch):04X} is not accepted")
    if found := _FORMAT.search(value):
        raise ValueError(format_refusal(found.group()))
    if (char := _invisible_in_identifier(value)) is not None:
        raise ValueError(invisible_refusal(char, where="an identifier"))
    return value


def one_spelling(value: str) -> str:
    """A code someone typed (a partner's hub, agent, AWB or event id, an entity looked up) in one
    spelling: Unicode NFKC. `HUB-É` with é composed (U+00E9) or as E + U+0301, and fullwidth
    `ＨＵＢ１` from an input method, are the hub `HUB1`-style code they show; kept as sent they
    were other hubs to fraud's peer statistics and other shipments to intake. Free text is not
    folded (NFKC would change what a person wrote: `½`, `ﬁ`, superscripts)."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def ascii_digits(value: str) -> bool:
    """Whether the string is a number written in ASCII digits. `str.isdigit` (and `\\d` in a
    pattern) takes the digits of any script ("٢٠٢٦", "２０２６") and superscripts ("²"), which
    `int` then reads as ASCII ones or refuses with a ValueError."""
    return value.isascii() and value.isdigit()


def _json_safe(value: Any) -> Any:
    """Walk free-form data (dicts, lists) for what PostgreSQL's text and JSONB refuse, and for
    nesting deeper than any document of ours (which would exhaust recursion further on)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            plain_text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("NaN and infinities are not numbers JSON can carry")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_BIGINT:
            raise ValueError("integer out of range")
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_NESTING:
                raise ValueError(f"nested deeper than {MAX_NESTING} levels")
            if isinstance(item, dict):
                for key in item:
                    if isinstance(key, str):
                        plain_text(key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
    return value


def _timestamp_text(value: Any) -> Any:
    # A bare number would be read as seconds (or milliseconds) since 1970: `0` or `1e9` is far
    # more likely a client bug than a moment, so instants travel as RFC 3339 text only; so does
    # the same number in quotes ("1795690000"), which pydantic reads the same way.
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and not _CALENDAR_DAY.match(value)
    ):
        raise ValueError("send an RFC 3339 timestamp with its offset, e.g. 2026-11-24T10:00:00Z")
    return value


def plausible_instant(value: datetime) -> datetime:
    # The offset is bounded where a caller writes an instant (`_instant_text`, every request
    # body), not here: an event published before that bound, holding `-23:59`, still reads.
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


def offset_a_place_keeps(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > LATEST_OFFSET:
        raise ValueError(OFFSET_REFUSAL)
    return value


def not_in_future(value: datetime) -> datetime:
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("a fact reported as past may not lie in the future")
    return value


def plausible_day(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


# Characters that show nothing though Python's `str.isspace` says they are not space: the
# Hangul fillers and the blank Braille pattern (format characters, category Cf, such as the
# zero-width space U+200B and the byte-order mark, are found by their category).
_BLANK_GLYPHS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def _shows_something(text: str) -> bool:
    return any(
        not ch.isspace() and ch not in _BLANK_GLYPHS and unicodedata.category(ch) != "Cf"
        for ch in text
    )


# Whitespace and byte-order marks at either end of free text. A byte-order mark belongs before
# a file: text pasted from the start of one (Notepad writes it) carries it at its start, where it
# shows nothing and says nothing, like the spaces around it. Inside text it is still refused.
_TEXT_EDGES = re.compile(r"^[\s\ufeff]+|[\s\ufeff]+$")


def _trimmed(value: str) -> str:
    return _TEXT_EDGES.sub("", value)


def _words(value: Any) -> Any:
    # Trimmed before its length is counted: "   " is no description, and "  ok  " is "ok" to
    # every reader (a case note, the email quoting a seller's words, the console). Only the
    # ends are trimmed (whitespace and a pasted byte-order mark); the lines and spacing inside
    # stay as written. Text that shows nothing (zero-width spaces alone) is as blank as spaces
    # are.
    if not isinstance(value, str):
        return value  # the strict str schema names the wrong type
    trimmed = _trimmed(_refuse_format_characters(value))
    if not _shows_something(trimmed):
        raise PydanticCustomError("blank_text", "must hold text, not only whitespace")
    return _refuse_invisible_characters(trimmed)


def _words_or_nothing(value: Any) -> Any:
    # Text that shows nothing (a byte-order mark, a word joiner and spaces) is the same as
    # sending none, as whitespace alone is.
    if not isinstance(value, str):
        return value
    trimmed = _trimmed(_refuse_format_characters(value))
    if not _shows_something(trimmed):
        return ""
    return _refuse_invisible_characters(trimmed)


def _refuse_format_characters(value: str) -> str:
    # Refused here as well as by `RequestModel`'s walk, so that the error names the very item
    # (`body.checklist.1`) rather than the list holding it.
    if found := _FORMAT.search(value):
        raise PydanticCustomError("format_character", format_refusal(found.group()))
    return value


def _refuse_invisible_characters(value: str) -> str:
    # After the blank check: text of nothing but a byte-order mark is blank, not a misplaced
    # character; inside text that shows something, U+2060–U+2064 and U+FEFF hide what it says.
    if found := _INVISIBLE.search(value):
        raise PydanticCustomError("invisible_character", invisible_refusal(found.group()))
    return value


# Free text a caller must write (a claim's description, an appeal's reason, a note, a ruling's
# reason, a name): trimmed at both ends, then refused when nothing is left, naming the field;
# the field's own `min_length`/`max_length` count what is kept. Ids, secrets and e-mail
# addresses have their own types and are never trimmed.
Text = Annotated[str, BeforeValidator(_words), Field(json_schema_extra={"pattern": r"\S"})]
# Free text that may be left out (its default is ""): trimmed at both ends, so whitespace alone
# is the same as sending none.
OptionalText = Annotated[str, BeforeValidator(_words_or_nothing)]


# Integer paise, strictly: `true`, `"249900"` and `249900.0` are refused rather than coerced, so
# a client that sends rupees as a float or a string learns it at once.
Paise = Annotated[
    int, Strict(), Field(ge=0, le=MAX_PAISE, description="Integer paise (1 rupee = 100 paise).")
]
# Money a caller sends: a cap, a threshold, a value (0 may mean "nothing", e.g. a partner that
# bears no liability), never beyond what one item or shipment of this desk can be worth.
SentPaise = Annotated[
    int,
    Strict(),
    Field(ge=0, le=MAX_SENT_PAISE, description="Integer paise (1 rupee = 100 paise)."),
]
# An amount claimed, owed, paid or valued by a caller: at least one paisa. A claim of nothing
# (or an item worth nothing) has nothing to decide, and was accepted, opened a case and emailed
# the seller about ₹0.00.
PositivePaise = Annotated[
    int,
    Strict(),
    Field(
        ge=1,
        le=MAX_SENT_PAISE,
        description="Integer paise (1 rupee = 100 paise), at least one paisa.",
    ),
]
# A parcel's weight as a person measured it (a seller's `received_weight_g`): at least one gram.
# A parcel that arrived weighs its packaging at least; 0 g says nothing arrived (a NOT_RECEIVED
# claim) or that nothing was weighed (leave the field out), and read as a weight it is a drop of
# the whole pickup weight, which SOP L6 charges to the partner in full. Partners' scans keep
# their tolerance: their 0 g is read as no reading (services/intake/partners/service.py).
MeasuredGrams = Annotated[
    int,
    Strict(),
    Field(ge=1, le=1_000_000, description="Weight in whole grams, at least one gram."),
]
# A timezone-aware instant between 2000 and 2099, sent as text.
Instant = Annotated[
    AwareDatetime, BeforeValidator(_timestamp_text), AfterValidator(plausible_instant)
]


def _no_credentials(url: HttpUrl) -> HttpUrl:
    # `https://user:pw@host/…`: the password would be stored, published on Kafka and shown on
    # the desk console to everyone who opens the case, and a link carrying it logs its holder
    # in wherever it is followed.
    if url.username or url.password:
        raise ValueError("must not carry a user name or password (user:password@host)")
    return url


def _https_only(url: HttpUrl) -> HttpUrl:
    # Evidence is fetched by people on the desk: a plain http address can be read and changed
    # on its way, and the file's sha256 would no longer vouch for what they see.
    if url.scheme != "https":
        raise ValueError(f"must be an https URL, not {url.scheme}")
    # A file store is a named host on the web: an address (`https://127.0.0.1:8004/metrics`,
    # `https://[::1]/`) or a bare name (`https://localhost/`) points into the network of
    # whoever opens the link on the desk.
    host = (url.host or "").strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." not in host.strip("."):
            raise ValueError("must name a host on the web (e.g. files.example.com)") from None
        return url
    raise ValueError("must name a host, not an IP address")


# An address a caller gives for a file (evidence, a contest's documents): https, without
# credentials. The event contracts keep `HttpUrl`, so that events published before this rule
# still read.
EvidenceUrl = Annotated[HttpUrl, AfterValidator(_https_only), AfterValidator(_no_credentials)]
# An address the desk calls back (a partner's endpoint for debit notices): without credentials;
# the signing secret travels beside it, encrypted at rest.
CallbackUrl = Annotated[HttpUrl, AfterValidator(_no_credentials)]
# Something that has already happened (a return initiated, a refund issued, a photo taken).
# Bounded in offset here too: an evidence item is read through the event contract's model, which
# `JsonTypes` does not reach.
PastInstant = Annotated[
    Instant, AfterValidator(not_in_future), AfterValidator(offset_a_place_keeps)
]
Day = Annotated[date, AfterValidator(plausible_day)]
Hours = Annotated[float, Field(ge=0, le=MAX_HOURS, allow_inf_nan=False)]
RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
# Where the desk writes to the seller. Non-ASCII is allowed (RFC 6531 addresses travel over
# SMTPUTF8); whitespace and control characters are not: no mail server takes them, and a
# message that can never be sent should be refused here, naming the field. The domain is two
# labels or more, none empty or starting or ending with a hyphen (`a@b..c`, `a@b.c.`, `a@-b.c`
# name no host a mail server can reach).
_MAIL_CHAR = r"[^@\s\x00-\x1f\x7f.]"
_MAIL_EDGE = r"[^@\s\x00-\x1f\x7f.\-]"
_MAIL_LABEL = f"{_MAIL_EDGE}(?:{_MAIL_CHAR}*{_MAIL_EDGE})?"


def one_spelling_of_address(value: str) -> str:
    """An address in the one form it is compared in: Unicode NFC (RFC 6532 §3.1), so that
    "josé@" typed as é (U+00E9) or as e + U+0301 is one address to the directory, the suppression
    list and the reply matcher. Compatibility forms (fullwidth `ｓｅｌｌｅｒ@ｅｘａｍｐｌｅ.com`,
    ligatures, superscripts) are refused rather than folded: they are an input method's slip,
    and a mail server reads them as another mailbox than the one they look like."""
    if value.isascii():
        return value
    composed = unicodedata.normalize("NFC", value)
    for ch in composed:
        if unicodedata.normalize("NFKC", ch) != ch:
            raise ValueError(
                f"character U+{ord(ch):04X} ({unicodedata.name(ch, 'compatibility form')}) "
                f"is a compatibility form of {unicodedata.normalize('NFKC', ch)!r}: write the "
                "address with the ordinary characters"
            )
    return composed


EmailAddress = Annotated[
    str,
    Field(
        max_length=254,
        pattern=rf"^[^@\s\x00-\x1f\x7f]+@{_MAIL_LABEL}(?:\.{_MAIL_LABEL})+$",
        examples=["seller@example.com"],
    ),
    AfterValidator(plain_token),
    AfterValidator(one_spelling_of_address),
]


# Core-schema kinds that JSON carries as a string (an instant, a day, an enum's value, an id) or
# as an array (a tuple, a set): strict Python validation would want the Python object itself,
# which parsed JSON never holds. Their items stay strict.
_JSON_CARRIED = frozenset(
    {"datetime", "date", "time", "timedelta", "uuid", "enum", "decimal", "url", "multi-host-url"}
    | {"tuple", "set", "frozenset"}
)
_TEXT_ONLY = frozenset({"datetime", "date", "time"})


def _text_not_number(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        raise PydanticCustomError("json_type", "Input should be text, not a JSON number or boolean")
    return value


# An instant begins with its calendar day, as RFC 3339 writes it; pydantic's reader also takes
# text of digits alone ("1795690000", "1795690000000", "1795690000.5") as seconds or
# milliseconds since 1970, choosing by size, which is the number refused above in quotes.
_CALENDAR_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT_HINT = "send an RFC 3339 timestamp with its offset, e.g. 2026-11-24T10:00:00Z"


_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})$")


def offset_beyond_places(text: str) -> bool:
    """Whether an instant's text ends in an offset no place keeps (`+14:30`, `-23:59`)."""
    offset = _OFFSET.search(text[10:])
    if offset is None:
        return False
    return timedelta(hours=int(offset[2]), minutes=int(offset[3])) > LATEST_OFFSET


def _instant_text(value: Any) -> Any:
    value = _text_not_number(value)
    if isinstance(value, str):
        if not _CALENDAR_DAY.match(value):
            raise PydanticCustomError("json_type", _INSTANT_HINT)
        if offset_beyond_places(value):
            raise PydanticCustomError("utc_offset", OFFSET_REFUSAL)
    return value


def _day_text(value: Any) -> Any:
    # A day is YYYY-MM-DD alone: an instant given for a day ("2026-12-01T00:00:00+05:30") was
    # taken as the day it names in its own offset, another day than it is in UTC.
    value = _text_not_number(value)
    if isinstance(value, str) and not _CALENDAR_DAY.fullmatch(value):
        raise PydanticCustomError("json_type", "send a day as YYYY-MM-DD, e.g. 2026-11-24")
    return value


_TEXT_READERS = {"datetime": _instant_text, "date": _day_text, "time": _text_not_number}


_NOT_SCHEMAS = frozenset({"serialization", "metadata", "ref", "schema_ref", "cls", "function"})


def _read_as_json(schema: Any, handler: GetCoreSchemaHandler) -> None:
    """Every JSON-carried kind in `schema` read from its string or array, in place; the rest stay
    strict.
    A kind shared between models (an enum) is a reference to one definition: it is followed."""
    stack, seen = [schema], set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if id(node) in seen:
                continue
            seen.add(id(node))
            kind = node.get("type")
            if kind in _JSON_CARRIED and node.get("strict") is not False:
                node["strict"] = False
                if kind in _TEXT_ONLY:
                    # Lax reading would take a number as seconds since 1970; JSON's strict
                    # reading takes text only.
                    inner = {k: v for k, v in node.items() if k != "ref"}
                    ref = node.get("ref")
                    node.clear()
                    node.update(
                        type="function-before",
                        function={"type": "no-info", "function": _TEXT_READERS[kind]},
                        schema=inner,
                    )
                    if ref is not None:
                        node["ref"] = ref
            elif node.get("type") == "definition-ref":
                try:
                    stack.append(handler.resolve_ref_schema(node))
                except LookupError:
                    pass  # a model still being defined (a cycle): it relaxes its own kinds
            stack.extend(v for k, v in node.items() if k not in _NOT_SCHEMAS)
        elif isinstance(node, list | tuple):
            stack.extend(node)


class JsonTypes(BaseModel):
    """A model read from parsed JSON with JSON's own types, as `model_validate_json(strict=True)`
    would: `"12"` is not an integer, `12.0` is not an integer, `"true"` and `1` are not booleans,
    `12` is not a string. FastAPI validates bodies in Python mode, where pydantic's default lax
    reading coerces all of these; strict Python mode would in turn refuse the instants, days,
    enums and ids that JSON can only carry as strings (and tuples it carries as arrays), so
    those kinds alone are read as JSON carries them.
    A number where a float is asked for is still taken (JSON has one number type)."""

    model_config = ConfigDict(strict=True)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        _read_as_json(schema, handler)
        return schema


class RequestModel(JsonTypes):
    """Base of every HTTP request body: unknown fields refused (a misspelt optional field would
    otherwise vanish), JSON's own types (no `"12"` read as 12, see `JsonTypes`), no NaN, and
    every string — nested in lists and free-form dicts too — free of control characters other
    than tab and line breaks."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value  # a nested model checks its own fields
        return _json_safe(value)


# ---------------------------------------------------------------------------------------------
# JSON bodies: one value per key
# ---------------------------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _repeated(pairs: list[tuple[str, Any]]) -> str | None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return None


class _TooManyMembers(ValueError):
    def __init__(self, members: int) -> None:
        super().__init__(members)
        self.members = members


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) > MAX_MEMBERS:
        raise _TooManyMembers(len(pairs))
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey(_repeated(pairs) or "")
    return out


class _Ambiguous(dict[str, Any]):
    """An object that held `key` twice, kept by the second parse that finds where it is."""

    key = ""


def _mark_ambiguous(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    marked = _Ambiguous(out)
    marked.key = _repeated(pairs) or ""
    return marked


def _ambiguous_path(value: Any) -> tuple[str | int, ...]:
    """Where, from the body's root, the first object holding a key twice is, key included."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _Ambiguous):
            return (*path, item.key)
        if isinstance(item, dict):
            stack.extend((v, (*path, k)) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(item))))
    return ()


def repeated_key_path(body: bytes) -> tuple[str | int, ...] | None:
    """Where a JSON body first holds a key twice in one object (`("events", 3, "awb")`), or None
    when it holds none or is no JSON at all (its own parser then names where it breaks). For the
    partner webhooks, which read their bodies themselves: a scan of `{"awb": "A", "awb": "B"}`
    was read as B while the archive, a proxy or the partner's own log may show A."""
    try:
        json.loads(body, object_pairs_hook=_one_value_per_key)
        return None
    except _DuplicateKey:
        pass  # found where only now, by a second parse: the common body pays for one
    except (_TooManyMembers, ValueError, RecursionError):
        return None
    try:
        path = _ambiguous_path(json.loads(body, object_pairs_hook=_mark_ambiguous))
    except (ValueError, RecursionError):
        return None
    return path or None


async def unambiguous_json_body(request: Request) -> None:
    """A JSON body whose object holds a key twice is refused (422 naming the key): a parser
    keeps the last value silently, while a proxy, a log or the client's own code may read the
    first, so `{"claimed_amount": 100, "claimed_amount": 9999900}` means two things at once.
    So is one whose object holds more than `MAX_MEMBERS` members, before validation lists them.

    Called by every API route that takes a body (shared/service_route.py), after the caller's
    key and the charset were checked and before FastAPI parses the body; it reads the same
    cached bytes. A body that is not JSON at all is left to that parse, which names its byte.
    Partner webhooks take raw bytes and keep their own tolerance."""
    body = await request.body()
    if not body:
        return
    try:
        json.loads(body, object_pairs_hook=_one_value_per_key)
    except _TooManyMembers as exc:
        raise RequestValidationError(
            [
                {
                    "type": "too_many_members",
                    "loc": ("body",),
                    "msg": (
                        f"an object in the body holds {exc.members} members; "
                        f"at most {MAX_MEMBERS} are read"
                    ),
                    "input": None,
                }
            ]
        ) from None
    except _DuplicateKey as exc:
        # Parsed again only now, marking instead of refusing, to name the key by its path
        # (`body.changes.a.b`): the common case, no key twice, pays for one parse only. The
        # hook meets a repeated key before the parser reaches a syntax error further on, and
        # a malformed body is FastAPI's to refuse, naming where it breaks.
        try:
            path = _ambiguous_path(json.loads(body, object_pairs_hook=_mark_ambiguous))
        except (ValueError, RecursionError):
            return
        raise RequestValidationError(
            [
                {
                    "type": "duplicate_key",
                    "loc": ("body", *(path or (exc.key,))),
                    "msg": f"the key {exc.key!r} appears twice in one object; send it once",
                    "input": None,
                }
            ]
        ) from None
    except (ValueError, RecursionError):
        # Not JSON (a form), malformed, or nested deeper than the parser goes: the route's own
        # parsing answers for it, naming what it found.
        return


# ---------------------------------------------------------------------------------------------
# JSON bodies: UTF-8 only
# ---------------------------------------------------------------------------------------------

_UTF8 = frozenset({"utf-8", "utf8"})


def _is_json_media_type(media_type: str) -> bool:
    """`application/json` or a JSON-based `application/…+json` (RFC 6839), as FastAPI reads."""
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def refuse_non_utf8_json(request: Request) -> None:
    """A body declared as another media type than JSON (`text/plain`, a form) answers 415
    naming `header.Content-Type`. A body declared in another charset, or sent as UTF-16 or
    UTF-32, answers 415 naming the charset: JSON between systems is UTF-8 (RFC 8259 §8.1).
    Python's `json.loads` would guess UTF-16/32 from the first bytes and accept it, so what a
    proxy or a log reads as text and what we store would differ. Runs before the body is
    parsed (shared/service_route.py)."""
    # The raw header, not `request.headers`: building that mapping costs more than the check.
    content_type = b""
    for name, value in request.scope["headers"]:
        if name == b"content-type":
            content_type = value
    media_type = content_type.decode("latin-1").split(";")[0].strip().lower()
    body = await request.body()
    if body and not _is_json_media_type(media_type):
        # FastAPI reads such a body as bytes (one without a Content-Type too: its strict content
        # type) and answers "Input should be a valid dictionary", which says nothing of the
        # header the client got wrong (a form, `text/plain`, none).
        declared = f"declared as {media_type}" if media_type else "sent without a Content-Type"
        raise Problem(
            415,
            "Unsupported media type",
            f"The body is {declared}; send it as application/json.",
            errors=[
                {"field": "header.Content-Type", "message": f"{media_type or 'none'}, not JSON"}
            ],
        )
    for param in content_type.decode("latin-1").split(";")[1:]:
        key, _, raw = param.partition("=")
        charset = raw.strip().strip('"')
        if key.strip().lower() == "charset" and charset.lower() not in _UTF8:
            raise Problem(
                415,
                "Unsupported media type",
                f"The body is declared as charset={charset}; send JSON as UTF-8 (RFC 8259), "
                "without a charset parameter or with charset=utf-8.",
                errors=[{"field": "header.Content-Type", "message": f"charset {charset}"}],
            )
    # The stdlib's own guess: what `json.loads` would decode the bytes as. A UTF-8 BOM is
    # tolerated (RFC 8259 lets a parser ignore it); UTF-16 and UTF-32 are not.
    encoding = json.detect_encoding(body[:4]) if body else "utf-8"
    if encoding not in ("utf-8", "utf-8-sig"):
        raise Problem(
            415,
            "Unsupported media type",
            f"The body is encoded as {encoding.upper()}; send JSON as UTF-8 (RFC 8259).",
            errors=[{"field": "body", "message": f"encoded as {encoding.upper()}, not UTF-8"}],
        )


# ---------------------------------------------------------------------------------------------
# Paths and query strings
# ---------------------------------------------------------------------------------------------


# In a URL also U+FFFD: the server and `parse_qsl` decode percent-encoded bytes that are not
# UTF-8 (`%ff`) to it, so a route would otherwise see an id the client never sent.
_URL_REFUSED = re.compile(
    rf"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffd{FORMAT_CHARACTERS}{INVISIBLE_CHARACTERS}]"
)


def _url_refusal(match: re.Match[str]) -> str:
    if match.group() == "\ufffd":
        return "percent-encoded bytes that are not UTF-8 are not accepted"
    return _refusal(match)


def url_errors(scope: Scope) -> list[dict[str, str]]:
    """What a path segment or a query name or value holds that no route may see: a control
    character (percent-encoded or not) or bytes that are not UTF-8, and in a path segment (an
    id) any invisible character, each error naming the path parameter or query field. Checked
    by `shared.request_path.ServiceRequests` before routing."""
    errors: list[dict[str, str]] = []
    path: str = scope.get("path", "")
    if found := _URL_REFUSED.search(path):
        names = _path_params_refused(scope, _URL_REFUSED)
        for name in names or ["path"]:
            errors.append({"field": name, "message": _url_refusal(found)})
    elif not path.isascii() and (found := _IDENTIFIER_INVISIBLE.search(path)):
        # A path segment is an id: it refuses every invisible character, as an id does.
        names = _path_params_refused(scope, _IDENTIFIER_INVISIBLE)
        message = invisible_refusal(found.group(), where="an identifier")
        errors.extend({"field": name, "message": message} for name in names or ["path"])
    raw_query: bytes = scope.get("query_string", b"")
    if raw_query:
        for name, value in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True):
            found = _URL_REFUSED.search(name) or _URL_REFUSED.search(value)
            if found:
                label = name if not _URL_REFUSED.search(name) else _visible(name)
                errors.append({"field": f"query.{label}", "message": _url_refusal(found)})
    return errors


_TEMPLATE_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _path_params_refused(scope: Scope, refused: re.Pattern[str]) -> list[str]:
    """The parameters of the documented path template that hold the refused characters."""
    app = scope.get("app")
    openapi = getattr(app, "openapi", None)
    if openapi is None:
        return []
    path = scope.get("path", "")
    for template in openapi().get("paths", {}):
        # "/v1/cases/{case_id}" → literal pieces escaped, each parameter one named segment.
        pieces = _TEMPLATE_PARAM.split(template)
        pattern = "".join(
            re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>[^/]+)"
            for i, piece in enumerate(pieces)
        )
        if found := re.fullmatch(pattern, path):
            return [f"path.{k}" for k, v in found.groupdict().items() if refused.search(v)]
    return []


def _visible(text: str) -> str:
    return quote(text, safe="/", errors="backslashreplace")


def url_refusal(scope: Scope, errors: list[dict[str, str]]) -> dict[str, Any]:
    """The 422 problem document for `url_errors`, answered before any route ran."""
    return {
        "type": f"{TYPE_BASE}validation-failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "Invalid field(s): " + ", ".join(e["field"] for e in errors[:10]),
        # The path as sent, percent-encoded: the refused characters stay visible, not raw.
        "instance": _visible(scope.get("path", "")),
        "errors": errors,
    }


def refuse_unknown_query(request: Request, known: frozenset[str]) -> None:
    """A query parameter the route does not take answers 422 naming it, as an unknown body
    field does (`RequestModel`): a misspelt filter (`?stat=OPEN`) or one the route never had
    (`/v1/ledger/balances?at=…`) would otherwise be dropped and answered with everything, as
    if it had been applied. Runs after the caller is authenticated (shared/service_route.py)."""
    if not request.scope.get("query_string"):
        return
    unknown = sorted({name for name in request.query_params if name not in known})
    if not unknown:
        return
    takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
    raise Problem(
        422,
        "Validation failed",
        f"Invalid field(s): {', '.join(f'query.{name}' for name in unknown[:10])}",
        type_=f"{TYPE_BASE}validation-failed",
        errors=[
            {"field": f"query.{name}", "message": f"not a query parameter of this route; {takes}"}
            for name in unknown[:10]
        ],
    )


def takes_many(annotation: Any) -> bool:
    """Whether a query parameter of this type takes several values (`?status=A&status=B`)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        return any(takes_many(a) for a in get_args(annotation) if a is not type(None))
    return get_origin(annotation) in (list, set, frozenset, tuple)


def refuse_repeated_query(request: Request, single: frozenset[str]) -> None:
    """A query parameter of one value sent twice (`?limit=20&limit=30`,
    `?seller_id=S-1&seller_id=S-2`) answers 422 naming it, as a JSON key sent twice does
    (`unambiguous_json_body`): the route read the last copy silently, while a proxy, a cache
    or the client's own code may read the first, so the request meant two things at once.
    Runs after the caller is authenticated (shared/service_route.py)."""
    if not request.scope.get("query_string"):
        return
    seen: set[str] = set()
    repeated: list[str] = []
    for name, _ in request.query_params.multi_items():
        if name in single and name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if not repeated:
        return
    raise Problem(
        422,
        "Validation failed",
        f"Invalid field(s): {', '.join(f'query.{name}' for name in repeated[:10])}",
        type_=f"{TYPE_BASE}validation-failed",
        errors=[
            {"field": f"query.{name}", "message": "given more than once; send it once"}
            for name in repeated[:10]
        ],
    )


# ---------------------------------------------------------------------------------------------
# Query values: one spelling per value
# ---------------------------------------------------------------------------------------------

# A query value is text, so an integer is read from its digits; but FastAPI's lax reading also
# takes `1.0`, `+5`, ` 5` and `1_0` for integers, `yes`, `on`, `t` and `1` for booleans, `inf`
# and `1_0` for numbers. Each value has one spelling here, JSON's: a client learns at once
# that it sent something else, and a proxy or log reading the URL sees what the service read.
_QUERY_SPELLING = {
    "integer": (re.compile(r"-?[0-9]+"), "an integer in ASCII digits, e.g. 20"),
    "number": (
        re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"),
        "a number in ASCII digits, e.g. 24 or 1.5",
    ),
    "boolean": (re.compile(r"true|false"), "true or false"),
}
# An instant or a day is text: a bare number would be read as seconds since 1970.
_NUMBER = _QUERY_SPELLING["number"][0]
_TEXT_SPELLING = {
    "instant": "an instant with its offset, e.g. 2026-11-24T10:00:00Z, not a number",
    "day": "a day, e.g. 2026-11-30, not a number",
}


def query_kind(annotation: Any) -> str | None:
    """`integer`, `number`, `boolean`, `instant` or `day` for a query parameter of that type
    (optional or annotated too); None for text, enums and the rest, which take text as sent."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            kinds = {query_kind(a) for a in get_args(annotation) if a is not type(None)}
            return kinds.pop() if len(kinds) == 1 else None
        else:
            break
    if annotation is AwareDatetime:
        return "instant"
    if not isinstance(annotation, type) or issubclass(annotation, Enum):
        return None
    if issubclass(annotation, datetime):
        return "instant"
    if issubclass(annotation, date):
        return "day"
    if issubclass(annotation, bool):
        return "boolean"
    if issubclass(annotation, int):
        return "integer"
    if issubclass(annotation, float):
        return "number"
    return None


def refuse_lax_query(request: Request, kinds: dict[str, str]) -> None:
    """A query integer, number or boolean spelt otherwise than JSON spells it, an instant or
    day sent as a number, or an instant at an offset no place keeps, answers 422 naming it
    (`?limit=1.0`, `?seller_replied=yes`, `?as_of=1795690000`, `?as_of=…T10:00:00+14:30`), as
    a request body's is (`_instant_text`). Runs before FastAPI reads the values."""
    if not kinds or not request.scope.get("query_string"):
        return
    errors = []
    for name, value in request.query_params.multi_items():
        kind = kinds.get(name)
        if kind is None:
            continue
        if kind in _TEXT_SPELLING:
            if _NUMBER.fullmatch(value.strip()):
                errors.append(
                    {"field": f"query.{name}", "message": f"must be {_TEXT_SPELLING[kind]}"}
                )
            elif kind == "instant" and offset_beyond_places(value.strip()):
                errors.append({"field": f"query.{name}", "message": OFFSET_REFUSAL})
            continue
        pattern, spelling = _QUERY_SPELLING[kind]
        if not pattern.fullmatch(value):
            errors.append({"field": f"query.{name}", "message": f"must be {spelling}"})
    if errors:
        raise Problem(
            422,
            "Validation failed",
            f"Invalid field(s): {', '.join(e['field'] for e in errors[:10])}",
            type_=f"{TYPE_BASE}validation-failed",
            errors=errors[:10],
        )
