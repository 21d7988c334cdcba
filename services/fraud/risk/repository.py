"""SQL of entity risk and assessments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, String, bindparam, func, literal, null, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.fraud.alerts.repository import OPEN_STATUSES
from services.fraud.models import (
    Alert,
    Assessment,
    EntityRisk,
    EntityRiskHistory,
    WatchlistEntry,
)
from shared.db import table_of
from shared.unit_of_work import unit_of

Key = tuple[str, str]  # (entity_type, entity_id)


@dataclass(frozen=True, slots=True)
class StoredRisk:
    score: float
    band: str


@dataclass(frozen=True, slots=True)
class Watch:
    entity_type: str
    entity_id: str
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class OpenAlert:
    alert_id: UUID
    pattern: str
    entity_type: str
    entity_id: str
    summary: str
    evidence: dict[str, Any]
    event_time: datetime | None


@dataclass(frozen=True, slots=True)
class Standing:
    """What is already known of some entities: stored risk, active watchlist entries and open
    (or acknowledged) alerts."""

    risks: dict[tuple[str, str], StoredRisk]
    watches: list[Watch]
    alerts: list[OpenAlert]


def _standing_query() -> Any:
    """Built once: the three reads of `standing` as one statement over the (entity_type,
    entity_id) keys, passed as two arrays. An expanding list of pairs made a statement text per
    key count, so nearly every batch prepared it again; the arrays keep one text."""
    pairs = (
        func.unnest(
            bindparam("entity_types", type_=ARRAY(String)),
            bindparam("entity_ids", type_=ARRAY(String)),
        )
        .table_valued("entity_type", "entity_id")
        .render_derived()
    )
    keys = select(pairs.c.entity_type, pairs.c.entity_id)

    def row(kind: str, t: Any, i: Any, **columns: Any) -> list[Any]:
        cols = {
            "score": null(),
            "band": null(),
            "source": null(),
            "reason": null(),
            "evidence": null().cast(JSONB),
            "alert_id": null().cast(PgUUID),
            "at": null().cast(DateTime(timezone=True)),
        } | columns
        return [
            literal(kind).label("kind"),
            t,
            i,
            *(
                cols[c].label(c)
                for c in ("score", "band", "source", "reason", "evidence", "alert_id", "at")
            ),
        ]

    risk_q = select(
        *row(
            "risk",
            EntityRisk.entity_type,
            EntityRisk.entity_id,
            score=EntityRisk.score,
            band=EntityRisk.band,
        )
    ).where(tuple_(EntityRisk.entity_type, EntityRisk.entity_id).in_(keys))
    watch_q = select(
        *row(
            "watch",
            WatchlistEntry.entity_type,
            WatchlistEntry.entity_id,
            source=WatchlistEntry.source,
            reason=WatchlistEntry.reason,
        )
    ).where(
        WatchlistEntry.active,
        tuple_(WatchlistEntry.entity_type, WatchlistEntry.entity_id).in_(keys),
    )
    alert_q = select(
        *row(
            "alert",
            Alert.entity_type,
            Alert.entity_id,
            source=Alert.pattern,
            reason=Alert.summary,
            evidence=Alert.evidence,
            alert_id=Alert.alert_id,
            at=Alert.event_time,
        )
    ).where(Alert.status.in_(OPEN_STATUSES), tuple_(Alert.entity_type, Alert.entity_id).in_(keys))
    return union_all(risk_q, watch_q, alert_q)


_STANDING = _standing_query()


@dataclass(slots=True)
class _Known:
    """The standing of the entities a session has read, kept current by the session's own
    writes (`upsert_risks`, `remember_alert`, `remember_watch`): one consumer batch's events
    share their hubs, agents and sellers, and each would otherwise read them again."""

    risks: dict[Key, StoredRisk] = field(default_factory=dict)
    watches: dict[Key, list[Watch]] = field(default_factory=lambda: defaultdict(list))
    alerts: dict[Key, list[OpenAlert]] = field(default_factory=lambda: defaultdict(list))
    read: set[Key] = field(default_factory=set)


def _known(session: AsyncSession) -> _Known:
    return unit_of(session).get(_Known)


async def standing(session: AsyncSession, entities: Iterable[Key]) -> Standing:
    """Stored risk, active watchlist entries and open alerts of the entities: those not read
    yet in this session in one round trip, the others from what the session knows.

    Whatever the scoring transaction writes of risks, watches and alerts must reach the
    session's knowledge through the functions named in `_Known`."""
    known = _known(session)
    keys = set(entities)
    unread = sorted(keys - known.read)
    if unread:
        result: Any = await session.execute(
            _STANDING,
            {"entity_types": [t for t, _ in unread], "entity_ids": [i for _, i in unread]},
        )
        for kind, t, i, score, band, source, reason, evidence, alert_id, at in result:
            if kind == "risk":
                known.risks[(t, i)] = StoredRisk(float(score), band)
            elif kind == "watch":
                known.watches[(t, i)].append(Watch(t, i, source, reason))
            else:
                known.alerts[(t, i)].append(
                    OpenAlert(alert_id, source, t, i, reason, evidence or {}, at)
                )
        known.read.update(unread)
    ordered = sorted(keys)
    return Standing(
        {k: known.risks[k] for k in ordered if k in known.risks},
        [w for k in ordered for w in known.watches.get(k, ())],
        [a for k in ordered for a in known.alerts.get(k, ())],
    )


