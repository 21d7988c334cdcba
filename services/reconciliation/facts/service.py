"""Gather the facts snapshot for a case from the stored facts of its return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation.facts import repository
from services.reconciliation.models import Case, EscalationRecord
from services.reconciliation.policy.facts import (
    AssessmentFact,
    ClaimFact,
    EvidenceFact,
    Facts,
    ReturnFact,
    ScanFact,
    band_of,
    build_facts,
    worst_band,
)
from shared.events import ClaimType, FraudBand, ShipmentEventType

CASE_ESCALATIONS = ("PRIMARY", "MERGED")
# An escalation by a seller other than its return's: kept on record, never part of a case.
REFUSED = "REFUSED"
# Filed, before the return was known, by a seller other than the one whose claim already opened
# the return's case: it joins nothing until the feed names the return's seller.
HELD = "HELD"


def _evidence(items: list[dict[str, Any]]) -> list[EvidenceFact]:
    return [EvidenceFact(kind=i["kind"], sha256=i["sha256"]) for i in items]


def own_scans(ret: Any, scans: list[Any]) -> list[Any]:
    """The scans of the return's own partner. A scan from another partner is refused when it
    arrives after the return; one that came before its return is ignored here, so it never
    becomes a fact either."""
    if ret is None:
        return scans
    return [s for s in scans if s.partner_id == ret.partner_id]


async def load_facts(
    session: AsyncSession,
    *,
    case: Case | None,
    return_id: str,
    scans_until: datetime | None = None,
) -> Facts:
    """Everything known about the return, seen through the case's claim (if any); with
    `scans_until`, only the scans the partner made by then (by their own times)."""
    ret = await repository.get_return(session, return_id)
    scans = own_scans(ret, await repository.scans(session, return_id))
    if scans_until is not None:
        scans = [s for s in scans if s.occurred_at <= scans_until]
    every_escalation = await repository.escalations(session, return_id)
    escalations = [
        e
        for e in every_escalation
        if case is not None and e.disposition in CASE_ESCALATIONS and e.case_id == case.case_id
    ]
    refused = {e.escalation_id for e in every_escalation if e.disposition in (REFUSED, HELD)}
    additions = [
        a
        for a in await repository.evidence_additions(session, return_id)
        if a.escalation_id not in refused
    ]

    claim: ClaimFact | None = None
    primary: EscalationRecord | None = None
    if case is not None and case.primary_escalation_id:
        primary = next(
            (e for e in escalations if e.escalation_id == case.primary_escalation_id), None
        )
    if primary is not None:
        claim = ClaimFact(ClaimType(primary.claim_type), primary.claimed_amount, primary.filed_at)
    elif case is not None and ret is not None:
        trigger_at = next(
            (s.occurred_at for s in scans if s.ce_id == case.trigger_ce_id), case.opened_at
        )
        claim = ClaimFact(
            ClaimType(case.claim_type) if case.claim_type else None, ret.item_value, trigger_at
        )

    evidence: list[EvidenceFact] = []
    weights: list[tuple[datetime, int]] = []
    if case is not None:
        for e in escalations:
            evidence += _evidence(e.evidence)
            if e.received_weight_g is not None:
                weights.append((e.filed_at, e.received_weight_g))
        for a in additions:
            evidence += _evidence(a.evidence)
            if a.received_weight_g is not None:
                weights.append((a.added_at, a.received_weight_g))

    band = await fraud_band(session, case=case, return_id=return_id, escalations=escalations)
    return build_facts(
        ret=ReturnFact(
            ret.return_id,
            ret.seller_id,
            ret.buyer_id,
            ret.partner_id,
            ret.category,
            ret.item_value,
            ret.qc_required,
        )
        if ret
        else None,
        scans=[
            ScanFact(ShipmentEventType(s.event_type), s.occurred_at, s.weight_g, s.pod_otp_verified)
            for s in scans
        ],
        claim=claim,
        evidence=evidence,
        received_weights=weights,
        fraud_band=band,
    )


async def fraud_band(
    session: AsyncSession,
    *,
    case: Case | None,
    return_id: str,
    escalations: list[EscalationRecord],
) -> FraudBand | None:
    """The band the fraud gate reads: None until the case's own subject (its primary escalation,
    or the scan that opened a proactive case) is assessed; then the worst of the latest bands of
    every subject of the case, so a merged escalation scored HIGH still stops an auto-payment."""
    if case is None:
        return None
    rows = await repository.assessments_for(
        session,
        return_id=return_id,
        escalation_ids=[e.escalation_id for e in escalations],
        subject_ids=[e.ce_id for e in escalations]
        + ([case.trigger_ce_id] if case.trigger_ce_id else []),
    )
    # An assessment of an escalation's own event counts as the escalation's (the last such
    # escalation's, as the list is ordered); any other by its escalation, else by its subject.
    escalation_of_event = {e.ce_id: e.escalation_id for e in escalations}
    per_subject: dict[Any, list[AssessmentFact]] = {}
    for row in rows:
        subject = escalation_of_event.get(row.subject_event_id) or row.escalation_id
        per_subject.setdefault(subject or row.subject_event_id, []).append(
            AssessmentFact(FraudBand(row.band), row.assessed_at)
        )
    # A subject named by its event is keyed by the UUID itself, not its text: same grouping.
    primary_subject = case.primary_escalation_id or case.trigger_ce_id
    if primary_subject is None or primary_subject not in per_subject:
        return None
    return worst_band(band_of(v) for v in per_subject.values())
