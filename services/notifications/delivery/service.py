"""The dispatcher: claim due messages under a lease, send them outside any transaction, then
record each result (attempt row, message state, NotificationSent/Failed event) in one commit.

A dispatcher that dies mid-send leaves its messages `sending` until the lease runs out; another
round then sends them again with the same Message-ID, so a receiving server can drop the copy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications import metrics
from services.notifications.channels.base import (
    Attachment,
    Channel,
    DeliveryError,
    OutgoingMessage,
)
from services.notifications.delivery import repository
from services.notifications.delivery.backoff import next_attempt_at
from services.notifications.models import DeliveryAttempt, Message, Outbox, Suppression
from services.notifications.reply_tokens import reply_address
from services.notifications.settings import NotificationsSettings
from shared.clock import Clock
from shared.events import NotificationFailed, NotificationSent
from shared.outbox import enqueue
from shared.wakeups import wait_for_wakeup

log = logging.getLogger(__name__)
SOURCE = "disputedesk/notifications"
SUPPRESSED_ERROR = "the recipient address is on the suppression list"


def _outgoing(message: Message, settings: NotificationsSettings) -> OutgoingMessage:
    reply_to = None
    if message.audience == "seller" and message.case_id and message.seller_id:
        # A reply comes back to this case and this seller only (reply_tokens.py).
        reply_to = reply_address(
            message.case_id,
            message.seller_id,
            key=settings.reply_token_key,
            domain=settings.reply_domain,
        )
    return OutgoingMessage(
        message.message_id,
        message.recipient,
        message.subject,
        message.body_text,
        message.body_html,
        message.traceparent,
        reply_to=reply_to,
        thread=message.case_id if message.audience == "seller" else None,
        attachments=tuple(
            Attachment(a["filename"], a["content_type"], a["content"])
            for a in message.attachments or ()
        ),
    )


def _chunks(items: list[Message], n: int) -> list[list[Message]]:
    n = max(1, min(n, len(items)))
    return [items[i::n] for i in range(n) if items[i::n]]


@dataclass
class _Lease:
    """Until when a round holds the messages it claimed; moved on as the round renews it."""

    until: datetime


@dataclass
class Dispatcher:
    sessionmaker: async_sessionmaker[AsyncSession]
    channel: Channel
    settings: NotificationsSettings
    clock: Clock
    on_recorded: Callable[[], None] | None = None

    # The process's workers take turns to wait for a wake-up and claim: a NOTIFY costs one
    # claim, not one per worker, and a worker sends while another waits for the next.
    # `_next_due` and `_due_now` are what the last claim said, whichever worker made it.
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _next_due: datetime | None = field(default=None, init=False)
    _due_now: bool = field(default=True, init=False)  # the first round claims at once

    def seconds_to_next_due(self, due: datetime | None, at_most: float) -> float:
        """How long to sleep after a claim that said the next message falls due at `due`
        (None: no message waits), at most `at_most`."""
        if due is None:
            return at_most
        # Not below 0.05 s: a due message another worker holds stays due until it commits.
        return min(at_most, max(0.05, (due - self.clock.now()).total_seconds()))

    async def claim(self) -> repository.Claim:
        """Take what is due now under a lease: one statement (`repository.claim_due`)."""
        s = self.settings
        now = self.clock.now()
        claim = await repository.claim_due(
            self.sessionmaker,
            now=now,
            lease_until=now + timedelta(seconds=s.dispatch_lease_s),
            limit=s.dispatch_batch_size,
        )
        self._next_due = claim.next_due
        self._due_now = len(claim.messages) >= s.dispatch_batch_size
        return claim

    async def claim_when_due(
        self, *, poll_interval_s: float, wakeup: asyncio.Event | None
    ) -> repository.Claim:
        """A worker's turn: wait until a message falls due by the last claim's word or a
        wake-up comes (without `wakeup`, `poll_interval_s`), then claim. One worker of the
        process waits and claims at a time; the others queue for their turn."""
        async with self._turn:
            if not self._due_now:
                if wakeup is None:
                    await asyncio.sleep(poll_interval_s)
                else:
                    await wait_for_wakeup(
                        wakeup, self.seconds_to_next_due(self._next_due, poll_interval_s)
                    )
            try:
                return await self.claim()
            except BaseException:
                self._due_now = True  # the next turn tries again at once (after its backoff)
                raise

    async def deliver(self, claim: repository.Claim) -> None:
        """Send the claimed messages outside any transaction, then record each result."""
        s = self.settings
        claimed = claim.messages
        lease_until = claim.lease_until
        if not claimed:
            return
        blocked = claim.suppressed
        to_send = [m for m in claimed if m.message_id not in blocked]

        results: dict[UUID, DeliveryError | None] = {}
        lease = _Lease(lease_until)
        if to_send:
            # A slow relay or a big batch can take longer than the lease: renew it while the
            # round sends, or another round would take the messages over and send them again.
            stop = asyncio.Event()
            keeper = asyncio.create_task(
                self._keep_leased([m.message_id for m in claimed], lease, stop)
            )
            try:
                chunks = _chunks(to_send, s.dispatch_connections)
                outcomes = await asyncio.gather(
                    *(self.channel.send_many([_outgoing(m, s) for m in chunk]) for chunk in chunks)
                )
            finally:
                stop.set()
                await keeper
            for chunk, chunk_results in zip(chunks, outcomes, strict=True):
                for message, result in zip(chunk, chunk_results, strict=True):
                    results[message.message_id] = result

        done_at = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            # Only messages still under our lease: one whose lease ran out may have been taken
            # over by another round, whose result is the one to keep.
            owned = await repository.still_leased(
                session, [m.message_id for m in claimed], lease_until=lease.until
            )
            attempts: list[dict[str, Any]] = []
            recorded: list[Message] = []
            for message in claimed:
                if message.message_id not in owned:
                    continue
                if message.message_id in blocked:
                    self._record_suppressed(session, message, done_at, attempts)
                else:
                    await self._record(
                        session, message, results.get(message.message_id), done_at, attempts
                    )
                recorded.append(message)
            # Two executemany statements for the whole batch (compiled once, cached) instead
            # of a unit-of-work flush per row.
            if recorded:
                await session.execute(
                    update(Message),
                    [
                        {
                            "message_id": m.message_id,
                            "status": m.status,
                            "attempts": m.attempts,
                            "lease_until": None,
                            "next_attempt_at": m.next_attempt_at,
                            "last_error": m.last_error,
                            "sent_at": m.sent_at,
                        }
                        for m in recorded
                    ],
                )
                await session.execute(insert(DeliveryAttempt), attempts)
        if self.on_recorded is not None:
            self.on_recorded()

    async def _keep_leased(
        self, message_ids: list[UUID], lease: _Lease, stop: asyncio.Event
    ) -> None:
        """Renew the round's lease every third of its length until `stop` is set. A dispatcher
        that dies stops renewing, so its messages still fall due to another one in time."""
        period = self.settings.dispatch_lease_s / 3
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=period)
                return
            except TimeoutError:
                pass
            until = self.clock.now() + timedelta(seconds=self.settings.dispatch_lease_s)
            try:
                async with self.sessionmaker() as session, session.begin():
                    await repository.renew_lease(
                        session, message_ids, held=lease.until, until=until
                    )
            except Exception:  # the next period tries again; the lease still runs meanwhile
                log.warning("renewing a delivery lease failed", exc_info=True)
                continue
            lease.until = until

    # -- recording results ---------------------------------------------------------------

    def _attempt(
        self,
        attempts: list[dict[str, Any]],
        message: Message,
        *,
        outcome: str,
        at: datetime,
        code: int | None = None,
        error: str | None = None,
        next_at: datetime | None = None,
    ) -> None:
        message.attempts += 1
        attempts.append(
            {
                "message_id": message.message_id,
                "attempt": message.attempts,
                "outcome": outcome,
                "code": code,
                "error": error,
                "attempted_at": at,
                "next_attempt_at": next_at,
            }
        )
        metrics.NOTIFICATIONS.labels(message.template, outcome).inc()

    async def _record(
        self,
        session: AsyncSession,
        message: Message,
        error: DeliveryError | None,
        at: datetime,
        attempts: list[dict[str, Any]],
    ) -> None:
        """Decide the message's next state from the result (the caller writes it)."""
        if error is None:
            self._attempt(attempts, message, outcome="sent", at=at, code=250)
            message.status = "sent"
            message.sent_at = at
            message.last_error = None
            enqueue(
                session,
                Outbox,
                NotificationSent(
                    **_outcome_fields(message),
                    subject=message.subject,
                    attempts=message.attempts,
                    sent_at=at,
                ),
                source=SOURCE,
            )
            if log.isEnabledFor(logging.INFO):  # skip building the fields when not logged
                log.info("message sent", extra=_log_fields(message))
            return

        s = self.settings
        message.last_error = str(error)
        exhausted = message.attempts + 1 >= s.max_attempts
        if not error.permanent and not exhausted:
            next_at = next_attempt_at(
                at,
                message.attempts + 1,
                base_s=s.retry_base_delay_s,
                max_s=s.retry_max_delay_s,
                jitter=s.retry_jitter,
            )
            self._attempt(
                attempts,
                message,
                outcome="retried",
                at=at,
                code=error.code,
                error=str(error),
                next_at=next_at,
            )
            message.status = "pending"
            message.next_attempt_at = next_at
            log.warning(
                "temporary delivery failure, will retry",
                extra={
                    **_log_fields(message),
                    "code": error.code,
                    "error": str(error),
                    "next_attempt_at": next_at.isoformat(),
                },
            )
            return

        self._attempt(attempts, message, outcome="failed", at=at, code=error.code, error=str(error))
        message.status = "failed"
        if error.hard_bounce:
            await session.execute(
                pg_insert(Suppression)
                .values(
                    address_hash=message.recipient_hash,
                    reason="hard_bounce",
                    detail=str(error)[:500],
                    source_message_id=message.message_id,
                    created_by="system",
                )
                .on_conflict_do_nothing(index_elements=["address_hash"])
            )
        self._failed_event(session, message, str(error), permanent=error.permanent, at=at)
        log.warning(
            "delivery failed for good" if error.permanent else "delivery attempts exhausted",
            extra={
                **_log_fields(message),
                "code": error.code,
                "error": str(error),
                "hard_bounce": error.hard_bounce,
            },
        )

    def _record_suppressed(
        self,
        session: AsyncSession,
        message: Message,
        at: datetime,
        attempts: list[dict[str, Any]],
    ) -> None:
        self._attempt(attempts, message, outcome="suppressed", at=at, error=SUPPRESSED_ERROR)
        message.status = "suppressed"
        message.last_error = SUPPRESSED_ERROR
        self._failed_event(session, message, SUPPRESSED_ERROR, permanent=True, at=at)
        log.info("message not sent: recipient suppressed", extra=_log_fields(message))

    def _failed_event(
        self,
        session: AsyncSession,
        message: Message,
        error: str,
        *,
        permanent: bool,
        at: datetime,
    ) -> None:
        enqueue(
            session,
            Outbox,
            NotificationFailed(
                **_outcome_fields(message),
                attempts=max(message.attempts, 1),
                error=error,
                permanent=permanent,
                failed_at=at,
            ),
            source=SOURCE,
        )


