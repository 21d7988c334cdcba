"""Which failures the consumer runner retries and which it dead-letters.

A database that is shutting down or starting up refuses connections with SQLSTATE 57P03,
which SQLAlchemy wraps in a plain DBAPIError that is not marked invalidated. Treated as a
handler failure, it dead-lettered a good event (its effect lost) whenever PostgreSQL restarted
under load; the fault drill found it.
"""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

from shared.kafka.consumer import PermanentError, is_transient
from shared.transient import concurrent_duplicate_constraint, concurrent_duplicate_field


def _as_sqlalchemy_raises_it(driver_error: Exception) -> DBAPIError:
    """asyncpg error -> SQLAlchemy's adapted Error (raised from it) -> DBAPIError."""
    try:
        try:
            raise driver_error
        except Exception as error:
            raise AsyncAdapt_asyncpg_dbapi.Error(str(error), error) from error
    except AsyncAdapt_asyncpg_dbapi.Error as adapted:
        return DBAPIError("SELECT 1", None, adapted, connection_invalidated=False)


@pytest.mark.parametrize(
    "driver_error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_database_that_cannot_serve_right_now_is_retried(driver_error: Exception) -> None:
    assert is_transient(_as_sqlalchemy_raises_it(driver_error))


def test_a_refused_connection_inside_a_wrapper_is_retried() -> None:
    assert is_transient(_as_sqlalchemy_raises_it(ConnectionRefusedError(111, "refused")))


@pytest.mark.parametrize(
    "error",
    [
        _as_sqlalchemy_raises_it(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        _as_sqlalchemy_raises_it(asyncpg.exceptions.PostgresSyntaxError("syntax error")),
        ValueError("handler bug"),
    ],
    ids=["unique-violation", "syntax-error", "value-error"],
)
def test_a_failure_of_the_handler_itself_is_not_retried(error: BaseException) -> None:
    assert not is_transient(error)


def test_a_schema_behind_the_code_is_waited_for_not_dead_lettered() -> None:
    # Every event would meet the missing table: dead-lettering them all would empty the stream
    # into the DLQ until someone migrated. The consumer retries with backoff instead.
    missing = asyncpg.exceptions.UndefinedTableError('relation "cases" does not exist')
    assert is_transient(_as_sqlalchemy_raises_it(missing))


def test_a_permanent_error_is_never_retried_whatever_caused_it() -> None:
    try:
        raise PermanentError("unknown partner") from OSError("network")
    except PermanentError as error:
        assert not is_transient(error)


def test_an_exhausted_connection_pool_is_transient() -> None:
    # Under a load burst every pooled connection can be busy past the checkout timeout;
    # intake answered those requests with 500 (the end-to-end benchmark found it) instead of
    # 503 with Retry-After, and a consumer would have dead-lettered a good event.
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    assert is_transient(PoolTimeoutError("QueuePool limit of size 10 overflow 10 reached"))


def test_a_lost_unique_key_race_names_its_constraint_and_nothing_else_does() -> None:
    # What the HTTP handler answers 409 for (shared/problems.py); the values the database's
    # message quotes are never what it reports.
    unique = asyncpg.exceptions.PostgresError.new(
        {"C": "23505", "M": "duplicate key", "n": "policies_pkey", "D": "Key (version)=(x)"}
    )
    assert concurrent_duplicate_constraint(_as_sqlalchemy_raises_it(unique)) == "policies_pkey"
    exclusion = asyncpg.exceptions.PostgresError.new({"C": "23P01", "M": "conflicting key"})
    assert concurrent_duplicate_constraint(_as_sqlalchemy_raises_it(exclusion)) == "unnamed"
    for other in (
        asyncpg.exceptions.ForeignKeyViolationError("no such parent"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        ValueError("handler bug"),
    ):
        error = other if isinstance(other, ValueError) else _as_sqlalchemy_raises_it(other)
        assert concurrent_duplicate_constraint(error) is None


def test_a_lost_unique_key_race_names_the_keys_columns_never_its_values() -> None:
    # hostile8: the 409 named no field; now the columns of the key it ran into.
    unique = asyncpg.exceptions.PostgresError.new(
        {"C": "23505", "M": "duplicate key", "n": "policies_pkey", "D": "Key (version)=(x-42)"}
    )
    assert concurrent_duplicate_field(_as_sqlalchemy_raises_it(unique)) == "version"
    bare = asyncpg.exceptions.PostgresError.new({"C": "23P01", "M": "conflicting key"})
    assert concurrent_duplicate_field(_as_sqlalchemy_raises_it(bare)) == "request"
