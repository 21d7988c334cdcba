"""Policy versions: which one decides a case, drafts, their what-if, and the lifecycle.

A draft is a definition with a reviewer's changes laid over it, validated as a whole, so a draft
can never be stored half-formed. It becomes policy only through four eyes: one ops_manager
proposes it with an effective time (the what-if is computed then and stored with it), another
approves. From that time new decisions use it; a case that carries a decision stays with the
version that decided it, appeals included. Versions are never edited, only retired.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import Case
from services.reconciliation.policy import repository
from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.sop_v1 import POLICIES, Policy
from services.reconciliation.policy.whatif import (
    PastCase,
    WhatIfReport,
    compare,
    merged,
    policy_changes,
)
from shared.events import CaseOrigin
from shared.problems import Problem
from shared.unit_of_work import unit_of

# Parsed definitions by version. A stored version never changes (a database trigger refuses
# edits), so an entry can never go stale and only the cheap "which version" query runs per event.
_PARSED: dict[str, Policy] = {}


async def named(session: AsyncSession, version: str) -> Policy | None:
    cached = _PARSED.get(version)
    if cached is not None:
        return cached
    definition = await repository.definition_of(session, version)
    if definition is None:
        return POLICIES.get(version)
    policy = _PARSED[version] = Policy.model_validate(definition)
    return policy


class _ActiveVersions:
    """The adopted versions as one transaction read them (a unit-of-work part): a consumer
    batch asks which version is in force once per event, and the answer cannot change inside
    the transaction but by the transaction's own adoption, which goes through `lifecycle`
    (reading `repository.in_force_version` afresh), never through `in_force`."""

    def __init__(self) -> None:
        self.transaction: object | None = None
        self.rows: list[tuple[str, datetime | None, datetime]] = []


def _chosen(rows: list[tuple[str, datetime | None, datetime]], at: datetime) -> str | None:
    """`repository.in_force_version`'s choice: the latest effective time at or before `at`, a
    version effective always (NULL) only after those, the latest created first on a tie."""
    due = [r for r in rows if r[1] is None or r[1] <= at]
    if not due:
        return None
    return max(due, key=lambda r: (1, r[1], r[2]) if r[1] is not None else (0, r[2], r[2]))[0]


async def in_force(session: AsyncSession, at: datetime) -> Policy:
    """The version new decisions taken at `at` use (the versions read once per transaction)."""
    known = unit_of(session).get(_ActiveVersions)
    transaction = session.sync_session.get_transaction()
    if transaction is None or known.transaction is not transaction:
        known.rows = await repository.active_versions(session)
        known.transaction = session.sync_session.get_transaction()
    version = _chosen(known.rows, at)
    policy = await named(session, version) if version else None
    # A database migrated without its seed row: the code's own definition.
    return policy or next(iter(POLICIES.values()))


async def for_case(session: AsyncSession, case: Case, at: datetime) -> Policy:
    """A case that carries a decision is judged (appeals too) under the version that decided
    it; any other case under the version in force at `at`."""
    decided_under = (case.decision or {}).get("policy_version")
    if decided_under:
        policy = await named(session, decided_under)
        if policy is not None:
            return policy
    return await in_force(session, at)


def build_draft(base: Policy, *, version: str, changes: dict[str, Any]) -> Policy:
    """The base definition with `changes` merged in; every error names the field it concerns."""
    definition = merged(base.model_dump(mode="json"), {**changes, "version": version})
    try:
        return Policy.model_validate(definition)
    except ValidationError as exc:
        errors = [
            {
                "field": "changes." + ".".join(str(p) for p in err["loc"]),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        raise Problem(
            422,
            "Invalid policy",
            "The draft is not a complete, valid policy: "
            + ", ".join(e["field"] for e in errors[:10]),
            errors=errors,
        ) from None


async def create_draft(
    session: AsyncSession,
    *,
    version: str,
    based_on: str | None,
    changes: dict[str, Any],
    actor: str,
    reason: str,
    now: datetime,
) -> tuple[Policy, Policy]:
    """Store a draft; returns (base, draft)."""
    if await repository.get(session, version) is not None:
        raise Problem(
            409,
            "Conflict",
            f"Policy version {version} already exists.",
            errors=[{"field": "body.version", "message": "exists already"}],
        )
    if based_on is None:
        base = await in_force(session, now)
    else:
        row = await repository.get(session, based_on)
        if row is None:
            raise Problem(
                422,
                "Invalid policy",
                f"No policy version {based_on} to base the draft on.",
                errors=[{"field": "based_on", "message": "unknown policy version"}],
            )
        base = Policy.model_validate(row.definition)
    draft = build_draft(base, version=version, changes=changes)
    repository.add(
        session, version=version, definition=draft.model_dump(mode="json"), based_on=base.version
    )
    await session.flush()  # the change log's row names the version
    repository.log_change(
        session,
        version=version,
        action="DRAFTED",
        actor=actor,
        reason=reason or f"Drafted from {base.version}.",
        diff=policy_changes(base, draft),
        at=now,
    )
    return base, draft


async def what_if(
    session: AsyncSession,
    draft: Policy,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    now: datetime,
) -> WhatIfReport:
    policies = {
        row.version: Policy.model_validate(row.definition)
        for row in await repository.all_versions(session)
    }
    cases = [
        PastCase(
            case_id=case_id,
            proactive=origin == CaseOrigin.PROACTIVE,
            policy_version=decision.get("policy_version", ""),
            facts=Facts.from_record(decision.get("facts") or {}),
        )
        async for case_id, origin, decision in repository.decided_cases(
            session, since=since, until=until, limit=limit
        )
    ]
    report = compare(cases, policies, draft)
    report.changes = policy_changes(await in_force(session, now), draft)
    return report
