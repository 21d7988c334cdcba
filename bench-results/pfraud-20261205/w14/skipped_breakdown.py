"""Where a notifications case event that leads to no email spends its ~10 µs in the consumer
runner: the CloudEvents headers (`_wanted`'s scan, `header_map`, the id and time parsed), the
payload's JSON validation, and the handlers' `acts_on` predicate. Process CPU per event over the
notifications stream's skipped events (bench/consumer_cpu.py), 20 passes. Run from a checkout."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from pathlib import Path
from uuid import UUID

sys.path[0] = str(Path.cwd())
sys.path.insert(1, str(Path.cwd() / "bench"))
import consumer_cpu  # noqa: E402

from disputedesk import credentials  # noqa: E402

for key, value in credentials.development_at_rest_keys().items():
    os.environ.setdefault(key, value)

from services.notifications.messages.handlers import build_handlers  # noqa: E402
from services.notifications.settings import NotificationsSettings  # noqa: E402
from shared.clock import SystemClock  # noqa: E402
from shared.envelope import Envelope, decode_envelope, decode_payload, header_map  # noqa: E402
from shared.keys import PII_PRIVATE_KEYS, load_key_list  # noqa: E402
from shared.kafka.records import consumer_record  # noqa: E402
from shared.pii import ContactOpener  # noqa: E402

handlers = build_handlers(
    NotificationsSettings(),
    SystemClock(),
    ContactOpener(load_key_list(PII_PRIVATE_KEYS, purpose="bench")),
)
records = []
for event in consumer_cpu._notification_events(400):
    env = Envelope(event, source="bench")
    if not handlers.acts_on(env):
        records.append(consumer_record(env, topic="bench", offset=len(records)))
PASSES = 20


def timed(step) -> float:  # type: ignore[no-untyped-def]
    began = time.process_time()
    for _ in range(PASSES):
        for r in records:
            step(r)
    return 1e6 * (time.process_time() - began) / (PASSES * len(records))


def headers_only(r):  # type: ignore[no-untyped-def]
    h = header_map(r.headers)
    UUID(h["ce_id"])
    datetime.fromisoformat(h["ce_time"])


def validation_only(r):  # type: ignore[no-untyped-def]
    decode_payload(header_map(r.headers)["ce_type"], r.value)


def whole(r):  # type: ignore[no-untyped-def]
    handlers.acts_on(decode_envelope(header_map(r.headers), r.value))


print(f"{len(records)} skipped events ({len(records) / 2400:.0%} of the stream)")
for name, step in (("headers", headers_only), ("validation", validation_only), ("decode + acts_on", whole)):
    print(f"{name:>18}: {timed(step):.2f} µs per event")