def _outcome_fields(message: Message) -> dict[str, Any]:
    """What a sent and a failed delivery both say of their message (NotificationEventBase but
    `attempts`, which each counts its own way)."""
    return {
        "message_id": message.message_id,
        "subject_key": _subject_key(message),
        "case_id": message.case_id,
        "return_id": message.return_id,
        "seller_id": message.seller_id,
        "template": message.template,
        "case_version": message.case_version,
    }


def _subject_key(message: Message) -> str:
    return message.subject_key or message.return_id or message.seller_id or str(message.message_id)


def _log_fields(message: Message) -> dict[str, object]:
    # Never the recipient: addresses are PII.
    return {
        "message_id": str(message.message_id),
        "template": message.template,
        "case_id": message.case_id,
        "attempt": message.attempts,
    }


async def run_dispatcher(
    dispatcher: Dispatcher, *, poll_interval_s: float, wakeup: asyncio.Event | None = None
) -> None:
    """A worker: claims in its turn (`Dispatcher.claim_when_due`), then sends what it claimed
    while the next worker waits. Between claims the waiting worker sleeps until the next
    message falls due or `wakeup` is set (the messages table's NOTIFY: one queued, released or
    rescheduled), at most `poll_interval_s`; without `wakeup`, `poll_interval_s` exactly."""
    backoff = 0.5
    while True:
        try:
            claim = await dispatcher.claim_when_due(poll_interval_s=poll_interval_s, wakeup=wakeup)
            await dispatcher.deliver(claim)
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # database away: claimed rows wait for their lease to run out
            log.warning("dispatcher round failed, retrying in %.1fs: %r", backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
