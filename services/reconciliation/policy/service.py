"""Draft policy revisions and their what-if over past cases.

A draft is the active definition with a reviewer's changes laid over it, validated as a whole, so
a draft can never be stored half-formed; the engine keeps deciding under the active version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

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


async def active_policy(session: AsyncSession) -> Policy:
    row = await repository.active(session)
    if row is None:  # a database migrated without its seed row: the code's own definition
        return next(iter(POLICIES.values()))
    return Policy.model_validate(row.definition)


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
    session: AsyncSession, *, version: str, based_on: str | None, changes: dict[str, Any]
) -> tuple[Policy, Policy]:
    """Store a draft; returns (base, draft)."""
    if await repository.get(session, version) is not None:
        raise Problem(409, "Conflict", f"Policy version {version} already exists.")
    if based_on is None:
        base = await active_policy(session)
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
    repository.add(session, version=version, definition=draft.model_dump(mode="json"))
    return base, draft


async def what_if(
    session: AsyncSession,
    draft: Policy,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
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
    report.changes = policy_changes(await active_policy(session), draft)
    return report
