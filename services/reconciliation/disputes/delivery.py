"""Delivering debit notices: each partner's endpoint, signed with that partner's own scheme.

An outbox of its own rather than Kafka's: the receiver is the partner's HTTP server. A round
claims due notices (FOR UPDATE SKIP LOCKED), posts each one, and records the attempt whatever
happened. A 2xx delivers it and starts the contest window; anything else is retried with
exponential backoff until `notice_max_attempts`, then the notice is DEAD (the dead-letter list,
resent by hand). A notice whose endpoint is missing or disabled is PARKED, never dropped. The
same round makes uncontested notices final once their window has passed."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid5

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reconciliation import metrics
from services.reconciliation.disputes import repository
from services.reconciliation.disputes.service import (
    RULED,
    contest_by,
    endpoint_secret,
    ruling_payload,
    withdrawal_payload,
)
from services.reconciliation.models import DebitNotice, NoticeAttempt
from shared.app import ServiceRuntime
from shared.partner_signing import SigningScheme, signed_headers
from shared.wakeups import NOTICES_CHANNEL

log = logging.getLogger(__name__)

# How many rounds a process tries to find the rulings it owes before it gives up.
_RULINGS_OWED_TRIES = 3

# Disputes in which the partner is owed a message after the notice (sent in its place if the
# notice never reached it).
FOLLOW_UPS = RULED | {"WITHDRAWN"}


def backoff(attempts: int, *, base_s: float, max_s: float) -> timedelta:
    """Delay before the next try after `attempts` failed ones: base, 2×base, 4×base, … capped."""
    return timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


class NoticeHttp:
    """The partners' HTTP client, built on the first notice actually posted and closed with the
    loop. Building one loads a certificate store into an SSL context (0.13–0.20 s of CPU and
    about 7 MB on the development machine, 2026-12-04), which a desk that never sends a notice
    need not pay."""

    def __init__(self, *, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    @property
    def built(self) -> bool:
        return self._client is not None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def notice_body(session: AsyncSession, notice: DebitNotice) -> bytes:
    """What the partner is owed: the notice, or once ruled its ruling, or once withdrawn its
    withdrawal instead."""
    if notice.dispute == "WITHDRAWN":
        payload = withdrawal_payload(notice)
    elif notice.dispute in RULED:
        payload = ruling_payload(notice, await repository.contest_of(session, notice.notice_id))
    else:
        payload = notice.payload
    # Signed bytes are exactly the bytes sent: one canonical serialisation.
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def message_id(notice: DebitNotice) -> str:
    """Stable across retries, so the partner deduplicates our retries by it; the ruling and the
    withdrawal are other messages than the notice, or a partner that has the notice would drop
    them."""
    if notice.dispute == "WITHDRAWN":
        return f"msg_{uuid5(notice.notice_id, 'withdrawn').hex}"
    if notice.dispute in RULED:
        return f"msg_{uuid5(notice.notice_id, 'ruled').hex}"
    return f"msg_{notice.notice_id.hex}"


async def _deliver_one(
    session: AsyncSession,
    notice: DebitNotice,
    *,
    http: NoticeHttp,
    now: datetime,
    settings: Any,
) -> None:
    endpoint = await repository.endpoint(session, notice.partner_id)
    if endpoint is None or not endpoint.enabled:
        notice.delivery, notice.next_attempt_at = "PARKED", None
        metrics.notice_attempt(session, notice.partner_id, "parked")
        return
    body = await notice_body(session, notice)
    headers = signed_headers(
        SigningScheme(endpoint.scheme),
        secret=endpoint_secret(endpoint),
        message_id=message_id(notice),
        timestamp=int(now.timestamp()),
        body=body,
    )
    headers["content-type"] = "application/json"
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    try:
        response = await http.client().post(endpoint.url, content=body, headers=headers)
        status = response.status_code
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    session.add(
        NoticeAttempt(
            notice_id=notice.notice_id,
            attempted_at=now,
            url=endpoint.url,
            status_code=status,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
    )
    notice.attempts += 1
    if status is not None and 200 <= status < 300 and notice.dispute in FOLLOW_UPS:
        # The ruling or withdrawal reached the partner; `delivered_at` and the contest window
        # stay the notice's own (or none).
        notice.delivery, notice.next_attempt_at = "DELIVERED", None
        metrics.notice_attempt(session, notice.partner_id, "delivered")
        return
    if status is not None and 200 <= status < 300:
        notice.delivery, notice.delivered_at, notice.next_attempt_at = "DELIVERED", now, None
        # The window opens when the partner has the notice in hand, not when we wrote it.
        notice.contest_by = contest_by(now, notice.contest_window_days)
        metrics.notice_attempt(session, notice.partner_id, "delivered")
        return
    if notice.attempts >= settings.notice_max_attempts:
        notice.delivery, notice.next_attempt_at = "DEAD", None
        metrics.notice_attempt(session, notice.partner_id, "dead")
        log.warning(
            "debit notice dead-lettered",
            extra={"notice_id": str(notice.notice_id), "partner_id": notice.partner_id},
        )
        return
    metrics.notice_attempt(session, notice.partner_id, "retried")
    notice.next_attempt_at = now + backoff(
        notice.attempts,
        base_s=settings.notice_backoff_base_s,
        max_s=settings.notice_backoff_max_s,
    )


async def deliver_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    http: NoticeHttp,
    now: datetime,
    settings: Any,
) -> int:
    """One round: deliver what is due (one transaction per notice), then finalise expired
    windows. Returns how many notices were attempted or finalised."""
    done = 0
    async with sessionmaker() as session, session.begin():
        ids = [n.notice_id for n in await repository.claim_due(session, now=now, limit=50)]
    for notice_id in ids:
        async with sessionmaker() as session, session.begin():
            notice = await repository.notice(session, notice_id, lock=True)
            due = notice is not None and (
                notice.next_attempt_at is None or notice.next_attempt_at <= now
            )
            if notice is None or notice.delivery != "PENDING" or not due:
                # Another replica delivered it, parked it, or tried it and set its next
                # attempt while this round waited for the lock: not due any more.
                continue
            await _deliver_one(session, notice, http=http, now=now, settings=settings)
            done += 1
    async with sessionmaker() as session, session.begin():
        done += await repository.finalize_expired(session, now=now)
    return done


async def owe_unsent_rulings(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime
) -> int:
    """A partner learns a ruling from its endpoint, the channel it reads notices from; notices
    ruled before rulings were sent got none. Rather than leave those partners to find the
    ruling by reading each notice with their key (one that reads its webhooks only never
    would), the delivery loop queues every ruling not attempted since it was made, as a new
    ruling is queued; it is sent under the ruling's own message id."""
    async with sessionmaker() as session, session.begin():
        owed = await repository.owe_unsent_rulings(session, rulings=RULED, now=now)
    if owed:
        log.info(
            "rulings made before they were sent queued for their partners", extra={"notices": owed}
        )
    return owed


