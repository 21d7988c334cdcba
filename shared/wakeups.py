"""Wake-ups from PostgreSQL, so that idle loops sleep instead of polling.

A row trigger NOTIFYs a channel when rows a loop waits for are written (outbox rows, messages
to send, pending timers), and one LISTEN connection per process sets an asyncio.Event per
channel. A loop waits for its event or for the next due time it knows of, whichever comes first,
with a long safety interval on top. Notifications are only a hint: every loop still claims its
rows with SKIP LOCKED, so a lost or doubled notification costs a round, never a row. Every
replica listens, so work committed by one replica wakes all of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "disputedesk_outbox"
MESSAGES_CHANNEL = "disputedesk_messages"
TIMERS_CHANNEL = "disputedesk_timers"
# Reconciliation's debit notices to partners (due to be posted, or their contest window open)
# and its cross-team tasks (open and not yet alerted as overdue).
NOTICES_CHANNEL = "disputedesk_notices"
TASKS_CHANNEL = "disputedesk_tasks"
# Intake's partner registry (partners and their secrets): each replica's partner directory
# forgets its cached entries when it hears this.
PARTNERS_CHANNEL = "disputedesk_partners"

# One trigger function for every table: it notifies the channel given as trigger argument.
_FUNCTION = "disputedesk_notify_channel"


def notify_trigger_ddl(
    table: str, channel: str, *, events: str = "INSERT", when: str | None = None
) -> list[str]:
    """Statements a migration runs to make writes to `table` (rows matching `when`) notify
    `channel`, once per transaction however many rows: PostgreSQL folds identical
    notifications of a transaction. A row trigger, not a statement trigger: those fire for
    statements that change nothing, and a loop's own empty claim would wake it again."""
    return [
        f"""
        CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_ARGV[0], '');
            RETURN NULL;
        END $$
        """,
        f"DROP TRIGGER IF EXISTS {table}_notify ON {table}",
        f"CREATE TRIGGER {table}_notify AFTER {events} ON {table} FOR EACH ROW "
        + (f"WHEN ({when}) " if when else "")
        + f"EXECUTE FUNCTION {_FUNCTION}('{channel}')",
    ]


def notify_per_statement_ddl(table: str, channel: str) -> list[str]:
    """`notify_trigger_ddl` for a table that only writers with rows insert into (an outbox): one
    trigger call per INSERT statement instead of one per row. Reconciliation inserts a consumer
    batch's thousand outbox rows in one statement, and each row's call of the plpgsql function
    cost PostgreSQL about 7 µs. For a table that a waiting loop itself writes, or whose rows must
    match a condition, keep the row trigger: a statement trigger fires for a statement that
    changes nothing."""
    return [
        *notify_trigger_ddl(table, channel)[:2],  # the shared function; the old trigger dropped
        f"CREATE TRIGGER {table}_notify AFTER INSERT ON {table} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {_FUNCTION}('{channel}')",
    ]


