"""The round trips a partner webhook costs (docs/cpu-journal.md, "Intake's webhook: …"): each
statement is a driver call, an event-loop wake-up and PostgreSQL's own work, so the hot path's
count is held here, on the real database."""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.partners import service
from shared.rate_limit import Limit, RateLimiter
from tests.conftest import Harness
from tests.support.db import pool_checkouts, rows, scalar
from tests.support.factories import (
    awb_of,
    rapidroute_batch,
    rapidroute_event,
    swiftship_event,
    uid,
)
from tests.support.feed import feed_return
from tests.support.signing import rapidroute_headers, swiftship_headers


async def test_the_limiter_spends_in_one_round_trip_without_resetting_its_connection(
    harness: Harness,
) -> None:
    """asyncpg resets a pooled connection on release (RESET ALL, UNLISTEN, advisory unlock: a
    second round trip per request). The limiter's statements leave no session state, so its pool
    skips that: a setting made on a connection is still there when the connection comes back."""
    limiter = RateLimiter("intake", harness.env["INTAKE_DATABASE_URL"], pool_size=1)
    await limiter.start()
    try:
        pool = limiter._pool
        assert pool is not None
        async with pool.acquire() as conn:
            await conn.execute("SET application_name = 'limiter-reset-probe'")
        await limiter.spend(f"probe:{uuid.uuid4().hex}", Limit(100, 100), kind="partner")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW application_name") == "limiter-reset-probe"
            # An open transaction is still ended on release (locally, without a reset query).
            await conn.execute("BEGIN")
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
    finally:
        await limiter.close()


DIRECTORY_READS = re.compile(r"\bFROM (partners|partner_secrets)\b")
# The rate limiter's statements go through a pool of its own (shared/rate_limit.py), whose round
# trip is held by the test above.
LIMITER = re.compile(r"\brate_limit_buckets\b")


class StatementLog:
    """Statements intake's engine runs for the current task only (the relay and consumers run in
    tasks of their own, so their statements are not counted): those SQLAlchemy executes, and
    those sent to asyncpg itself (`through_driver`), as the common webhook's is."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.statements: list[str] = []
        self.through_driver: list[str] = []
        self._mine: contextvars.ContextVar[bool] = contextvars.ContextVar("mine", default=False)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The partner directory's reads are cached for seconds (directory.py) and counted
        # apart: whether this request refreshes it depends on the clock, not on its path.
        if self._mine.get() and not DIRECTORY_READS.search(statement):
            self.statements.append(" ".join(statement.split())[:80])

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.statements = []
        self.through_driver = []
        token = self._mine.set(True)
        event.listen(self.engine, "before_cursor_execute", self._record)
        # fetch, fetchrow and execute with arguments all pass Connection._execute; SQLAlchemy's
        # own statements do not (it runs prepared statements), so none is counted twice.
        original = asyncpg.Connection._execute
        log = self

        async def driven(conn: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            # `;` is the pool's ping of a connection that sat idle (shared/db.py), which no
            # SQLAlchemy event counts either: the pool's, whichever path checks it out.
            counted = not (DIRECTORY_READS.search(query) or LIMITER.search(query) or query == ";")
            if log._mine.get() and counted:
                log.statements.append(" ".join(query.split())[:80])
                log.through_driver.append(" ".join(query.split())[:80])
            return await original(conn, query, *args, **kwargs)

        asyncpg.Connection._execute = driven  # type: ignore[method-assign]
        try:
            yield self.statements
        finally:
            asyncpg.Connection._execute = original  # type: ignore[method-assign]
            event.remove(self.engine, "before_cursor_execute", self._record)
            self._mine.reset(token)


async def _post_swiftship(
    intake: Any, harness: Harness, body: bytes, webhook_id: str
) -> dict[str, Any]:
    r = await intake.client.post(
        "/v1/webhooks/swiftship",
        content=body,
        headers=swiftship_headers(harness.secrets["SWIFTSHIP_SECRET"], body, webhook_id=webhook_id),
    )
    assert r.status_code == 202, r.text
    return dict(r.json())


async def test_a_scan_of_a_known_return_is_one_statement(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The common case (the feed came first): the ownership check, the event, its outbox row
    and the archived request in one autocommitted statement; a redelivery the same, archived
    no second time."""
    intake = pipeline["intake"]
    rid = uid("RET")
    await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
    log = StatementLog(intake.runtime.engine)
    body = swiftship_event(rid, "return.in_transit")
    webhook_id = uid("msg")  # swiftship's delivery id: the redelivery below carries it again

    with log.counting() as first:
        answer = await _post_swiftship(intake, harness, body, webhook_id)
    assert answer["accepted"] == 1
    first_raw = answer["raw_ref"]
    assert len(first) == 1, first
    # Sent to asyncpg as it is, prepared once per connection: SQLAlchemy's execution (its
    # cache key, compiled-statement lookup, result wrapping) was a third of its driver's time.
    assert log.through_driver == first
    with log.counting() as again:
        answer = await _post_swiftship(intake, harness, body, webhook_id)
    assert answer["accepted"] == 0 and answer["duplicates"] == 1
    assert len(again) == 1 and log.through_driver == again, again

    # The redelivery is answered with the copy archived first: it is the same request.
    assert answer["raw_ref"] == first_raw

    # What the statements wrote: one event, one outbox row, the request archived once.
    assert (
        await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid)
        == 1
    )
    assert (
        await scalar(
            intake,
            "SELECT count(*) FROM outbox WHERE key = :r "
            "AND ce_type = 'disputedesk.intake.return_shipment_event.v1'",
            r=rid,
        )
        == 1
    )
    verdicts = await rows(
        intake,
        "SELECT id::text, verdict, events_emitted, detail FROM raw_requests "
        "WHERE partner_id = 'swiftship' AND headers->>'webhook-id' = :w",
        w=webhook_id,
    )
    assert [tuple(v) for v in verdicts] == [(first_raw, "accepted", 1, None)]


