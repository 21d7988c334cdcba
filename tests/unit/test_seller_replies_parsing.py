"""Inbound email, pure parts: reply tokens, quoted history, machine-written mail, attachments."""

from __future__ import annotations

import io
from email.message import EmailMessage

from PIL import Image

from services.notifications import reply_tokens as tokens
from services.notifications.replies import attachments
from services.notifications.replies.parsing import parse, strip_quoted

KEY, DOMAIN = "k", "replies.example"
ALLOWED = ["image/png", "image/jpeg", "application/pdf", "video/mp4"]


def test_a_token_verifies_only_for_its_own_case_and_seller() -> None:
    address = tokens.reply_address("CASE-ABC123DEF456", "S-1", key=KEY, domain=DOMAIN)
    assert len(address.split("@")[0]) <= 64
    found = tokens.find_token(["someone@else.example", address.upper()], DOMAIN)
    assert isinstance(found, tokens.Token) and found.case_id == "CASE-ABC123DEF456"
    assert tokens.verify(found, "S-1", KEY)
    assert not tokens.verify(found, "S-2", KEY)  # another seller's case id in a forged token
    assert not tokens.verify(found, "S-1", "other-key")
    assert tokens.find_token([f"reply+nonsense@{DOMAIN}"], DOMAIN) is False
    assert tokens.find_token(["desk@example.com"], DOMAIN) is None


def test_quoted_history_and_signatures_are_stripped() -> None:
    text = (
        "The video is attached.\n\nThanks,\nAsha\n-- \nAsha Electronics\n"
        "On Tue, 1 Dec 2026, Desk wrote:\n> Please send evidence\n"
    )
    assert strip_quoted(text) == "The video is attached.\n\nThanks,\nAsha"
    outlook = "Sure.\r\n\r\n-----Original Message-----\r\nFrom: desk\r\nSubject: x\r\n"
    assert strip_quoted(outlook) == "Sure."
    assert strip_quoted("> only a quote\n") == ""


def _mail(**headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = headers.pop("From", "seller@example.com")
    mail["To"] = f"reply+case-abc123def456.aaaaaaaaaaaaaaaa@{DOMAIN}"
    mail["Subject"] = headers.pop("Subject", "Re: [CASE-ABC123DEF456] evidence")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("I am away until Monday.")
    mail.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="a.pdf")
    return mail.as_bytes()


def test_machine_written_mail_is_recognised_and_carries_no_attachments() -> None:
    assert parse(_mail()).auto is None and len(parse(_mail()).attachments) == 1
    assert parse(_mail()).case_numbers() == ["CASE-ABC123DEF456"]
    for headers in (
        {"Auto_Submitted": "auto-replied"},
        {"X_Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"Subject": "Out of Office: Re: your case"},
        {"Subject": "Automatic reply: evidence"},
    ):
        parsed = parse(_mail(**headers))
        assert parsed.auto == "auto_reply", headers
        assert parsed.attachments == []
    assert parse(_mail(Auto_Submitted="no")).auto is None
    assert parse(_mail(From="MAILER-DAEMON@mx.example")).auto == "bounce"


def test_a_reply_keeps_the_sellers_words_without_bidirectional_controls() -> None:
    """An email cannot be refused 422 as a request is: the right-to-left override and its kin
    are taken out, so the desk reads what the record holds; scripts and joiners stay."""
    mail = EmailMessage()
    mail["From"] = "seller@example.com"
    mail["To"] = f"reply+case-abc123def456.aaaaaaaaaaaaaaaa@{DOMAIN}"
    mail["Subject"] = "Re: [CASE-ABC123DEF456] \u202eecnedive"
    mail.set_content("Box was open \u2066\u202efdp.exe\u2069. डिब्बा खुला था 👩\u200d💻\n")
    parsed = parse(mail.as_bytes())
    assert parsed.text == "Box was open fdp.exe. डिब्बा खुला था 👩\u200d💻"
    assert parsed.subject == "Re: [CASE-ABC123DEF456] ecnedive"


def test_a_reply_keeps_the_sellers_words_without_invisible_characters() -> None:
    """A word joiner, a byte-order mark inside the text and a C1 control are taken out as the
    bidirectional controls are; Thai's zero-width space stays (free text keeps it too)."""
    mail = EmailMessage()
    mail["From"] = "seller@example.com"
    mail["To"] = f"reply+case-abc123def456.aaaaaaaaaaaaaaaa@{DOMAIN}"
    mail["Subject"] = "Re: [CASE-ABC123DEF456] em\u2060pty"
    mail.set_content("It weighed 4\u206000 g\ufeff, box\x85 open. กล่อง\u200bแตก\n")
    parsed = parse(mail.as_bytes())
    assert parsed.text == "It weighed 400 g, box open. กล่อง\u200bแตก"
    assert parsed.subject == "Re: [CASE-ABC123DEF456] empty"


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, colour)
    for x in range(size[0] // 2):
        for y in range(size[1]):
            image.putpixel((x, y), (255 - colour[0], 255 - colour[1], 255 - colour[2]))
    image.save(out, format="PNG")
    return out.getvalue()


def test_attachments_are_checked_by_type_size_and_content_and_images_get_a_dhash() -> None:
    photo = attachments.check(
        "p.png", "image/png", _png((200, 0, 0)), allowed=ALLOWED, max_bytes=10**6
    )
    assert photo.accepted and photo.perceptual_hash and len(photo.sha256) == 64
    bigger = attachments.check(
        "p.png", "image/png", _png((200, 0, 0), (400, 300)), allowed=ALLOWED, max_bytes=10**6
    )
    assert bigger.perceptual_hash == photo.perceptual_hash  # the same picture, resized
    refused = {
        "exe name": attachments.check(
            "x.exe", "image/png", _png((1, 2, 3)), allowed=ALLOWED, max_bytes=10**6
        ),
        "MZ bytes": attachments.check(
            "x.pdf", "application/pdf", b"MZ\x90", allowed=ALLOWED, max_bytes=10**6
        ),
        "ELF bytes": attachments.check(
            "x", "video/mp4", b"\x7fELF..", allowed=ALLOWED, max_bytes=10**6
        ),
        "script": attachments.check(
            "run.sh", "application/pdf", b"%PDF", allowed=ALLOWED, max_bytes=10**6
        ),
        "size": attachments.check(
            "p.png", "image/png", _png((9, 9, 9)), allowed=ALLOWED, max_bytes=10
        ),
        "type": attachments.check(
            "a.zip", "application/zip", b"PK..", allowed=ALLOWED, max_bytes=10**6
        ),
        "lying type": attachments.check(
            "a.png", "image/png", b"%PDF-1.4", allowed=ALLOWED, max_bytes=10**6
        ),
    }
    for what, checked in refused.items():
        assert not checked.accepted, what
    assert "executable" in str(refused["MZ bytes"].refused_because)
