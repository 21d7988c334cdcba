"""Async database engine, sessions and the request-scoped unit of work."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic_core import from_json, to_json
from sqlalchemy import (
    JSON,
    ClauseElement,
    ColumnElement,
    Enum,
    Executable,
    RowMapping,
    String,
    Table,
    any_,
    bindparam,
    event,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import InstanceState
from sqlalchemy.orm.attributes import instance_state, manager_of_class

from shared.outbox import took_enqueued

# A connection back in the pool for longer than this is pinged before its next use.
PING_IDLE_S = 1.0


def json_text(value: Any) -> str:
    """A JSONB parameter's text. pydantic-core's encoder is about four times the standard
    library's; the document is the same data (compact, non-ASCII left as UTF-8), and PostgreSQL
    stores jsonb in its own layout whatever the spacing."""
    return to_json(value).decode()


class JsonText(str):
    """A JSON column's value encoded already, passed to an array statement as it is: a caller
    that has a document's text (reconciliation's case events, whose outbox and timeline rows
    are cut from one encoding) spares `json_text` encoding the same data again."""

    __slots__ = ()


class JsonDocument(dict[str, Any]):
    """A JSON object whose text its maker may keep beside it (`text`): an array statement sends
    that text instead of encoding the object again. Reconciliation's decision record is encoded
    once for the events that carry it, and the case row's `decision` column held the same
    object, encoded a second time by the batch's `UPDATE`. Whoever sets `text` must not change
    the object afterwards."""

    __slots__ = ("text",)

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__(document)
        self.text: str | None = None

    def __reduce__(self) -> tuple[type[JsonDocument], tuple[dict[str, Any]]]:
        # A copy is made to be changed: it keeps the values, not the text.
        return JsonDocument, (dict(self),)


def _json_param(value: Any) -> str:
    """A JSON column's array element that is not a `JsonText`: the text its maker kept, or the
    value encoded."""
    if type(value) is JsonDocument and value.text is not None:
        return value.text
    return json_text(value)


def json_value(text: str | bytes) -> Any:
    """A JSONB column's value, parsed by pydantic-core for the same reason."""
    return from_json(text)


