"""The SOP lifecycle: a draft proposed with an effective time and its stored what-if, adopted by
a second ops_manager (four eyes), retired when no longer wanted. Every step writes its reason and
diff to the append-only change log; no step ever edits a definition."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.models import PolicyVersion
from services.reconciliation.policy import repository
from services.reconciliation.policy.errors import (
    EffectiveTimeInPast,
    InForceCannotRetire,
    PolicyNotFound,
    PolicyStateConflict,
    ProposerCannotAdopt,
)
from services.reconciliation.policy.service import what_if
from services.reconciliation.policy.sop_v1 import Policy


async def _locked(session: AsyncSession, version: str) -> PolicyVersion:
    row = await repository.lock(session, version)
    if row is None:
        raise PolicyNotFound(version)
    return row


def proposal_summary(report: dict[str, Any]) -> dict[str, Any]:
    """What the approver reads before anything else: money, cases, partners."""
    return {
        "cases_judged": report["cases"],
        "cases_changed": report["changed"],
        "payout_delta": report["delta"]["payout"],
        "partner_debit_delta": report["delta"]["partner_debit"],
        "marketplace_cost_delta": report["delta"]["marketplace_cost"],
        "partners_affected": report["partners"],
    }


async def propose(
    session: AsyncSession,
    *,
    version: str,
    effective_at: datetime,
    reason: str,
    actor: str,
    now: datetime,
    what_if_days: int,
    what_if_limit: int,
) -> PolicyVersion:
    row = await _locked(session, version)
    if row.status != "DRAFT":
        raise PolicyStateConflict(version, row.status, "propose it (only a draft can be)")
    if effective_at < now:
        raise EffectiveTimeInPast(version, effective_at.isoformat(), now.isoformat(), asked=True)
    report = (
        await what_if(
            session,
            Policy.model_validate(row.definition),
            since=now - timedelta(days=what_if_days),
            until=None,
            limit=what_if_limit,
            now=now,
        )
    ).as_dict()
    row.status = "PROPOSED"
    row.proposed_by = actor
    row.proposed_at = now
    row.effective_at = effective_at
    row.what_if = {
        "computed_at": now.isoformat(),
        "summary": proposal_summary(report),
        "report": report,
    }
    repository.log_change(
        session,
        version=version,
        action="PROPOSED",
        actor=actor,
        reason=reason,
        diff=report["policy_changes"],
        at=now,
        effective_at=effective_at,
    )
    return row


async def approve(
    session: AsyncSession, *, version: str, reason: str, actor: str, now: datetime
) -> PolicyVersion:
    row = await _locked(session, version)
    if row.status != "PROPOSED":
        raise PolicyStateConflict(version, row.status, "approve it (nothing is proposed)")
    # Four eyes on what is adopted, not only on the last step: the manager who wrote the draft
    # could approve it once a colleague had proposed it (hostile8), adopting their own words.
    if row.proposed_by == actor or actor in await repository.authors(session, version):
        raise ProposerCannotAdopt()
    assert row.effective_at is not None
    if row.effective_at < now:
        # The approver would be adopting it for decisions already taken in between.
        raise EffectiveTimeInPast(version, row.effective_at.isoformat(), now.isoformat())
    row.status = "ACTIVE"
    row.approved_by = actor
    row.adopted_at = now
    repository.log_change(
        session,
        version=version,
        action="APPROVED",
        actor=actor,
        reason=reason or f"Approved the proposal of {row.proposed_by}.",
        diff=(row.what_if or {}).get("report", {}).get("policy_changes", []),
        at=now,
        effective_at=row.effective_at,
    )
    return row


async def retire(
    session: AsyncSession, *, version: str, reason: str, actor: str, now: datetime
) -> PolicyVersion:
    row = await _locked(session, version)
    if row.status == "RETIRED":
        raise PolicyStateConflict(version, row.status, "retire it again")
    if row.status == "ACTIVE" and await repository.in_force_version(session, now) == version:
        raise InForceCannotRetire(version)
    previous = row.status
    row.status = "RETIRED"
    row.retired_at = now
    repository.log_change(
        session,
        version=version,
        action="RETIRED",
        actor=actor,
        reason=reason,
        diff=[{"field": "status", "from": previous, "to": "RETIRED"}],
        at=now,
    )
    return row