async def test_a_scan_of_an_unannounced_return_is_held_in_one_call(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The one statement finds no owner and writes nothing; one autocommitted call then holds
    the scan under the return's lock (`intake_record_or_hold_scans`) and archives the request
    once, with no transaction of the request's; the feed entry binds it, as before."""
    intake = pipeline["intake"]
    rid = uid("RET")
    log = StatementLog(intake.runtime.engine)
    body = swiftship_event(rid, "return.in_transit")
    webhook_id = uid("msg")
    with log.counting() as statements:
        answer = await _post_swiftship(intake, harness, body, webhook_id)
    assert answer["held"] == 1 and answer["accepted"] == 0
    assert statements == log.through_driver, statements
    assert len(statements) == 2, statements
    assert statements[0].startswith("WITH incoming AS"), statements
    assert "intake_record_or_hold_scans" in statements[1], statements
    archived = await rows(
        intake,
        "SELECT verdict, events_emitted, detail FROM raw_requests WHERE id = :r",
        r=uuid.UUID(answer["raw_ref"]),
    )
    assert [tuple(a) for a in archived] == [("held", 0, {"held": [webhook_id]})]
    assert await rows(
        intake, "SELECT raw_ref::text, state FROM held_scans WHERE return_id = :r", r=rid
    ) == [(answer["raw_ref"], "held")]
    assert (
        await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid)
        == 0
    )
    # Redelivered while held: the call declines a request archived before, and the transaction
    # answers it against the copy, held once.
    again = await _post_swiftship(intake, harness, body, webhook_id)
    assert (again["raw_ref"], again["held"], again["duplicates"]) == (answer["raw_ref"], 0, 1)
    await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
    assert (
        await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid)
        == 1
    )
    assert await scalar(intake, "SELECT state FROM held_scans WHERE return_id = :r", r=rid) == (
        "emitted"
    )


async def _post_rapidroute(intake: Any, harness: Harness, events: list[dict[str, Any]]) -> Any:
    body = rapidroute_batch(events)
    return await intake.client.post(
        "/v1/webhooks/rapidroute",
        content=body,
        headers=rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body),
    )