async def notice_loop(runtime: ServiceRuntime) -> None:
    """Background loop of the app: deliver due notices and close expired contest windows, then
    sleep until the next attempt or window's end, or until a notice is written (the table's
    NOTIFY), at most `notice_poll_interval_s`."""
    settings = runtime.settings
    timeout = float(getattr(settings, "notice_timeout_s", 10.0))
    http = NoticeHttp(timeout_s=timeout)
    rulings_owed_tries = 0

    async def deliver() -> bool:
        nonlocal rulings_owed_tries
        if 0 <= rulings_owed_tries < _RULINGS_OWED_TRIES:
            # Once a process, in its first rounds: rulings made before they were sent are sent
            # now. A check that keeps failing is given up after a few rounds (and logged), never
            # holding every notice's delivery behind it.
            rulings_owed_tries += 1
            try:
                await owe_unsent_rulings(runtime.sessionmaker, now=runtime.clock.now())
                rulings_owed_tries = -1
            except Exception:
                log.warning("checking for rulings not yet sent failed", exc_info=True)
        return bool(
            await deliver_due(
                runtime.sessionmaker, http=http, now=runtime.clock.now(), settings=settings
            )
        )

    try:
        await runtime.run_when_due(
            deliver,
            repository.next_due,
            channel=NOTICES_CHANNEL,
            at_most_s=float(getattr(settings, "notice_poll_interval_s", 30.0)),
            what="notice",
        )
    finally:
        await http.aclose()