def remember_alert(session: AsyncSession, alert: OpenAlert) -> None:
    """An alert this session raised, for its later `standing` reads."""
    key = (alert.entity_type, alert.entity_id)
    known = _known(session)
    if key in known.read:
        known.alerts[key].append(alert)


def refresh_alert(session: AsyncSession, alert: OpenAlert) -> None:
    """An open alert whose evidence this session replaced, for its later `standing` reads."""
    known = _known(session)
    key = (alert.entity_type, alert.entity_id)
    if key in known.alerts:
        known.alerts[key] = [
            alert if a.alert_id == alert.alert_id else a for a in known.alerts[key]
        ]


def forget_alert(session: AsyncSession, alert_id: UUID, key: Key) -> None:
    """An alert this session closed, out of its later `standing` reads."""
    known = _known(session)
    if key in known.alerts:
        known.alerts[key] = [a for a in known.alerts[key] if a.alert_id != alert_id]


def forget_automatic_watch(session: AsyncSession, key: Key) -> None:
    """The automatic watchlist entry this session removed, out of its later reads."""
    known = _known(session)
    if key in known.watches:
        known.watches[key] = [w for w in known.watches[key] if w.source != "automatic"]


def remember_watch(session: AsyncSession, watch: Watch) -> None:
    """A watchlist entry this session added, for its later `standing` reads."""
    key = (watch.entity_type, watch.entity_id)
    known = _known(session)
    if key in known.read:
        known.watches[key].append(watch)


_insert_risk = pg_insert(table_of(EntityRisk))
_UPSERT_RISK = _insert_risk.on_conflict_do_update(
    index_elements=["entity_type", "entity_id"],
    set_={
        "score": _insert_risk.excluded.score,
        "band": _insert_risk.excluded.band,
        "reasons": _insert_risk.excluded.reasons,
        "as_of": _insert_risk.excluded.as_of,
    },
)


async def upsert_risks(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    # Rows as parameters, not VALUES literals: one cached statement whatever their number.
    await session.execute(_UPSERT_RISK, list(rows))
    known = _known(session)
    for r in rows:
        key = (r["entity_type"], r["entity_id"])
        if key in known.read:
            known.risks[key] = StoredRisk(float(r["score"]), r["band"])


async def risks(
    session: AsyncSession, entities: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], EntityRisk]:
    keys = list(set(entities))
    if not keys:
        return {}
    rows = await session.scalars(
        select(EntityRisk).where(tuple_(EntityRisk.entity_type, EntityRisk.entity_id).in_(keys))
    )
    return {(r.entity_type, r.entity_id): r for r in rows}


async def history(
    session: AsyncSession, entity_type: str, entity_id: str, limit: int
) -> list[EntityRiskHistory]:
    return list(
        (
            await session.scalars(
                select(EntityRiskHistory)
                .where(
                    EntityRiskHistory.entity_type == entity_type,
                    EntityRiskHistory.entity_id == entity_id,
                )
                .order_by(EntityRiskHistory.id.desc())
                .limit(limit)
            )
        ).all()
    )


async def assessment_by_event(session: AsyncSession, event_id: UUID) -> Assessment | None:
    """The event's current assessment: its latest revision."""
    return await session.scalar(
        select(Assessment)
        .where(Assessment.subject_event_id == event_id)
        .order_by(Assessment.revision.desc())
        .limit(1)
    )
