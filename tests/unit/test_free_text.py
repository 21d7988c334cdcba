"""Free text in every request body of every service: whitespace alone is refused where text is
required, and ends are trimmed (`Text`, `OptionalText` in shared/validation.py). A new field of
plain `str` without a pattern fails here until it says which it is, or why it is neither."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

import services
from services.intake.partners.parsing import Url
from services.notifications.replies.parsing import InboundEmail
from shared.validation import MeasuredGrams, RequestModel, Text, takes_many

# Strings that are not free text, and why they are neither trimmed nor refused when blank.
NOT_TEXT = {
    # Secrets are exact bytes; each scheme checks its own (length, prefix, base64).
    ("services.intake.admin.schemas", "PartnerIn", "secret"),
    ("services.intake.admin.schemas", "SecretRotation", "secret"),
    ("services.reconciliation.disputes.schemas", "EndpointIn", "secret"),
    # A signing scheme's name, checked against the adapters the registry knows.
    ("services.intake.admin.schemas", "PartnerIn", "scheme"),
    # A partner's status as its scanner writes it, matched byte for byte.
    ("services.intake.admin.schemas", "StatusMappingIn", "status"),
    # Opaque hashes the marketplace computes; compared, never read.
    ("services.intake.returns.schemas", "ReturnIn", "buyer_contact_hash"),
    ("services.intake.returns.schemas", "ReturnIn", "buyer_address_hash"),
    # A policy version, looked up as sent.
    ("services.reconciliation.policy.schemas", "DraftIn", "based_on"),
}


def _request_models() -> Iterator[type[RequestModel]]:
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if ".migrations" not in module.name and module.name.endswith("schemas"):
            importlib.import_module(module.name)
    stack: list[type[RequestModel]] = [RequestModel]
    seen: set[type[RequestModel]] = set()
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                yield sub


def _free_text_fields() -> list[tuple[str, str, str, FieldInfo]]:
    found = []
    for model in _request_models():
        if not model.__module__.startswith("services."):
            continue
        for name, info in model.model_fields.items():
            shape = repr(info.annotation)
            if not re.search(r"\bstr\b", shape) or "Literal" in shape or "pattern=" in shape:
                continue
            if any("pattern" in repr(m) for m in info.metadata):
                continue
            if info.annotation is not None and "dict" in shape:
                continue
            found.append((model.__module__, model.__name__, name, info))
    return found


FIELDS = _free_text_fields()


def _adapter(info: FieldInfo) -> TypeAdapter[Any]:
    return TypeAdapter(Annotated[info.annotation, info])


def _blank_for(info: FieldInfo) -> Any:
    return ["   \t\n"] if "list" in repr(info.annotation) else "   \t\n"


@pytest.mark.parametrize(
    ("module", "model", "name", "info"),
    [f for f in FIELDS if f[:3] not in NOT_TEXT],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_whitespace_alone_is_never_kept_as_free_text(
    module: str, model: str, name: str, info: FieldInfo
) -> None:
    adapter = _adapter(info)
    try:
        kept = adapter.validate_python(_blank_for(info))
    except ValidationError as exc:
        assert any("whitespace" in e["msg"] for e in exc.errors()), exc
        return
    # Only text one may leave out takes it, as the same as sending none.
    assert kept == "" and info.default == "", f"{model}.{name} kept {kept!r}"


@pytest.mark.parametrize(
    ("module", "model", "name", "info"),
    [f for f in FIELDS if f[:3] not in NOT_TEXT],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_free_text_is_trimmed_at_both_ends(
    module: str, model: str, name: str, info: FieldInfo
) -> None:
    sent = "  Cracked screen\n  and box  \n"
    value = [sent] if "list" in repr(info.annotation) else sent
    kept = _adapter(info).validate_python(value)
    assert kept in ("Cracked screen\n  and box", ["Cracked screen\n  and box"])


@pytest.mark.parametrize(
    "blank", ["\u200b\u200b", "\ufeff", " \u2060 ", "\u3164", "\u2800", "\u00a0\u2003"]
)
def test_text_that_shows_nothing_is_blank(blank: str) -> None:
    assert TypeAdapter(Text).validate_python("\u200bok") == "\u200bok"
    with pytest.raises(ValidationError, match="whitespace"):
        TypeAdapter(Text).validate_python(blank)


def test_the_exemptions_still_name_fields_that_exist() -> None:
    assert {f[:3] for f in FIELDS} >= NOT_TEXT


@pytest.mark.parametrize(("value", "kept"), [(0, False), (-1, False), (1, True), (10**6, True)])
def test_a_measured_weight_is_at_least_one_gram(value: int, kept: bool) -> None:
    adapter: TypeAdapter[int] = TypeAdapter(MeasuredGrams)
    if kept:
        assert adapter.validate_python(value) == value
    else:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)


@pytest.mark.parametrize("text", ["It weighed 0 g", "weight: 0.3 g", "0 kg"])
def test_a_reply_stating_a_weight_of_nothing_states_none(text: str) -> None:
    mail = InboundEmail(
        message_id="m", sender="s@example.com", recipients=[], subject="", text=text
    )
    assert mail.stated_weight_g() is None


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "http://cdn.example.com/a.jpg",
        "https://u:p@cdn.example.com/a.jpg",
        "https://127.0.0.1/a.jpg",
        "https://localhost/a.jpg",
        "data:image/png;base64,AAAA",
    ],
)
def test_a_partner_photo_link_is_held_to_the_evidence_rule(link: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Url).validate_python(link)


def test_a_partner_photo_link_on_the_web_is_kept() -> None:
    link = "https://cdn.swiftship.example/qc/SS100200300-1.jpg"
    assert TypeAdapter(Url).validate_python(link) == link


def test_a_query_parameter_of_lists_takes_many() -> None:
    from fastapi import Query

    assert takes_many(Annotated[list[str] | None, Query()])
    assert not takes_many(Annotated[int | None, Query(ge=1)])
    assert not takes_many(str)
