"""Reading an inbound email (pure, no I/O): who wrote, to which address, the new text without
the quoted history, the attachments, and whether a machine wrote it (RFC 3834 auto-replies,
out-of-office notes, delivery reports)."""

from __future__ import annotations

import email
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import EmailMessage, MIMEPart
from email.policy import default
from email.utils import getaddresses, parseaddr

from shared.validation import FORMAT_CHARACTERS, INVISIBLE_CHARACTERS
from shared.weights import WeightUnit, WeightUnreadable, grams

# Our own Message-IDs (channels/smtp.py): a delivery report quoting one is a bounce of our mail.
OUR_MESSAGE_ID = re.compile(r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@")
CASE_NUMBER = re.compile(r"\bCASE-[0-9A-F]{12}\b", re.IGNORECASE)
# Where the quoted history of common mail clients starts.
_QUOTE_STARTS = (
    re.compile(r"^On .+ wrote:\s*$"),
    re.compile(r"^-+ ?Original Message ?-+\s*$", re.IGNORECASE),
    re.compile(r"^-+ ?Forwarded message ?-+\s*$", re.IGNORECASE),
    re.compile(r"^From: .+$"),
    re.compile(r"^_{10,}\s*$"),
)
_AUTO_SUBJECTS = re.compile(
    r"^(auto(matic)? ?(reply|response)|out of (the )?office|autoreply|auto:|abwesenheit)",
    re.IGNORECASE,
)
# "it weighed 900 g", "weight: 0.9 kg": a seller answering the checklist's weight question.
# A comma followed by exactly three digits groups thousands ("1,200 g", India's "1,00,000"),
# as sellers here write; any other comma is a decimal point ("0,45 kg"). Read the other way,
# "1,200 g" would be a 1 g parcel: a weight drop the parcel never had.
_WEIGHT = re.compile(
    r"\b(?:(?P<grouped>(?!0)\d{1,3}(?:,\d{3})+(?:\.\d{1,6})?"
    r"|(?!0)\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,6})?)"
    r"|(?P<plain>\d{1,6}(?:[.,]\d{1,6})?))"
    r"\s*(?P<unit>kg|kgs|kilograms?|g|gms?|grams?)\b",
    re.I,
)
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class InboundEmail:
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    auto: str | None = None  # None, "auto_reply" or "bounce"
    bounced_message_ids: list[str] = field(default_factory=list)

    def stated_weight_g(self) -> int | None:
        """The parcel's weight when the text states exactly one (else None: ambiguous)."""
        found = list(_WEIGHT.finditer(self.text))
        if len(found) != 1:
            return None
        grouped, plain, unit = found[0].group("grouped", "plain", "unit")
        number = grouped.replace(",", "") if grouped else plain
        # Read as a partner's weight is (`shared.weights`: the decimal text exactly, half up to
        # the gram), so "0.4495 kg" from a seller is the 450 g it is from any partner. A digit
        # of another script ("४५० g") counts as its value.
        text = "".join("." if c in ".," else str(unicodedata.decimal(c)) for c in number)
        try:
            weighed = grams(
                text, WeightUnit.KILOGRAM if unit.lower().startswith("k") else WeightUnit.GRAM
            )
        except WeightUnreadable:
            return None
        # At least one whole gram, as a seller's weight sent by the API (`MeasuredGrams`):
        # "0.3 g" rounds to nothing, which no parcel weighs.
        return weighed if weighed >= 1 else None

    def case_numbers(self) -> list[str]:
        found = CASE_NUMBER.findall(f"{self.subject}\n{self.text}")
        return list(dict.fromkeys(number.upper() for number in found))


# With the format characters that make text display otherwise than it is stored (U+202E and the
# like, `shared.validation`), the invisible ones free text refuses (a word joiner, a byte-order
# mark inside the text) and the C1 controls: an email cannot be answered 422 as a request is,
# so a reply keeps the seller's words without them, and the desk reads what the record holds
# ("4\u206000 g" is a weight of 400 g to the reader and to the weight finder alike). The
# zero-width space and the joiners stay, as in free text.
_CONTROL = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{FORMAT_CHARACTERS}{INVISIBLE_CHARACTERS}]"
)


