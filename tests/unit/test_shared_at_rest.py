"""Keys from the operator, secrets encrypted at rest, sealed seller contacts: pure logic."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from shared.keys import (
    KeyConfigError,
    MissingKeyError,
    format_entry,
    load_key_list,
    parse_key_list,
)
from shared.pii import ContactOpener, ContactSealer, UnsealError, generate_pair
from shared.secretbox import SecretBox, UndecryptableError, key_id_of


def _key() -> bytes:
    return os.urandom(32)


def test_the_first_key_is_current_and_the_rest_retired() -> None:
    text = f"# rotated 2026-12\n{format_entry('k2', _key())}\n{format_entry('k1', _key())}\n"
    keys = parse_key_list(text, name="X")
    assert keys.current_id == "k2"
    assert keys.retired_ids == ["k1"]


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("k1", "<key id>:<base64 key>"),
        ("k.1:" + base64.b64encode(bytes(32)).decode(), "<key id>:<base64 key>"),
        ("k1:not base64!", "not valid base64"),
        ("k1:" + base64.b64encode(bytes(16)).decode(), "32 are needed"),
        (
            "k1:"
            + base64.b64encode(bytes(32)).decode()
            + ",k1:"
            + base64.b64encode(bytes(32)).decode(),
            "twice",
        ),
        ("# nothing\n", "no key"),
    ],
)
def test_a_bad_key_list_is_refused_without_echoing_it(text: str, complaint: str) -> None:
    with pytest.raises(KeyConfigError, match=complaint) as caught:
        parse_key_list(text, name="DISPUTEDESK_SECRETS_KEYS")
    assert "DISPUTEDESK_SECRETS_KEYS" in str(caught.value)
    assert base64.b64encode(bytes(32)).decode() not in str(caught.value)


def test_a_missing_key_names_both_ways_to_supply_it() -> None:
    with pytest.raises(MissingKeyError) as caught:
        load_key_list("DISPUTEDESK_SECRETS_KEYS", purpose="intake partner secrets", environ={})
    message = str(caught.value)
    assert "DISPUTEDESK_SECRETS_KEYS " in message and "DISPUTEDESK_SECRETS_KEYS_FILE" in message


def test_keys_come_from_a_file_or_the_variable_not_both(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(format_entry("file-key", _key()) + "\n")
    env = {"K_FILE": str(path)}
    assert load_key_list("K", purpose="p", environ=env).current_id == "file-key"
    with pytest.raises(KeyConfigError, match="not both"):
        load_key_list("K", purpose="p", environ={**env, "K": format_entry("x", _key())})
    with pytest.raises(KeyConfigError, match="cannot read"):
        load_key_list("K", purpose="p", environ={"K_FILE": str(tmp_path / "absent")})


def test_a_secret_is_stored_encrypted_and_opens_for_its_own_context_only() -> None:
    box = SecretBox(parse_key_list(format_entry("k1", _key()), name="X"))
    stored = box.encrypt("whsec_top-secret", context="partner_secret:swiftship")
    assert "top-secret" not in stored and stored.startswith("v1.k1.")
    assert box.decrypt(stored, context="partner_secret:swiftship") == "whsec_top-secret"
    with pytest.raises(UndecryptableError):
        box.decrypt(stored, context="partner_secret:desipost")
    assert box.encrypt("same", context="c") != box.encrypt("same", context="c")  # fresh nonces


def test_rotation_reads_old_values_with_a_retired_key_and_writes_with_the_current() -> None:
    old, new = _key(), _key()
    before = SecretBox(parse_key_list(format_entry("k1", old), name="X"))
    stored = before.encrypt("rr_live_abc", context="c")
    after = SecretBox(
        parse_key_list(f"{format_entry('k2', new)},{format_entry('k1', old)}", name="X")
    )
    assert after.decrypt(stored, context="c") == "rr_live_abc"
    assert after.needs_rotation(stored)
    fresh = after.encrypt("rr_live_abc", context="c")
    assert key_id_of(fresh) == "k2" and not after.needs_rotation(fresh)
    # Once the retired key is dropped, only values made with the current key open.
    dropped = SecretBox(parse_key_list(format_entry("k2", new), name="X"))
    assert dropped.decrypt(fresh, context="c") == "rr_live_abc"
    with pytest.raises(UndecryptableError, match="not in the key list"):
        dropped.decrypt(stored, context="c")


@pytest.mark.parametrize("stored", ["whsec_plain", "v1.k1.", "v1.k1.!!!", "v1.k1.AAAA"])
def test_something_that_is_not_an_encrypted_value_is_refused(stored: str) -> None:
    box = SecretBox(parse_key_list(format_entry("k1", _key()), name="X"))
    with pytest.raises(UndecryptableError):
        box.decrypt(stored, context="c")


def _pair_lists(*ids: str) -> tuple[str, str]:
    privates, publics = [], []
    for key_id in ids:
        private, public = generate_pair()
        privates.append(format_entry(key_id, private))
        publics.append(format_entry(key_id, public))
    return ",".join(privates), ",".join(publics)


def test_a_sealed_contact_hides_the_address_and_only_the_private_key_opens_it() -> None:
    privates, publics = _pair_lists("p1")
    sealer = ContactSealer.from_keys(parse_key_list(publics, name="PUB"))
    token = sealer.seal("Asha.Seller+returns@example.co.in")
    assert "@" not in token and "example" not in token and token.startswith("sc1.p1.")
    assert len(sealer.seal("a" * 64 + "@" + "b" * 185 + ".in")) <= 512
    opener = ContactOpener(parse_key_list(privates, name="PRIV"))
    assert opener.unseal(token) == "Asha.Seller+returns@example.co.in"
    other_privates, _ = _pair_lists("p1")
    with pytest.raises(UnsealError):
        ContactOpener(parse_key_list(other_privates, name="PRIV")).unseal(token)


def test_a_tampered_or_foreign_token_does_not_open() -> None:
    privates, publics = _pair_lists("p1")
    token = ContactSealer.from_keys(parse_key_list(publics, name="PUB")).seal("s@example.com")
    opener = ContactOpener(parse_key_list(privates, name="PRIV"))
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, "s@example.com", "sc1.p9." + token.split(".")[2], "sc1.p1.AAAA"):
        with pytest.raises(UnsealError):
            opener.unseal(bad)


def test_contacts_sealed_to_a_retired_pair_still_open_after_rotation() -> None:
    old_private, old_public = _pair_lists("p1")
    new_private, new_public = _pair_lists("p2")
    old_token = ContactSealer.from_keys(parse_key_list(old_public, name="PUB")).seal("a@b.in")
    new_token = ContactSealer.from_keys(parse_key_list(new_public, name="PUB")).seal("c@d.in")
    opener = ContactOpener(parse_key_list(f"{new_private},{old_private}", name="PRIV"))
    assert opener.unseal(old_token) == "a@b.in"
    assert opener.unseal(new_token) == "c@d.in"
