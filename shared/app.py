"""What every service's FastAPI app has in common: lifespan (database, producer, outbox relay,
consumers, background loops), health and metrics endpoints, problem handlers, body limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import Keyring
from shared.clock import Clock, SystemClock
from shared.db import make_engine, make_sessionmaker, ping
from shared.heap import frozen_after_start
from shared.idempotency import IdempotencyKeyMixin
from shared.inbox import InboxMixin
from shared.kafka.admin import MissingTopicsError, missing_topics, registry_topic_names
from shared.kafka.consumer import ConsumerRunner, EventHandlers
from shared.kafka.producer import make_producer
from shared.logging import configure_logging
from shared.migrations import code_heads, database_revisions, schema_verdict
from shared.openapi import install_docs, install_openapi
from shared.outbox import OutboxMixin, OutboxRelay
from shared.problems import install_problem_handlers
from shared.rate_limit import TABLE as RATE_LIMIT_TABLE
from shared.rate_limit import RateLimiter
from shared.request_path import ServiceRequests
from shared.retention import Retention, retention_loop
from shared.service_route import ReadRoute, ServiceRoute
from shared.settings import ServiceSettings
from shared.tracing import configure_tracing
from shared.wakeups import OUTBOX_CHANNEL, Wakeups, run_when_due

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ConsumerSpec:
    group_id: str
    topics: list[str]
    handlers: EventHandlers
    # Builds the runner from ConsumerRunner's keyword arguments: a service may bring its own
    # (fraud reads ahead of a backlog, services/fraud/scoring/consumer.py).
    runner: Callable[..., ConsumerRunner] = ConsumerRunner


# Examples for the probes' documentation.
_READY = {"status": "ready", "checks": {"database": "ok", "kafka": "ok"}}
_METRICS = (
    "# HELP disputedesk_outbox_backlog Unpublished outbox rows.\n"
    "# TYPE disputedesk_outbox_backlog gauge\n"
    'disputedesk_outbox_backlog{service="intake"} 0.0\n'
)

BackgroundLoop = Callable[["ServiceRuntime"], Coroutine[Any, Any, None]]


@dataclass(slots=True)
class ServiceRuntime:
    """The long-lived resources of one service process, reachable as `app.state.runtime`."""

    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    relay: OutboxRelay
    consumers: list[ConsumerRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    producer_ready: asyncio.Event = field(default_factory=asyncio.Event)
    clock: Clock = field(default_factory=SystemClock)
    extras: dict[str, Any] = field(default_factory=dict)
    # LISTEN/NOTIFY wake-ups of this process's loops (shared/wakeups.py); set in the lifespan.
    wakeups: Wakeups | None = None
    # Topics the start-up check found missing (reported by /readyz until they exist).
    missing_topics: list[str] = field(default_factory=list)
    # The revisions this code's migrations end at (None: no migrations of its own). /readyz
    # holds the database to them: code ahead of its schema fails every request that touches
    # what the schema lacks, and an operator should see why before the requests do.
    code_heads: frozenset[str] | None = None

    async def run_when_due(
        self,
        work: Callable[[], Awaitable[bool]],
        next_due: Callable[[AsyncSession], Awaitable[datetime | None]],
        *,
        channel: str,
        at_most_s: float,
        what: str,
    ) -> None:
        """A background loop of this process that sleeps until `next_due` (read in a session
        of its own) or `channel`'s NOTIFY: `shared.wakeups.run_when_due`."""

        async def read_next_due() -> datetime | None:
            async with self.sessionmaker() as session:
                return await next_due(session)

        await run_when_due(
            work,
            read_next_due,
            now=self.clock.now,
            wakeup=self.wakeups.event(channel) if self.wakeups is not None else None,
            at_most_s=at_most_s,
            what=what,
        )


# How long a stopping service waits for its cancelled loops. A rolling restart must not hang
# on one call that never answers (a broker or database gone quiet): such a loop is named in the
# log and left behind; what it held is redelivered, or stays in the outbox for the next start.
STOP_GRACE_S = 20.0


async def _stopped(service: str, tasks: list[asyncio.Task[Any]]) -> None:
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: %s ended with %r", service, task.get_name(), task.exception())
    for task in pending:
        log.error(
            "%s: %s did not stop within %.0fs of being cancelled; leaving it",
            service,
            task.get_name(),
            STOP_GRACE_S,
        )


