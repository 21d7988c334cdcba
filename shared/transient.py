"""Which failures are worth retrying: a database or broker that is away for a moment, as
opposed to a request or event that can never succeed. Consumers retry the first kind forever
and dead-letter the second; HTTP answers the first kind with 503 and Retry-After."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DataError as WrappedDataError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class PermanentError(Exception):
    """A handler's way of saying "this event can never be handled": dead-letter it at once."""


# SQLSTATEs that say "the database cannot serve right now", never "this event is bad":
# connection exceptions (08), insufficient resources (53), operator intervention such as a
# shutdown or a server still starting (57P), serialization failures and deadlocks (40001, 40P01).
_TRANSIENT_SQLSTATES = ("08", "53", "57P", "40001", "40P01")


def _database_errors(exc: BaseException) -> list[BaseException]:
    """The exception and, for a SQLAlchemy DBAPIError, the driver errors it wraps: SQLAlchemy
    wraps asyncpg's error in its adapted `Error` (carrying the SQLSTATE), raised from the
    asyncpg error itself."""
    errors = [exc]
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        errors.append(exc.orig)
        if exc.orig.__cause__ is not None:
            errors.append(exc.orig.__cause__)
    return errors


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, PermanentError):
        return False
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    # Code ahead of its schema: a consumer waits for the migration (retrying with backoff)
    # rather than dead-lettering every event that meets the missing table or function.
    if schema_behind(exc):
        return True
    # Every pooled connection busy for the whole checkout timeout: the service is overloaded
    # for a moment, nothing was stored, and the same request will succeed later.
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    for error in _database_errors(exc):
        if isinstance(error, ConnectionError | TimeoutError | OSError | KafkaError):
            return True
        # A database going down or coming up answers connection attempts with "the database
        # system is shutting down / starting up" (57P03), which SQLAlchemy wraps in a plain
        # DBAPIError that is not marked invalidated: retried, not dead-lettered.
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATES):
            return True
        # asyncpg raises these outside SQLAlchemy's wrapping when a connection dies mid-flight.
        if type(error).__name__ in {
            "ConnectionDoesNotExistError",
            "CannotConnectNowError",
            "ConnectionFailureError",
        }:
            return True
    return False


# A table, column or function the statement names is not in the database (42P01, 42703, 42883):
# the code runs ahead of its schema (deployed before `disputedesk migrate`, or the schema rolled
# back under it). Nothing was stored, the caller's request was fine, and it will succeed once the
# operator migrates.
_SCHEMA_BEHIND_SQLSTATES = frozenset({"42P01", "42703", "42883"})


def schema_behind(exc: BaseException) -> str | None:
    """The SQLSTATE of a statement that needs schema the database lacks, or None."""
    for error in _database_errors(exc):
        sqlstate = getattr(error, "sqlstate", None)
        if sqlstate in _SCHEMA_BEHIND_SQLSTATES:
            return str(sqlstate)
    return None


# Unique and exclusion violations (23505, 23P01): two requests stored the same thing at the same
# moment and the database let one through. The other stored nothing, and run again it would meet
# the winner's row through the service's own checks.
_CONCURRENT_DUPLICATE_SQLSTATES = frozenset({"23505", "23P01"})


def concurrent_duplicate_constraint(exc: BaseException) -> str | None:
    """The constraint a concurrent duplicate ran into, or None when `exc` is no such thing."""
    errors = _database_errors(exc)
    if not any(getattr(e, "sqlstate", None) in _CONCURRENT_DUPLICATE_SQLSTATES for e in errors):
        return None
    # asyncpg's own error names the constraint; SQLAlchemy's adapted one carries the SQLSTATE.
    names = (getattr(e, "constraint_name", None) for e in errors)
    return next((str(n) for n in names if n), "unnamed")


def concurrent_duplicate_field(exc: BaseException) -> str:
    """The columns of the unique key a concurrent duplicate ran into (`version`,
    `client_id, key`), read from the key's names in asyncpg's detail and never its values;
    "request" when the detail names none (SQLAlchemy's adapted error has no detail)."""
    for error in _database_errors(exc):
        if found := _FOREIGN_KEY_COLUMNS.search(str(getattr(error, "detail", None) or "")):
            return found.group(1)
    return "request"


# What PostgreSQL refused a request's value for, by SQLSTATE (class 23 less the concurrent
# duplicates above, and class 22), in words a caller can act on. Never the database's own message:
# it quotes the refused values, which may be personal data.
_REFUSALS = {
    "23502": "is required, and was missing or null",
    "23503": "refers to something that does not exist (or no longer does)",
    "23514": "is outside what is allowed",
    "22001": "is longer than can be stored",
    "22003": "is a number out of range",
    "22007": "is not a valid date or time",
    "22008": "is a date or time out of range",
    "22012": "leads to a division by zero",
    "22021": "holds a character that cannot be stored (such as NUL)",
    "22P02": "is not in the form expected",
    "22P05": "holds a character that cannot be stored (such as NUL)",
}
_FOREIGN_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")


@dataclass(frozen=True)
class RefusedValue:
    """A request's value the database refused, named without quoting it."""

    sqlstate: str
    field: str  # the column (a request's field of the same name), or "request" when unnamed
    message: str


def refused_value(exc: BaseException) -> RefusedValue | None:
    """Why the database (or date and integer arithmetic) refused a value of the request: a
    constraint violated (SQLSTATE class 23 other than a concurrent duplicate: a missing value,
    a reference to nothing, a check) or a data exception (class 22, or asyncpg refusing to
    encode a parameter); None when `exc` is no such refusal. Never worth retrying as it is."""
    if isinstance(exc, OverflowError):
        return RefusedValue("22008", "request", "holds a date or number out of range")
    errors = _database_errors(exc)

    def said(attribute: str) -> str | None:
        # SQLAlchemy's adapted error carries the SQLSTATE; asyncpg's own the names and detail.
        return next((str(v) for e in errors if (v := getattr(e, attribute, None))), None)

    sqlstate = said("sqlstate") or ""
    if sqlstate.startswith(("22", "23")) and sqlstate not in _CONCURRENT_DUPLICATE_SQLSTATES:
        column = said("column_name")
        if sqlstate == "23503":
            # asyncpg keeps the referring columns only in the detail, beside the values.
            if found := _FOREIGN_KEY_COLUMNS.search(said("detail") or ""):
                column = found.group(1)
        if not column and sqlstate == "23514":
            column = said("constraint_name")
        generic = "violates a rule of what can be stored" if sqlstate[:2] == "23" else None
        message = _REFUSALS.get(sqlstate) or generic or "is a value that cannot be stored"
        return RefusedValue(sqlstate, column or "request", message)
    if any(isinstance(e, WrappedDataError) for e in errors):
        return RefusedValue("22000", "request", "is a value that cannot be stored")
    return None