def drop_notify_trigger_ddl(table: str, *, last: bool) -> list[str]:
    """The downgrade of `notify_trigger_ddl`; `last` also drops the shared function."""
    statements = [f"DROP TRIGGER IF EXISTS {table}_notify ON {table}"]
    if last:
        statements.append(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
    return statements


def _asyncpg_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


class Wakeups:
    """The process's LISTEN connection and an event per channel."""

    def __init__(self, database_url: str, *, max_backoff_s: float = 10.0) -> None:
        self.dsn = _asyncpg_dsn(database_url)
        self.max_backoff_s = max_backoff_s
        self._events: dict[str, list[asyncio.Event]] = defaultdict(list)
        self._callbacks: dict[str, list[Callable[[], None]]] = defaultdict(list)
        self._connection: asyncpg.Connection | None = None
        self.connected = asyncio.Event()

    def event(self, channel: str) -> asyncio.Event:
        """A new event of the caller's own (one per waiting loop), set by each notification of
        `channel` and at every (re)connection, for what was written while nobody listened."""
        event = asyncio.Event()
        self._subscribe(channel)
        self._events[channel].append(event)
        return event

    def on(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` at each notification of `channel`."""
        self._subscribe(channel)
        self._callbacks[channel].append(callback)

    def _subscribe(self, channel: str) -> None:
        new = channel not in self._events and channel not in self._callbacks
        if new and self._connection is not None and not self._connection.is_closed():
            asyncio.get_running_loop().create_task(self._listen_late(self._connection, channel))

    def _channels(self) -> list[str]:
        return list(dict.fromkeys([*self._events, *self._callbacks]))

    def _fire(self, channel: str) -> None:
        for event in self._events.get(channel, []):
            event.set()
        for callback in self._callbacks.get(channel, []):
            callback()

    def _notified(self, _conn: Any, _pid: int, channel: str, _payload: str) -> None:
        self._fire(channel)

    async def _listen(self, connection: asyncpg.Connection, channel: str) -> None:
        await connection.add_listener(channel, self._notified)

    async def _listen_late(self, connection: asyncpg.Connection, channel: str) -> None:
        """A channel subscribed to while connected: listened to, then fired once, as at a
        (re)connection, for what was written before the LISTEN took effect."""
        await self._listen(connection, channel)
        self._fire(channel)

    async def run(self) -> None:
        """Keep a LISTEN connection open, reconnecting with backoff while the database is away."""
        backoff = 0.5
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self.dsn, timeout=10)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: loops fall back on their safety interval
                log.warning("LISTEN connection failed, retrying in %.1fs: %r", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            backoff = 0.5
            connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
            try:
                # Until no channel is left unlistened: one subscribed while these LISTENs were
                # sent saw no connection to listen on, and nothing after this would listen to it.
                listened: set[str] = set()
                while pending := [c for c in self._channels() if c not in listened]:
                    for channel in pending:
                        await self._listen(connection, channel)
                        listened.add(channel)
                self._connection = connection
                self.connected.set()
                # Whatever was written while nobody listened is found by one round now.
                for channel in self._channels():
                    self._fire(channel)
                await lost.wait()
                log.warning("LISTEN connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection failed: %r", exc)
                await asyncio.sleep(backoff)
            finally:
                self.connected.clear()
                self._connection = None
                if not connection.is_closed():
                    connection.terminate()


async def wait_for_wakeup(event: asyncio.Event, timeout_s: float) -> None:
    """Until `event` is set or `timeout_s` passed; clears it, so what is notified during the
    round that follows wakes the next wait at once."""
    if timeout_s > 0:
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            pass
    event.clear()


def seconds_until(due: datetime | None, now: datetime, *, at_most_s: float) -> float:
    """How long to sleep before `due` (None: nothing due), at most `at_most_s`. A due time
    already past after a round that found nothing is a row another worker holds (a notice
    being posted, a case being decided): it stays due until that worker commits, so look
    again in a second rather than spin on it."""
    if due is None:
        return at_most_s
    left = (due - now).total_seconds()
    return min(at_most_s, 1.0 if left <= 0 else max(0.1, left))


async def run_when_due(
    work: Callable[[], Awaitable[bool]],
    next_due: Callable[[], Awaitable[datetime | None]],
    *,
    now: Callable[[], datetime],
    wakeup: asyncio.Event | None,
    at_most_s: float,
    what: str,
) -> None:
    """A background loop that sleeps instead of polling. `work` is one round (true when it did
    something: another round follows at once). Otherwise the loop sleeps until the next due
    time `next_due` reads, or until `wakeup` is set (its table's NOTIFY: a row written that
    may be due earlier), at most `at_most_s`. Without `wakeup` it polls every `at_most_s`. A
    failed round (the database away) is logged and tried again after the sleep; the LISTEN
    connection's return sets every event, so that is soon after the database is back."""
    while True:
        sleep_s = at_most_s
        try:
            if await work():
                continue
            if wakeup is not None:
                sleep_s = seconds_until(await next_due(), now(), at_most_s=at_most_s)
        except asyncio.CancelledError:
            raise
        except Exception:  # the rows stay as they are; the next round finds them
            log.warning("%s round failed", what, exc_info=True)
        if wakeup is None:
            await asyncio.sleep(sleep_s)
        else:
            await wait_for_wakeup(wakeup, sleep_s)