async def _start_producer(runtime: ServiceRuntime, topics: list[str]) -> None:
    """Connect the producer, retrying while Kafka is away: HTTP keeps serving (the outbox holds
    what it accepts) and the relay starts publishing once this succeeds.

    Topics are checked, never created: `disputedesk topics apply` makes them with the
    replication the deployment wants. Until they exist the service says which are missing (in
    its log and in /readyz) and neither consumes nor publishes, and it goes on once they do.
    """
    backoff = 0.5
    while True:
        try:
            missing = await missing_topics(runtime.settings.kafka_bootstrap_servers, names=topics)
            if missing:
                raise MissingTopicsError(missing)
            runtime.missing_topics = []
            await runtime.producer.start()
            runtime.producer_ready.set()
            return
        except MissingTopicsError as exc:
            runtime.missing_topics = exc.names
            log.error("%s Retrying in %.1fs.", exc, backoff)
        except Exception as exc:
            log.warning("kafka not reachable yet, retrying in %.1fs: %r", backoff, exc)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 10.0)


async def _check_schema(runtime: ServiceRuntime) -> None:
    """Say once, at start-up, when the database is not at this code's schema (the service still
    starts: /readyz reports it until someone migrates, and requests that need what is missing
    are answered 503)."""
    if runtime.code_heads is None:
        return
    for _ in range(30):
        try:
            async with runtime.engine.connect() as connection:
                found = await database_revisions(connection)
        except Exception:
            await asyncio.sleep(1.0)  # the database is not up yet: its own check reports that
            continue
        verdict = schema_verdict(runtime.name, runtime.code_heads, found)
        if verdict != "ok":
            log.error("schema check: %s", verdict)
        return


async def _after_producer(runtime: ServiceRuntime, coro: Callable[[], Awaitable[None]]) -> None:
    await runtime.producer_ready.wait()
    await coro()


def _refuse_body_before_auth(router: APIRouter) -> None:
    """A route of another class would read its body before asking who is calling."""
    for route in router.routes:
        if isinstance(route, APIRoute) and not isinstance(route, ServiceRoute):
            raise TypeError(
                f"{route.path}: make its router with APIRouter(route_class=ServiceRoute)"
            )


