"""The relay's partition of a key is the one `AIOKafkaProducer.send` would choose
(`DefaultPartitioner`): a key's events land on one partition whichever way they were sent."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner

from shared.outbox import partition_for


def test_every_key_goes_where_the_default_partitioner_sends_it() -> None:
    rng = random.Random(20)
    keys = [f"RET-{rng.getrandbits(48):012x}".encode() for _ in range(500)]
    keys += [b"", b"S-1", "Zoë-₹".encode(), bytes(range(256))]
    partitioner = DefaultPartitioner()
    for count in (1, 2, 3, 6, 7, 12, 50):
        partitions = list(range(count))
        for key in keys:
            # Twice: the second answer comes from the kept hash.
            expected = partitioner(key, partitions, partitions)
            assert partition_for(key, partitions) == expected
            assert partition_for(key, partitions) == expected