async def _what_a_batch_wrote(intake: Any, raw_ref: str, ids: dict[str, str]) -> dict[str, Any]:
    """The archive's row and the batch's events and holds, each id named by its part in the
    test (`ids`: the id as stored → its name), so that two runs compare."""

    def named(value: Any) -> Any:
        if isinstance(value, list):
            return [named(v) for v in value]
        if isinstance(value, dict):
            return {k: named(v) for k, v in value.items()}
        return ids.get(value, value) if isinstance(value, str) else value

    archived = await rows(
        intake,
        "SELECT verdict, events_emitted, detail FROM raw_requests WHERE id = :r",
        r=uuid.UUID(raw_ref),
    )
    held = await rows(
        intake,
        "SELECT partner_event_id, return_id, awb, state FROM held_scans WHERE raw_ref = :r "
        "ORDER BY id",
        r=uuid.UUID(raw_ref),
    )
    recorded = await rows(
        intake,
        "SELECT s.partner_event_id, s.return_id, count(o.id) FROM shipment_events s "
        "LEFT JOIN outbox o ON o.ce_id = s.event_id WHERE s.raw_ref = :r "
        "GROUP BY s.partner_event_id, s.return_id ORDER BY s.partner_event_id",
        r=uuid.UUID(raw_ref),
    )
    return {
        "archived": [named(list(a)) for a in archived],
        "held": [named(list(h)) for h in held],
        "recorded": sorted(named(list(e)) for e in recorded),
    }


async def _held_batches(intake: Any, harness: Harness) -> tuple[list[Any], list[dict[str, Any]]]:
    """Three batches of rapidroute's, each the kind a late intake sees: a scan of a return fed
    already beside one of a return not announced yet; then a scan recorded before, one held
    before and a new one of a return not announced yet; then one of the partner's own beside a
    scan of another partner's return (refused: the transaction's). Their answers and writes."""
    own, ahead, other = uid("RET"), uid("RET"), uid("RET")
    await feed_return(intake, harness, own, partner_id="rapidroute", awb=awb_of(own))
    await feed_return(intake, harness, other, partner_id="swiftship", awb=awb_of(other))
    ids = {own: "own", ahead: "ahead", other: "other"}
    ids |= {awb_of(r): f"awb-{n}" for r, n in list(ids.items())}
    e1, e2, e3, e4 = (
        rapidroute_event(own, "RPU"),
        rapidroute_event(ahead, "RPU"),
        rapidroute_event(ahead, "RIT"),
        rapidroute_event(other, "RIT"),
    )
    ids |= {e["id"]: name for e, name in ((e1, "e1"), (e2, "e2"), (e3, "e3"), (e4, "e4"))}
    answers, writes = [], []
    for batch in ([e1, e2], [e1, e2, e3], [e3, e4]):
        r = await _post_rapidroute(intake, harness, batch)
        assert r.status_code == 202, r.text
        answer = r.json()
        answers.append({k: v for k, v in answer.items() if k != "raw_ref"})
        writes.append(await _what_a_batch_wrote(intake, answer["raw_ref"], ids))
    return answers, writes