def create_service_app(
    *,
    name: str,
    title: str,
    description: str,
    settings: ServiceSettings,
    outbox_model: type[OutboxMixin],
    inbox_model: type[InboxMixin] | None = None,
    idempotency_model: type[IdempotencyKeyMixin] | None = None,
    consumers: Sequence[ConsumerSpec] = (),
    routers: Sequence[APIRouter] = (),
    background: Sequence[BackgroundLoop] = (),
    # The service's own expiring rows, purged by the same loop as the bookkeeping tables.
    own_retentions: Sequence[Retention] = (),
    keyring: Keyring | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    hours = timedelta(hours=1)
    retentions = [
        Retention(outbox_model.__tablename__, "published_at", settings.outbox_retention_h * hours)
    ]
    retentions.append(
        Retention(RATE_LIMIT_TABLE, "updated_at", settings.rate_limit_retention_h * hours)
    )
    if inbox_model is not None:
        retentions.append(
            Retention(inbox_model.__tablename__, "handled_at", settings.inbox_retention_h * hours)
        )
    if idempotency_model is not None:
        retentions.append(
            Retention(
                idempotency_model.__tablename__,
                "created_at",
                settings.idempotency_retention_h * hours,
            )
        )
    retentions.extend(own_retentions)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level)
        configure_tracing(name, settings.otel_exporter_otlp_endpoint)
        engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
        sessionmaker = make_sessionmaker(engine)
        producer = make_producer(settings.kafka_bootstrap_servers, client_id=name)
        relay = OutboxRelay(
            service=name,
            sessionmaker=sessionmaker,
            outbox_model=outbox_model,
            producer=producer,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            topic_prefix=settings.outbox_topic_prefix,
        )
        runtime = ServiceRuntime(
            name, settings, engine, sessionmaker, producer, relay, clock=clock or SystemClock()
        )
        app.state.runtime = runtime
        runtime.code_heads = await asyncio.to_thread(code_heads, name)
        runtime.tasks.append(asyncio.create_task(_check_schema(runtime), name="schema-check"))
        runtime.wakeups = Wakeups(settings.database_url)
        # Any replica's committed event wakes every replica's relay (one of them publishes).
        runtime.wakeups.on(OUTBOX_CHANNEL, relay.wake)
        runtime.tasks.append(asyncio.create_task(runtime.wakeups.run(), name="listen"))
        app.state.sessionmaker = sessionmaker
        app.state.keyring = keyring or Keyring(settings.keyring_file)
        app.state.settings = settings
        limiter: RateLimiter | None = None
        if settings.rate_limit_enabled:
            limiter = RateLimiter(name, settings.database_url)
            await limiter.start()
        app.state.rate_limiter = limiter

        # The registry's topics (the outbox may publish to any) and whatever the consumers read,
        # with the dead-letter twins a bad message goes to.
        needed = [relay.topic_prefix + topic for topic in registry_topic_names()]
        for spec in consumers:
            needed += [name for topic in spec.topics for name in (topic, f"{topic}.dlq")]
        runtime.tasks.append(
            asyncio.create_task(
                _start_producer(runtime, list(dict.fromkeys(needed))), name="producer"
            )
        )
        runtime.tasks.append(
            asyncio.create_task(_after_producer(runtime, relay.run), name="outbox-relay")
        )
        for spec in consumers:
            if inbox_model is None:
                raise RuntimeError(f"{name}: consumers need an inbox table")
            runner = spec.runner(
                service=name,
                group_id=spec.group_id,
                topics=spec.topics,
                handlers=spec.handlers,
                sessionmaker=sessionmaker,
                inbox_model=inbox_model,
                producer=producer,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                batch_size=settings.consumer_batch_size,
                max_backoff_s=settings.consumer_max_retry_backoff_s,
                # What a handler enqueued is published as soon as its batch commits, not at the
                # relay's next poll.
                on_committed=relay.wake,
            )
            runtime.consumers.append(runner)
            runtime.tasks.append(
                asyncio.create_task(
                    _after_producer(runtime, runner.run), name=f"consumer-{spec.group_id}"
                )
            )
        for loop in (*background, retention_loop(retentions, settings.retention_interval_s)):
            runtime.tasks.append(
                asyncio.create_task(loop(runtime), name=getattr(loop, "__name__", "background"))
            )
        try:
            yield
        finally:
            relay.stop()
            for runner in runtime.consumers:
                runner.stop()
            for task in runtime.tasks:
                task.cancel()
            await _stopped(name, runtime.tasks)
            try:
                await asyncio.wait_for(producer.stop(), 10)
            except Exception:  # shutting down; unsent rows stay in the outbox for next time
                log.warning("producer stop failed", exc_info=True)
            try:
                if limiter is not None:
                    await asyncio.wait_for(limiter.close(), STOP_GRACE_S)
                await asyncio.wait_for(engine.dispose(), STOP_GRACE_S)
            except Exception:  # the database not answering; the process ends regardless
                log.warning("database connections not closed cleanly", exc_info=True)

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # No API path ends in a slash. Redirecting one that does sent `/v1/cases/%2F` (a case id
        # "/") to the case list, at a Location built from the client's own Host header.
        redirect_slashes=False,
        # Our one request layer (shared/request_path.py) makes the request's span and the RED
        # metrics. FastAPI's own would be a second span and a second set of metrics for every
        # request the moment anything installed a global OpenTelemetry provider, and until
        # then it asked, per request, whether one had been (three provider lookups, one
        # reading the environment).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # The app's own pages (health, metrics, docs) answer HEAD as their GET, like the routers'.
    app.router.route_class = ReadRoute
    install_openapi(app)
    # What the service consumes, for the AsyncAPI document's contract test (shared/asyncapi.py).
    app.state.consumer_specs = list(consumers)
    # Read by shared/idempotency.py: each service keeps its keys in its own database.
    app.state.idempotency_model = idempotency_model
    install_problem_handlers(app)
    # URL characters, trace, body limit and RED metrics in one layer (shared/request_path.py).
    app.add_middleware(ServiceRequests, service=name, max_bytes=settings.max_body_bytes)

    @app.get(
        "/healthz",
        tags=["ops"],
        summary="The process is alive",
        responses={
            200: {"content": {"application/json": {"example": {"status": "ok", "service": name}}}}
        },
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Database and Kafka are reachable",
        responses={
            200: {"content": {"application/json": {"example": _READY}}},
            503: {"description": "Database or Kafka unreachable (the same shape, `not ready`)"},
        },
    )
    async def readyz(request: Request) -> JSONResponse:
        runtime: ServiceRuntime = request.app.state.runtime
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ping(runtime.engine), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if runtime.code_heads is not None and checks["database"] == "ok":
            try:
                async with runtime.engine.connect() as connection:
                    found = await asyncio.wait_for(database_revisions(connection), 2)
                checks["schema"] = schema_verdict(runtime.name, runtime.code_heads, found)
            except Exception as exc:
                checks["schema"] = f"unknown: {type(exc).__name__}"
        if runtime.producer_ready.is_set():
            try:
                await asyncio.wait_for(runtime.producer.client.fetch_all_metadata(), 2)
                checks["kafka"] = "ok"
            except Exception as exc:
                checks["kafka"] = f"unreachable: {type(exc).__name__}"
        elif runtime.missing_topics:
            checks["kafka"] = "topics missing: " + ", ".join(runtime.missing_topics)
        else:
            checks["kafka"] = "connecting"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"example": _METRICS}}}},
    )
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        _refuse_body_before_auth(router)
        app.include_router(router)
    # Routing tries each route in turn: the documentation's (a static mount and two pages, for
    # people) come after every API route and probe, so that no request pays for missing them.
    install_docs(app)
    # Every service allocates heavily per batch or request: the collector must not walk
    # start-up's objects again and again (shared/heap.py; measured on reconciliation). Wrapped
    # last, around the lifespan the routers were merged into.
    app.router.lifespan_context = frozen_after_start(app.router.lifespan_context)
    return app
