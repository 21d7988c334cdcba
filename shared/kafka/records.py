"""An envelope as a consumer receives it from the broker, for feeding a `ConsumerRunner` without
one: the tests of the runner and its batches, and the consumer benchmarks, build their records
here so they all see the same headers, key and sizes a real fetch would carry."""

from __future__ import annotations

from aiokafka import ConsumerRecord

from shared.envelope import Envelope


def consumer_record(
    envelope: Envelope,
    *,
    topic: str,
    offset: int,
    partition: int = 0,
) -> ConsumerRecord[bytes, bytes]:
    """The record a poll would hand over for `envelope` at `offset` of `topic`/`partition`:
    its JSON value, its key and its CloudEvents headers."""
    value, key = envelope.value(), envelope.key.encode()
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=tuple(envelope.headers()),
    )