async def test_held_in_one_call_answers_and_writes_what_the_transaction_does(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: Any
) -> None:
    """The same batches through the call and through the request's transaction (the call
    declining): the same answers, the same archive verdicts and details, the same events and
    holds."""
    intake = pipeline["intake"]
    answers, writes = await _held_batches(intake, harness)

    async def declined(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(service, "ingest_held", declined)
    assert await _held_batches(intake, harness) == (answers, writes)
    # What they are, so that the two cannot agree on nothing.
    assert [(a["accepted"], a["held"], a["duplicates"], a["refused"]) for a in answers] == [
        (1, 1, 0, 0),
        (0, 1, 2, 0),
        (0, 0, 1, 1),
    ]
    assert [w["archived"] for w in writes] == [
        [["partially_held", 1, {"held": ["e2"]}]],
        [["held", 0, {"duplicates": 2, "unmapped": [], "held": ["e3"]}]],
        [
            [
                "partially_foreign",
                0,
                {
                    "duplicates": 1,
                    "unmapped": [],
                    "refused": [{"partner_event_id": "e4", "reason": "partner_mismatch"}],
                },
            ]
        ],
    ]
    assert writes[0]["recorded"] == [["e1", "own", 1]]
    assert writes[0]["held"] == [["e2", "ahead", "awb-ahead", "held"]]


class SessionCount:
    """Sessions the current task opens from intake's sessionmaker (the request's own, through
    FastAPI's dependency or the router; the relay and the loops run in tasks of their own)."""

    def __init__(self, intake: Any) -> None:
        self.intake = intake
        self.opened = 0
        self._mine: contextvars.ContextVar[bool] = contextvars.ContextVar("mine", default=False)

    @contextmanager
    def counting(self) -> Iterator[None]:
        app, runtime = self.intake.app, self.intake.runtime
        original = runtime.sessionmaker

        def counted(*args: Any, **kwargs: Any) -> Any:
            if self._mine.get():
                self.opened += 1
            return original(*args, **kwargs)

        token = self._mine.set(True)
        app.state.sessionmaker = runtime.sessionmaker = counted
        try:
            yield
        finally:
            app.state.sessionmaker = runtime.sessionmaker = original
            self._mine.reset(token)


async def test_a_common_or_held_scan_opens_no_session_and_a_foreign_one_does(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: Any
) -> None:
    """The one statement is its own transaction, and so is the call holding a scan of a return
    the feed has not announced: the request's unit of work is opened only by a path that needs
    it (here, refusing a scan of another partner's return)."""
    intake = pipeline["intake"]
    rid = uid("RET")
    await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
    await _post_swiftship(intake, harness, swiftship_event(rid, "return.at_hub"), uid("msg"))
    # The partner directory's refresh opens a session of its own every couple of seconds (a
    # slow machine can take that long between two requests): kept out of the count.
    monkeypatch.setattr(intake.runtime.extras["partner_directory"], "ttl_s", 3600.0)
    sessions = SessionCount(intake)  # the directory is cached now: the count is the path's
    with sessions.counting():
        answer = await _post_swiftship(
            intake, harness, swiftship_event(rid, "return.in_transit"), uid("msg")
        )
    assert answer["accepted"] == 1
    assert sessions.opened == 0
    with sessions.counting():
        answer = await _post_swiftship(
            intake, harness, swiftship_event(uid("RET"), "return.in_transit"), uid("msg")
        )
    assert answer["held"] == 1
    assert sessions.opened == 0  # held in one call (`intake_record_or_hold_scans`)
    # A scan of another partner's return is refused in the request's transaction.
    other = uid("RET")
    await feed_return(intake, harness, other, partner_id="rapidroute", awb=awb_of(other))
    with sessions.counting():
        answer = await _post_swiftship(
            intake, harness, swiftship_event(other, "return.in_transit"), uid("msg")
        )
    assert answer["refused"] == 1
    assert sessions.opened == 1


async def test_the_webhook_is_answered_without_fastapis_generic_handler(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: Any
) -> None:
    """The webhook's route has a handler of its own (partners/route.py): FastAPI neither solves
    its dependencies nor validates the answer's model again, and the answer is the same."""
    import fastapi.routing

    intake = pipeline["intake"]
    rid = uid("RET")
    await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
    generic: list[str] = []
    for name in ("solve_dependencies", "serialize_response"):
        original = getattr(fastapi.routing, name)

        async def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            request = kwargs.get("request")
            if request is not None and request.url.path.startswith("/v1/webhooks/"):
                generic.append(request.url.path)
            elif request is None and kwargs.get("field") is not None:
                generic.append(str(kwargs["field"]))  # serialize_response has no request
            return await _original(*args, **kwargs)

        monkeypatch.setattr(fastapi.routing, name, counted)
    answer = await _post_swiftship(
        intake, harness, swiftship_event(rid, "return.in_transit"), uid("msg")
    )
    assert answer["accepted"] == 1 and set(answer) == {
        "raw_ref",
        "accepted",
        "duplicates",
        "unmapped",
        "held",
        "refused",
    }
    assert generic == []
    # A partner id over its bound is still FastAPI's to refuse, with its problem document.
    r = await intake.client.post("/v1/webhooks/" + "x" * 65, content=b"{}")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "path.partner_id", r.text
    assert generic == ["/v1/webhooks/" + "x" * 65]


async def test_a_burst_of_webhooks_stays_within_the_pool(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """More webhooks at once than the pool holds wait their turn for the statement instead of
    each opening an overflow connection, which the pool would close again at once."""
    import asyncio

    intake = pipeline["intake"]
    rids = [uid("RET") for _ in range(40)]
    for rid in rids:
        await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
    with pool_checkouts(intake) as out:
        answers = await asyncio.gather(
            *(
                _post_swiftship(intake, harness, swiftship_event(rid, "return.at_hub"), uid("msg"))
                for rid in rids
            )
        )
    assert all(a["accepted"] == 1 for a in answers)
    assert out["peak"] <= intake.runtime.settings.database_pool_size, out


async def test_a_contract_refusal_on_the_transactional_path_is_a_422_not_a_500(
    harness: Harness, pipeline: dict[str, Any], monkeypatch: Any
) -> None:
    """A batch repeating an event takes the transactional path, which builds the canonical
    events itself; should the contract refuse one that the adapter let through, the partner gets
    a problem naming the field, and the archive keeps the request as invalid, with nothing else
    written."""
    from services.intake.partners import service
    from services.intake.partners.adapter import PayloadInvalid
    from tests.support.factories import rapidroute_batch, rapidroute_event
    from tests.support.signing import rapidroute_headers

    def refused(*args: Any, index: int, **kwargs: Any) -> Any:
        raise PayloadInvalid([{"field": f"scan.{index}.weight_g", "message": "too heavy"}])

    monkeypatch.setattr(service, "_canonical", refused)
    intake = pipeline["intake"]
    rid = uid("RET")
    await feed_return(intake, harness, rid, partner_id="rapidroute", awb=awb_of(rid))
    event = rapidroute_event(rid, "RIT", awb=awb_of(rid))
    body = rapidroute_batch([event, event])  # a repeat: not the common request
    r = await intake.client.post(
        "/v1/webhooks/rapidroute",
        content=body,
        headers=rapidroute_headers(harness.secrets["RAPIDROUTE_SECRET"], body),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["scan.0.weight_g"]
    assert (
        await scalar(
            intake,
            "SELECT verdict FROM raw_requests WHERE id = :i",
            i=uuid.UUID(r.json()["raw_ref"]),
        )
        == "invalid"
    )
    assert (
        await scalar(intake, "SELECT count(*) FROM shipment_events WHERE return_id = :r", r=rid)
        == 0
    )


async def test_a_connection_lost_under_the_statement_is_never_handed_out_again(
    harness: Harness, pipeline: dict[str, Any]
) -> None:
    """The common webhook's statement checks its connection out of the pool itself
    (`partners.repository.record_owned_scans`); a connection that died under it is invalidated,
    so the next request gets a live one instead of failing again."""
    from datetime import UTC, datetime

    from services.intake.partners import service
    from services.intake.partners.batching import OwnedScanStatements
    from services.intake.partners.registry import ADAPTERS
    from shared.db import make_engine

    intake = pipeline["intake"]
    engine = make_engine(harness.env["INTAKE_DATABASE_URL"], pool_size=1)
    killer = await asyncpg.connect(
        harness.env["INTAKE_DATABASE_URL"].replace("postgresql+asyncpg", "postgresql")
    )

    async def scan() -> service.IngestResult | None:
        rid = uid("RET")
        await feed_return(intake, harness, rid, partner_id="swiftship", awb=awb_of(rid))
        delivery = service.parse(
            partner_id="swiftship",
            adapter=ADAPTERS["swiftship"],
            headers={"webhook-id": uid("msg")},
            body=swiftship_event(rid, "return.at_hub"),
            received_at=datetime.now(UTC),
        )
        return await service.ingest_owned(OwnedScanStatements(engine), delivery)

    try:
        first = await scan()  # the engine's one pooled connection, now back in its pool
        assert first is not None and first.accepted == 1
        async with engine.connect() as conn:  # the same one: the pool holds no other
            pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar()
        await killer.execute("SELECT pg_terminate_backend($1)", pid)
        failures = 0
        for _ in range(2):
            try:
                result = await scan()
            except (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, OSError):
                # Handed the dead connection once, unless the pool pinged it. How the death shows
                # depends on when asyncpg reads the termination: a closed connection, or its
                # protocol still mid-operation ("cannot switch to state …"); the product
                # invalidates the connection on either (`shared.pooled.driver_connection`).
                failures += 1
                continue
            assert result is not None and result.accepted == 1
            break
        else:
            raise AssertionError("the dead connection was handed out again")
        assert failures <= 1
    finally:
        await killer.close()
        await engine.dispose()
