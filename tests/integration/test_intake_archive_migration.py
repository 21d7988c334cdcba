"""Migrations f6c1a8e2d5b3 and c4e7a2f9b1d6 keep one archived partner request per partner and
request identity: copies already stored are folded into the first received, the scans that named
a copy are pointed at it, and the unique index then refuses a second copy; it goes down and up
again."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.migrations import downgrade, upgrade
from tests.conftest import Harness
from tests.support.db import scratch_database

_INSERT = text(
    "INSERT INTO raw_requests (id, partner_id, received_at, headers, body, verdict, "
    "events_emitted) VALUES (:id, :p, :at, CAST(:h AS jsonb), :b, :v, :n)"
)


async def test_stored_copies_are_folded_into_the_first_and_a_new_copy_is_refused(
    harness: Harness,
) -> None:
    async with scratch_database(harness, "test_archive_once") as (url, engine):
        await asyncio.to_thread(upgrade, "intake", url, "e5b2c9d4a716")
        t0 = datetime(2026, 11, 24, 10, tzinfo=UTC)
        body = b'{"event": "return.odd", "awb": "SS1"}'
        ids = [uuid.uuid4() for _ in range(4)]
        async with engine.begin() as conn:
            # Three deliveries of one swiftship request, one of another webhook-id.
            for n, (raw_id, wid) in enumerate(zip(ids, ["m1", "m1", "m1", "m2"], strict=True)):
                await conn.execute(
                    _INSERT,
                    {
                        "id": raw_id,
                        "p": "swiftship",
                        "at": t0 + timedelta(seconds=n),
                        "h": json.dumps({"webhook-id": wid}),
                        "b": body,
                        "v": "unmapped",
                        "n": 1 if n == 2 else 0,
                    },
                )
            await conn.execute(
                text(
                    "INSERT INTO unmapped_scans (partner_id, partner_event_id, status, raw_ref, "
                    "seen_at) VALUES ('swiftship', 'm1', 'return.odd', :r, :at)"
                ),
                {"r": ids[2], "at": t0},
            )

        await asyncio.to_thread(upgrade, "intake", url, "f6c1a8e2d5b3")
        async with engine.begin() as conn:
            kept = (
                await conn.execute(
                    text("SELECT id, events_emitted, request_key FROM raw_requests ORDER BY 1")
                )
            ).all()
            assert sorted((r[0], r[1]) for r in kept) == sorted([(ids[0], 1), (ids[3], 0)])
            expected = hashlib.sha256(b"m1\0" + body).hexdigest()
            assert expected in {r[2] for r in kept}
            ref = await conn.execute(text("SELECT raw_ref FROM unmapped_scans"))
            assert ref.scalar_one() == ids[0]
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO raw_requests (id, partner_id, received_at, headers, body, "
                        "verdict, events_emitted, request_key) VALUES (:id, 'swiftship', :at, "
                        "'{}', :b, 'unmapped', 0, :k)"
                    ),
                    {"id": uuid.uuid4(), "at": t0, "b": body, "k": expected},
                )
            raise AssertionError("a second copy under one key was stored")
        except IntegrityError:
            pass

        await asyncio.to_thread(downgrade, "intake", url, "e5b2c9d4a716")
        await asyncio.to_thread(upgrade, "intake", url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM raw_requests"))).scalar() == 2


async def test_rows_the_common_path_stored_without_a_key_are_keyed_and_folded(
    harness: Harness,
) -> None:
    """Migration c4e7a2f9b1d6: the common webhook path archived each delivery without a key;
    those rows are keyed and folded into the first copy, a keyed one included."""
    async with scratch_database(harness, "test_archive_keyed") as (url, engine):
        await asyncio.to_thread(upgrade, "intake", url, "f6c1a8e2d5b3")
        t0 = datetime(2026, 12, 6, 19, tzinfo=UTC)
        body = b'{"events": [{"id": "e1"}]}'
        key = hashlib.sha256(b"\0" + body).hexdigest()
        ids = [uuid.uuid4() for _ in range(4)]
        async with engine.begin() as conn:
            # The first copy went the transactional path (keyed); three redeliveries did not.
            for n, raw_id in enumerate(ids):
                await conn.execute(
                    text(
                        "INSERT INTO raw_requests (id, partner_id, received_at, headers, body, "
                        "verdict, events_emitted, request_key) VALUES (:id, 'rapidroute', :at, "
                        "'{}', :b, :v, :n, :k)"
                    ),
                    {
                        "id": raw_id,
                        "at": t0 + timedelta(seconds=n),
                        "b": body,
                        "v": "accepted" if n == 0 else "duplicate",
                        "n": 1 if n in (0, 2) else 0,
                        "k": key if n == 0 else None,
                    },
                )
            other = uuid.uuid4()
            await conn.execute(
                _INSERT,
                {
                    "id": other,
                    "p": "rapidroute",
                    "at": t0,
                    "h": "{}",
                    "b": b'{"events": [{"id": "e2"}]}',
                    "v": "accepted",
                    "n": 1,
                },
            )
            await conn.execute(
                text(
                    "INSERT INTO unmapped_scans (partner_id, partner_event_id, status, raw_ref, "
                    "seen_at) VALUES ('rapidroute', 'e1', 'RXX', :r, :at)"
                ),
                {"r": ids[2], "at": t0},
            )

        await asyncio.to_thread(upgrade, "intake", url, "c4e7a2f9b1d6")
        async with engine.begin() as conn:
            kept = (
                await conn.execute(
                    text("SELECT id, events_emitted, request_key IS NOT NULL FROM raw_requests")
                )
            ).all()
            assert sorted(kept) == sorted([(ids[0], 2, True), (other, 1, True)])
            ref = await conn.execute(text("SELECT raw_ref FROM unmapped_scans"))
            assert ref.scalar_one() == ids[0]
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO raw_requests (id, partner_id, received_at, headers, body, "
                        "verdict, events_emitted, request_key) VALUES (:id, 'rapidroute', :at, "
                        "'{}', :b, 'duplicate', 0, :k)"
                    ),
                    {"id": uuid.uuid4(), "at": t0, "b": body, "k": key},
                )
            raise AssertionError("a second copy under one key was stored")
        except IntegrityError:
            pass

        await asyncio.to_thread(downgrade, "intake", url, "f6c1a8e2d5b3")
        await asyncio.to_thread(upgrade, "intake", url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM raw_requests"))).scalar() == 2