def clean(text: str) -> str:
    """Control, bidirectional and invisible format characters out (a NUL cannot be stored as
    text, and none belongs in a reply)."""
    return _CONTROL.sub("", text)


def strip_quoted(text: str) -> str:
    """The seller's new words: everything before the first quoted line or reply header, with
    trailing blank lines and a `-- ` signature removed."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(">") or any(p.match(line.strip()) for p in _QUOTE_STARTS):
            break
        if line.rstrip() == "--":
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _auto_kind(message: EmailMessage, sender: str) -> str | None:
    content_type = message.get_content_type()
    if content_type == "multipart/report" or _BOUNCE_SENDERS.match(sender):
        return "bounce"
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_reply"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto_reply"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return "auto_reply"
    if _AUTO_SUBJECTS.match(str(message.get("Subject", "")).strip()):
        return "auto_reply"
    return None


def _quoted_message_ids(message: EmailMessage, raw: bytes) -> list[str]:
    """Our Message-IDs a delivery report quotes, wherever it put them (the returned headers
    are often a base64 part)."""
    texts = [raw.decode("utf-8", "replace")]
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode("utf-8", "replace"))
        elif isinstance(part.get_payload(), list):  # message/rfc822: the returned message
            texts.extend(str(inner) for inner in part.get_payload())
    return [m for t in texts for m in OUR_MESSAGE_ID.findall(t)]


def _text_of(part: MIMEPart) -> str:
    """A text part's text in its declared charset; in UTF-8 (undecodable bytes replaced) when
    Python knows no such charset (`charset=x-nothing`), which a sender may write as it likes."""
    try:
        return str(part.get_content())
    except LookupError:
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


class UnreadableEmail(ValueError):
    """A message that cannot be read as mail however often it is sent: the reason says why."""


def parse(raw: bytes) -> InboundEmail:
    try:
        return _parse(raw)
    except RecursionError as exc:
        # Python's email package walks parts and headers recursively: multiparts nested some
        # thousand deep exhaust the stack. No mail client nests more than a handful.
        raise UnreadableEmail("its parts are nested too deeply") from exc


def _parse(raw: bytes) -> InboundEmail:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    sender = parseaddr(str(message.get("From", "")))[1]
    recipients = [
        address
        for _, address in getaddresses(
            [
                str(v)
                for header in ("X-Envelope-To", "Delivered-To", "To", "Cc")
                for v in message.get_all(header, [])
            ]
        )
        if address
    ]
    auto = _auto_kind(message, sender)
    body = message.get_body(preferencelist=("plain",))
    text = ""
    if body is not None:
        text = _text_of(body)
    elif (html := message.get_body(preferencelist=("html",))) is not None:
        text = re.sub(r"<[^>]+>", " ", _text_of(html))
    attachments = []
    for part in message.iter_attachments():
        if part.get_content_type() in ("message/rfc822", "message/delivery-status"):
            continue
        data = part.get_payload(decode=True) or b""
        attachments.append(
            Attachment(
                filename=clean(part.get_filename() or "attachment")[:255] or "attachment",
                content_type=part.get_content_type(),
                data=data if isinstance(data, bytes) else b"",
            )
        )
    bounced = _quoted_message_ids(message, raw) if auto == "bounce" else []
    return InboundEmail(
        message_id=clean(str(message.get("Message-ID", ""))).strip(),
        sender=clean(sender),
        recipients=[clean(r) for r in recipients],
        subject=clean(str(message.get("Subject", ""))),
        text=strip_quoted(clean(text)),
        attachments=[] if auto else attachments,
        auto=auto,
        bounced_message_ids=list(dict.fromkeys(bounced)),
    )


def looks_like_email(raw: bytes) -> bool:
    """Headers naming a sender and a recipient: anything else is not mail to act on."""
    parsed = parse(raw)
    return bool(parsed.sender) and bool(parsed.recipients)