def make_engine(
    url: str, *, pool_size: int = 10, ping_idle_s: float = PING_IDLE_S, **kwargs: Any
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # A dead connection after a database restart surfaces as a retryable error, not a hang.
        connect_args={"timeout": 10, "command_timeout": 60},
        json_serializer=json_text,
        json_deserializer=json_value,
        **kwargs,
    )
    _ping_when_idle(engine, ping_idle_s)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, but only for a connection that sat in the pool for
    `idle_s`: pinging every checkout costs a round trip per request and per consumer batch,
    while under load a connection is back in use within milliseconds. A connection found dead
    is replaced before anyone uses it (DisconnectionError makes the pool connect anew); one
    that dies while in use invalidates the whole pool, as it always did."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < idle_s:
            return  # fresh from connect, or back in use at once
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("connection found dead after idling") from exc
        if alive is False:
            raise DisconnectionError("connection found dead after idling")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def among(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column = ANY(:array)`: the values as one array parameter. An expanded `IN (...)` list
    renders one parameter per value, so each list length is a statement text of its own,
    prepared again on every connection whose statement cache (100 per connection) does not
    hold that length; a batch read keyed by a varying number of ids missed it most times.
    One text is prepared once per connection. The same rows as `column.in_(values)`."""
    condition: ColumnElement[bool] = column == any_(
        bindparam(None, list(values), type_=ARRAY(column.type))
    )
    return condition


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class, typed as one. Declarative mapping types `__table__` as
    any FromClause, while `insert()` and `update()` want a Table; every model here maps one."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


def _unnest_columns(table: Table, columns: Sequence[str]) -> tuple[set[str], list[str], list[str]]:
    """The JSON columns among `columns`, each column's array parameter cast to its type, and
    each column as read from the unnested row `r` (JSON cast from its text)."""
    json_columns = {name for name in columns if isinstance(table.c[name].type, JSON)}
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays, selected = [], []
    for name in columns:
        column_type = table.c[name].type
        # Strings as text: an explicit cast to varchar(n) would cut a long value short, where
        # the statement's own assignment to the column refuses it.
        textual = name in json_columns or (
            isinstance(column_type, String) and not isinstance(column_type, Enum)
        )
        sql_type = "text" if textual else column_type.compile(dialect)
        arrays.append(f"CAST(:{name} AS {sql_type}[])")
        # A `json` column keeps the text as sent; cast to `jsonb` first it would be parsed into
        # the binary form only to be printed back.
        cast_to = "jsonb" if isinstance(column_type, JSONB) else "json"
        selected.append(f"r.{name}::{cast_to}" if name in json_columns else f"r.{name}")
    return json_columns, arrays, selected


def _array_params(
    columns: Sequence[str], json_columns: set[str], rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    params = {}
    for name in columns:
        values = [row[name] for row in rows]
        if name in json_columns:
            values = [v if type(v) is JsonText else _json_param(v) for v in values]
        params[name] = values
    return params


class ArrayInsert:
    """A multi-row INSERT of `columns` as one array parameter per column, unnested in the rows'
    order (`WITH ORDINALITY … ORDER BY`, so serial ids follow the order given). SQLAlchemy's
    multi-row `VALUES` processes every parameter of every row in Python and writes a statement
    whose text changes with the row count, so each new count is compiled and prepared again;
    here the text is fixed and asyncpg encodes each array in C. JSON columns travel as their
    text (`json_text`, as the engine's serialiser writes them, `None` as JSON null; a `JsonText`
    as it is) and are cast in the statement.

    With `new_only_returning`, a row whose key is stored already is skipped (`ON CONFLICT DO
    NOTHING`) and `insert_new` returns the named column of the rows inserted; with
    `skip_conflicts`, such rows are skipped and nothing is returned."""

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        *,
        new_only_returning: str | None = None,
        skip_conflicts: bool = False,
    ) -> None:
        self.columns = tuple(columns)
        # A default SQLAlchemy computes in Python is not in the statement's text; a column with
        # one must be among those given, or its rows would silently go without it.
        defaulted = [c.name for c in table.c if c.default is not None and c.name not in columns]
        if defaulted:
            raise ValueError(f"{table.name}: give {', '.join(defaulted)} (a Python-side default)")
        self._json, arrays, selected = _unnest_columns(table, self.columns)
        names = ", ".join(self.columns)
        sql = (
            f"INSERT INTO {table.name} ({names}) SELECT {', '.join(selected)} "
            f"FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS r({names}, n) ORDER BY r.n"
        )
        if skip_conflicts:  # a row that would break a unique index (a partial one too) is left out
            sql += " ON CONFLICT DO NOTHING"
        self.statement: Any = text(sql)
        if new_only_returning is not None:
            # Typed by the column, so a key comes back as the ORM would give it (a UUID).
            conflicts = "" if skip_conflicts else " ON CONFLICT DO NOTHING"
            self.statement = text(f"{sql}{conflicts} RETURNING {new_only_returning}").columns(
                table.c[new_only_returning]
            )

    def _params(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        return _array_params(self.columns, self._json, rows)

    async def execute(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert `rows` (each holding every column) in their order; nothing when empty."""
        if rows:
            await session.execute(self.statement, self._params(rows))

    async def insert_new(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]
    ) -> set[Any]:
        """Insert those of `rows` not stored yet; the returned column of the ones inserted."""
        if not rows:
            return set()
        return set((await session.scalars(self.statement, self._params(rows))).all())


class ArrayUpdate:
    """An UPDATE of `columns` of many rows, each found by its `key` column (or columns), as one
    array parameter per column (unnested), in one statement whatever the row count. The ORM's
    flush sends a changed row's UPDATE as one execution of a prepared statement per row:
    PostgreSQL binds, plans and runs each, and SQLAlchemy processes each row's parameters in
    Python.

    With `only_where` (SQL on the table's columns), a row that does not meet it is left as it
    is, and `execute` returns how many were updated; without, every row must exist."""

    def __init__(
        self,
        table: Table,
        key: str | Sequence[str],
        columns: Sequence[str],
        *,
        only_where: str | None = None,
    ) -> None:
        keys = (key,) if isinstance(key, str) else tuple(key)
        self.columns = (*keys, *columns)
        self._json, arrays, selected = _unnest_columns(table, self.columns)
        assignments = ", ".join(
            f"{name} = {value}" for name, value in zip(columns, selected[len(keys) :], strict=True)
        )
        found = " AND ".join(f"{table.name}.{k} = r.{k}" for k in keys)
        self._every_row = only_where is None
        condition = f"{found} AND {only_where}" if only_where is not None else found
        self.statement = text(
            f"UPDATE {table.name} SET {assignments} FROM unnest({', '.join(arrays)}) "
            f"AS r({', '.join(self.columns)}) WHERE {condition}"
        )

    async def execute(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
        """Update `rows` (each holding the key and every column, and each key once); the
        number of rows updated."""
        if not rows:
            return 0
        result: Any = await session.execute(
            self.statement, _array_params(self.columns, self._json, rows)
        )
        if self._every_row and result.rowcount != len(rows):
            raise RuntimeError(f"updated {result.rowcount} of {len(rows)} rows")
        return int(result.rowcount)


# One array update per table and set of changed columns: a batch's changes to its rows of a
# table mostly change the same columns, so a few statement texts serve every batch.
_ARRAY_UPDATES: dict[tuple[Table, tuple[str, ...]], ArrayUpdate] = {}


class _Columns:
    """What `write_changes` needs of a mapped class, looked up once: its table, its key, and
    the equality the flush compares each column attribute with (attributes named as their
    columns only)."""

    __slots__ = ("table", "key", "is_equal")

    def __init__(self, cls: type[Any]) -> None:
        self.table = table_of(cls)
        (key,) = self.table.primary_key.columns
        self.key = key.name
        manager = manager_of_class(cls)
        self.is_equal = {
            name: manager[name].impl.is_equal
            for name in self.table.c.keys()
            if name in manager and name != self.key
        }


_COLUMNS: dict[type[Any], _Columns] = {}


async def write_changes(session: AsyncSession, objects: Iterable[Any]) -> None:
    """Write the changed columns of persistent ORM `objects` with one array UPDATE per table and
    set of changed columns, and leave the objects unchanged for the session's next flush. The
    values written are those the flush would write: an attribute counts as changed as the flush
    compares it (its type's equality against the value loaded), a JSON attribute set to None is
    JSON null. An object the flush must handle itself (new, deleted, a changed primary key, a
    SQL expression as a value, an attribute not named as its column) is left to it."""
    groups: dict[tuple[_Columns, tuple[str, ...]], list[tuple[InstanceState[Any], Any]]]
    groups = defaultdict(list)
    for obj in objects:
        state: InstanceState[Any] = instance_state(obj)
        loaded = state.committed_state
        if not loaded or state.key is None or state.deleted:
            continue
        columns = _COLUMNS.get(state.class_)
        if columns is None:
            columns = _COLUMNS[state.class_] = _Columns(state.class_)
        values = obj.__dict__
        changed = {}
        for name, before in loaded.items():
            is_equal = columns.is_equal.get(name)
            value = values[name]
            if is_equal is None or isinstance(value, ClauseElement):
                break  # the key, or what only the flush writes
            if is_equal(value, before) is not True:
                changed[name] = value
        else:
            if changed:
                changed[columns.key] = values[columns.key]
                groups[columns, tuple(sorted(changed))].append((state, changed))
    for (columns, names), changes in groups.items():
        # In key order, as the flush writes them: replicas lock shared rows in one order.
        changes.sort(key=lambda change: change[1][columns.key])
        update = _ARRAY_UPDATES.get((columns.table, names))
        if update is None:
            changed_columns = [name for name in names if name != columns.key]
            update = ArrayUpdate(columns.table, columns.key, changed_columns)
            _ARRAY_UPDATES[columns.table, names] = update
        with session.no_autoflush:  # the flush would write these very rows first
            await update.execute(session, [row for _, row in changes])
        # As the flush leaves the objects it wrote: their values the loaded ones, unmodified.
        InstanceState._commit_all_states(
            ((state, state.obj().__dict__) for state, _ in changes),
            session.sync_session.identity_map,
        )


async def fetch_autocommitted(
    sessionmaker: async_sessionmaker[AsyncSession],
    statement: Executable,
    params: Mapping[str, Any] | None = None,
) -> Sequence[RowMapping]:
    """`statement`'s rows, run as its own transaction: no BEGIN and COMMIT round trips around
    it, for a loop whose usual round is one statement (notifications' dispatcher and digest
    flusher). A sessionmaker bound to something other than an engine (a test's connection)
    runs it in a transaction of its own."""
    bind = sessionmaker.kw.get("bind")
    if isinstance(bind, AsyncEngine):
        async with bind.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return (await autocommit.execute(statement, params)).mappings().all()
    async with sessionmaker() as session, session.begin():
        return (await session.execute(statement, params)).mappings().all()


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


@asynccontextmanager
async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed on leaving the block, rolled back if it raises.

    The commit happens before the response is sent, so a `2xx` always means the change is
    durable. A request that enqueued events wakes the service's outbox relay once it has
    committed, so they are published now rather than at its next poll. Endpoints take it as
    the `DbSession` dependency; a path that needs a session only sometimes (intake's webhook,
    whose common request is one autocommitted statement) opens it itself, when it does.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        async with session.begin():
            yield session
        runtime = getattr(request.app.state, "runtime", None)
        if took_enqueued(session) and runtime is not None:
            runtime.relay.wake()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """`request_session` as a dependency: endpoints never call commit()."""
    async with request_session(request) as session:
        yield session


# scope="function" runs the commit as soon as the endpoint returns, before the response is sent;
# FastAPI's default would commit after the client already saw its 2xx.


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
