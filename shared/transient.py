"""Which failures are worth retrying: a database or broker that is away for a moment, as
opposed to a request or event that can never succeed. Consumers retry the first kind forever
and dead-letter the second; HTTP answers the first kind with 503 and Retry-After."""

from __future__ import annotations

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


def is_refused_value(exc: BaseException) -> bool:
    """A value the database refused as data (SQLSTATE class 22: out of range, untranslatable
    character, bad text representation, or asyncpg refusing to encode a parameter), or one
    too large for Python's date and integer arithmetic: never worth retrying."""
    if isinstance(exc, OverflowError):
        return True
    return any(
        # asyncpg's DataError (also raised when it cannot encode a parameter) carries 22000.
        isinstance(e, WrappedDataError) or str(getattr(e, "sqlstate", "") or "").startswith("22")
        for e in _database_errors(exc)
    )


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
