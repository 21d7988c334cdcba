"""`shared.ids.uuid4` gives what `uuid.uuid4()` gives: a version 4 UUID of the RFC 4122 variant
that behaves as any `UUID` (equality, hashing, ordering, text, pickling), and ids that differ."""

from __future__ import annotations

import pickle
import uuid

from shared.ids import uuid4


def test_a_version_4_uuid_of_the_rfc_4122_variant() -> None:
    for _ in range(2000):
        made = uuid4()
        assert type(made) is uuid.UUID
        assert made.version == 4
        assert made.variant == uuid.RFC_4122
        assert made.is_safe is uuid.SafeUUID.unknown


def test_it_behaves_as_a_uuid_parsed_from_its_text() -> None:
    made = uuid4()
    parsed = uuid.UUID(str(made))
    assert made == parsed and hash(made) == hash(parsed)
    assert made.bytes == parsed.bytes and made.hex == parsed.hex
    assert pickle.loads(pickle.dumps(made)) == made
    assert sorted([made, parsed, uuid.UUID(int=0)])[0] == uuid.UUID(int=0)


def test_ids_differ_and_use_the_random_bits() -> None:
    made = [uuid4() for _ in range(5000)]
    assert len(set(made)) == len(made)
    # Every one of the 122 random bits is set in some id and clear in another.
    fixed = (0xF000 << 64) | (0xC000 << 48)
    ones = zeros = 0
    for u in made:
        ones |= u.int
        zeros |= ~u.int
    random_bits = ((1 << 128) - 1) & ~fixed
    assert ones & random_bits == random_bits
    assert zeros & random_bits == random_bits
