"""Partner disputes: a debit notice for every partner debit, the partner's contest within the
window the policy gives, the desk's ruling with its ledger reversal, and the notice endpoints.

Money rules: a reversal moves the reversed amount off the partner's receivable onto the
marketplace's own cost account; the seller's payout is never touched, and every transaction is
balanced (the ledger's own trigger checks it as the lines are inserted).
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.reconciliation import metrics
from services.reconciliation.cases import repository as cases
from services.reconciliation.cases.timeline import SYSTEM, note
from services.reconciliation.disputes import repository
from services.reconciliation.disputes.errors import (
    ContestWindowClosed,
    EndpointNotFound,
    NoContestToRule,
    NotDeadLettered,
    NoticeNotContestable,
    NoticeNotFound,
    ReversalOutOfRange,
)
from services.reconciliation.facts import repository as facts
from services.reconciliation.ledger import repository as ledger
from services.reconciliation.ledger import service as ledger_service
from services.reconciliation.ledger.postings import Posting
from services.reconciliation.models import Case, DebitNotice, NoticeContest, PartnerEndpoint
from services.reconciliation.policy import service as policies
from services.reconciliation.tasks import repository as task_repository
from services.reconciliation.tasks.holds import new_task
from services.reconciliation.tasks.teams import Team
from shared.events import DecisionRecord
from shared.keys import SECRETS_KEYS, load_key_list
from shared.partner_signing import SigningScheme
from shared.secretbox import SecretBox

NOTICE_TYPE = "partner.debit_notice.v1"
WITHDRAWAL_TYPE = "partner.debit_notice_withdrawn.v1"
RULING_TYPE = "partner.debit_notice_ruled.v1"
# A ruled notice's dispute: what the partner is owed after the ruling is the ruling itself.
RULED = frozenset({"UPHELD", "REVERSED", "PARTIAL"})
# The disputes in which some of the debit still stands: an overturn takes it off, so the notice
# is withdrawn and the partner told (after PARTIAL, the contest keeps its ruling). One REVERSED
# left the partner owing nothing already; the overturn posts back what the ruling took off.
WITHDRAWABLE = frozenset({"OPEN", "CONTESTED", "FINAL", "UPHELD", "PARTIAL"})
CONTEST_REVIEW = "PARTNER_CONTEST"
MARKETPLACE_COST = "marketplace_cost"


@functools.cache
def secret_box() -> SecretBox:
    """Endpoint signing secrets are encrypted at rest with the same key list intake uses."""
    purpose = "reconciliation keeps partner notice secrets encrypted at rest"
    return SecretBox(load_key_list(SECRETS_KEYS, purpose=purpose))


def _secret_context(partner_id: str) -> str:
    return f"partner_notice_secret:{partner_id}"


def endpoint_secret(row: PartnerEndpoint) -> str:
    return secret_box().decrypt(row.secret_encrypted, context=_secret_context(row.partner_id))


async def register_endpoint(
    session: AsyncSession,
    *,
    partner_id: str,
    url: str,
    scheme: SigningScheme,
    secret: str,
    enabled: bool,
    finance_contact: str | None,
    now: datetime,
) -> PartnerEndpoint:
    encrypted = secret_box().encrypt(secret, context=_secret_context(partner_id))
    # A PUT is an upsert: a first registration is inserted disabled unless the partner has a
    # row, then the row is locked and given the request's values. Two first PUTs of one partner
    # at once both succeed, one after the other (the later one's values stand), where a
    # read-then-insert let one fail on the key.
    await repository.add_endpoint_if_absent(
        session,
        partner_id,
        url=url,
        scheme=scheme.value,
        secret_encrypted=encrypted,
        now=now,
    )
    row = await repository.endpoint(session, partner_id, lock=True)
    if row is None:  # cannot be: inserted above or already there, and never deleted
        raise EndpointNotFound(partner_id)
    was_enabled = bool(row.enabled)
    row.url, row.scheme, row.secret_encrypted = url, scheme.value, encrypted
    row.enabled, row.finance_contact, row.updated_at = enabled, finance_contact, now
    await session.flush()
    if not enabled:
        await repository.park(session, partner_id)  # kept, not dropped
    elif not was_enabled:
        await repository.unpark(session, partner_id, now)
    return row


async def set_enabled(
    session: AsyncSession, *, partner_id: str, enabled: bool, now: datetime
) -> PartnerEndpoint:
    row = await repository.endpoint(session, partner_id)
    if row is None:
        raise EndpointNotFound(partner_id)
    if enabled and not row.enabled:
        await repository.unpark(session, partner_id, now)
    elif not enabled:
        await repository.park(session, partner_id)
    row.enabled, row.updated_at = enabled, now
    return row


async def _case_facts(session: AsyncSession, case: Case) -> dict[str, Any]:
    """What the debit rests on, as the partner can check it against its own records."""
    scans = await facts.scans(session, case.return_id)
    evidence: list[dict[str, Any]] = []
    for esc in await facts.escalations(session, case.return_id):
        evidence += [{"kind": e.get("kind"), "sha256": e.get("sha256")} for e in esc.evidence]
    for added in await facts.evidence_additions(session, case.return_id):
        evidence += [{"kind": e.get("kind"), "sha256": e.get("sha256")} for e in added.evidence]
    return {
        "scans": [
            {
                "type": s.event_type,
                "occurred_at": s.occurred_at.isoformat(),
                "weight_g": s.weight_g,
                "hub_id": s.hub_id,
                "pod_otp_verified": s.pod_otp_verified,
                "qc_failure_reason": s.qc_failure_reason,
            }
            for s in scans
            if s.partner_id == case.partner_id
        ],
        "evidence": evidence,
    }


async def issue_notice(
    session: AsyncSession,
    *,
    case: Case,
    record: DecisionRecord,
    settlement_id: UUID,
    contest_window_days: int,
    now: datetime,
) -> DebitNotice:
    """One notice per settlement that debits a partner, written in the settlement's own
    transaction: the debit and the duty to tell the partner exist together or not at all."""
    assert case.partner_id is not None
    notice_id = uuid4()
    snapshot = record.facts or {}
    payload = {
        "type": NOTICE_TYPE,
        "notice_id": str(notice_id),
        "partner_id": case.partner_id,
        "case_id": case.case_id,
        "return_id": case.return_id,
        "amount": record.partner_debit,
        "currency": "INR",
        "amounts_in": "paise",
        "rule": {
            "rule_id": record.rule_id,
            "policy_version": record.policy_version,
            "liable_party": record.liable_party.value if record.liable_party else None,
            "explanation": record.explanation,
        },
        "facts": {
            "pickup_weight_g": snapshot.get("pickup_weight_g"),
            "delivered_weight_g": snapshot.get("delivered_weight_g"),
            "received_weight_g": snapshot.get("received_weight_g"),
            "qc_required": snapshot.get("qc_required"),
            "qc_result": snapshot.get("qc_result"),
            "pod_otp_verified": snapshot.get("pod_otp_verified"),
            "declared_lost": snapshot.get("declared_lost"),
            "declared_damaged_in_transit": snapshot.get("declared_damaged_in_transit"),
            **await _case_facts(session, case),
        },
        "contest_window_days": contest_window_days,
        "issued_at": now.isoformat(),
    }
    notice = DebitNotice(
        notice_id=notice_id,
        case_id=case.case_id,
        partner_id=case.partner_id,
        settlement_id=settlement_id,
        amount=record.partner_debit,
        rule_id=record.rule_id,
        policy_version=record.policy_version,
        contest_window_days=contest_window_days,
        payload=payload,
        delivery="PENDING",
        attempts=0,
        next_attempt_at=now,
        dispute="OPEN",
        reversed_amount=0,
        created_at=now,
    )
    session.add(notice)
    return notice


async def owned_notice(
    session: AsyncSession, notice_id: UUID, *, partner_id: str | None, lock: bool = False
) -> DebitNotice:
    """The notice, if the caller may see it: `partner_id` None is the desk (any notice).

    `lock` locks its case first, then the notice: the order an overturn takes them in (it
    withdraws the case's notices with the case locked), so a contest or a ruling racing an
    overturn runs wholly before or after it, never on a debit the overturn is reversing."""
    row = await repository.notice(session, notice_id)
    if row is None or (partner_id is not None and row.partner_id != partner_id):
        raise NoticeNotFound(notice_id)
    if lock:
        await cases.lock(session, row.case_id)
        row = await repository.notice(session, notice_id, lock=True)
        if row is None:
            raise NoticeNotFound(notice_id)
    return row


async def contest(
    session: AsyncSession,
    *,
    notice_id: UUID,
    partner_id: str,
    reason: str,
    evidence: list[dict[str, Any]],
    actor: str,
    now: datetime,
) -> NoticeContest:
    notice = await owned_notice(session, notice_id, partner_id=partner_id, lock=True)
    if notice.dispute == "FINAL" or (notice.contest_by is not None and now > notice.contest_by):
        raise ContestWindowClosed(
            notice_id, notice.contest_by.isoformat() if notice.contest_by else ""
        )
    if notice.dispute != "OPEN":
        raise NoticeNotContestable(notice_id, notice.dispute)
    row = NoticeContest(
        contest_id=uuid4(),
        notice_id=notice.notice_id,
        partner_id=partner_id,
        reason=reason,
        evidence=evidence,
        filed_by=actor,
        filed_at=now,
    )
    session.add(row)
    notice.dispute = "CONTESTED"
    case = await cases.get(session, notice.case_id)
    if case is not None:
        note(
            session,
            case,
            kind="PARTNER_CONTESTED",
            actor=actor,
            reason=f"{partner_id} contested its debit of {notice.amount} paise: {reason}",
            now=now,
            data={"notice_id": str(notice.notice_id), "evidence": len(evidence)},
        )
        # The review is a task of the team that deals with partners, due by its SLA.
        new_task(
            session,
            case=case,
            team=Team.LOGISTICS_PARTNER_OPS,
            ask=f"Review {partner_id}'s contest of debit notice {notice.notice_id} "
            f"({notice.amount} paise, rule {notice.rule_id}) and rule on it.",
            owner=None,
            blocks_settlement=False,
            hold_kind=CONTEST_REVIEW,
            actor=actor,
            now=now,
            p=await policies.for_case(session, case, now),
        )
    return row


async def rule(
    session: AsyncSession,
    *,
    notice_id: UUID,
    outcome: str,
    reversed_amount: int | None,
    reason: str,
    actor: str,
    now: datetime,
) -> NoticeContest:
    """UPHELD: the debit stands. REVERSED: all of it comes off the partner. PARTIAL: the given
    amount does. The marketplace bears what comes off; the seller keeps every paisa paid."""
    notice = await owned_notice(session, notice_id, partner_id=None, lock=True)
    contest_row = await repository.contest_of(session, notice.notice_id)
    if notice.dispute != "CONTESTED" or contest_row is None:
        raise NoContestToRule(notice_id, notice.dispute)
    amount = {"UPHELD": 0, "REVERSED": notice.amount}.get(outcome, reversed_amount or 0)
    if outcome == "PARTIAL" and not 0 < amount < notice.amount:
        raise ReversalOutOfRange(amount, notice.amount)
    if amount:
        reversal_id = uuid4()
        account = f"partner_receivable:{notice.partner_id}"
        await ledger.add_transaction(
            session,
            transaction_id=reversal_id,
            case_id=notice.case_id,
            kind="CONTEST_REVERSAL",
            lines=[
                Posting(account, "partner_receivable", notice.partner_id, -amount),
                Posting(MARKETPLACE_COST, MARKETPLACE_COST, None, amount),
            ],
            posted_at=now,
            description=f"{outcome.title()} contest of debit notice {notice.notice_id} "
            f"({notice.case_id}): the marketplace bears {amount} paise",
            policy_version=notice.policy_version,
        )
        contest_row.reversal_id = reversal_id
    contest_row.outcome = outcome
    contest_row.reversed_amount = amount
    contest_row.ruling = reason
    contest_row.decided_by = actor
    contest_row.decided_at = now
    notice.dispute = outcome
    notice.reversed_amount = amount
    notice.final_at = now
    # The partner contested through its own key; it learns the ruling the way it got the
    # notice, pushed to its endpoint and signed (its key still reads it on the notice too).
    _owe_message(notice, now)
    await _close_contest_review(
        session, notice, "DONE", actor=actor, resolution=f"Ruled {outcome}: {reason}", now=now
    )
    case = await cases.get(session, notice.case_id)
    if case is not None:
        note(
            session,
            case,
            kind="PARTNER_CONTEST_RULED",
            actor=actor,
            reason=f"The partner's contest was ruled {outcome}: {reason}",
            now=now,
            data={"notice_id": str(notice.notice_id), "reversed_amount": amount},
        )
    return contest_row


async def withdraw_notices(session: AsyncSession, *, case: Case, now: datetime) -> None:
    """An overturn reversed the case's settlements, the partner's debit with them. A notice on
    which some of that debit still stood is WITHDRAWN (contesting or ruling on it would take the
    reversed debit off a second time), its review task cancelled and the partner told; what a
    ruling already took off the partner is posted back, since the overturn's reversal took off
    the whole debit again."""
    for listed in await repository.notices(session, case_id=case.case_id, limit=1000):
        # Locked and read afresh: the delivery loop may be posting this notice right now, and
        # what it is owed next (the notice or its withdrawal) is decided on its current state.
        notice = await repository.notice(session, listed.notice_id, lock=True)
        if notice is None:
            continue
        contest_row = await repository.contest_of(session, notice.notice_id)
        if notice.dispute in WITHDRAWABLE:
            was = notice.dispute
            # A notice already final (FINAL, UPHELD, PARTIAL) keeps the moment it became so; one
            # still open or contested ends with the withdrawal.
            notice.dispute, notice.withdrawn_at = "WITHDRAWN", now
            notice.final_at = notice.final_at or now
            _owe_message(notice, now)
            if contest_row is not None and contest_row.outcome is None:
                # The contest is moot, not pending: the partner's statement shows it closed.
                contest_row.outcome, contest_row.reversed_amount = "WITHDRAWN", 0
                contest_row.decided_by, contest_row.decided_at = SYSTEM, now
                contest_row.ruling = "The debit was withdrawn: the decision was overturned."
            await _close_contest_review(
                session,
                notice,
                "CANCELLED",
                actor=SYSTEM,
                resolution="The debit was withdrawn: the decision was overturned.",
                now=now,
            )
            note(
                session,
                case,
                kind="PARTNER_DEBIT_WITHDRAWN",
                actor=SYSTEM,
                reason=f"The debit of {notice.amount} paise to {notice.partner_id} was withdrawn "
                f"({was.lower()} notice): the decision that made it was overturned.",
                now=now,
                data={"notice_id": str(notice.notice_id)},
            )
        if contest_row is not None and contest_row.reversal_id is not None:
            await ledger_service.reverse_transaction(
                session,
                case_id=case.case_id,
                transaction_id=contest_row.reversal_id,
                now=now,
                description=f"Reversal of the contest reversal {contest_row.reversal_id} "
                f"({case.case_id}): the debit it took off was reversed with the overturned "
                "decision",
            )


def _owe_message(notice: DebitNotice, now: datetime) -> None:
    """What the partner is owed now is the ruling or the withdrawal, not the notice: a notice
    not delivered yet is never sent (the delivery loop sends the later message in its place,
    which names the notice and its amount), and one already delivered is followed by it. A
    parked notice stays parked (its endpoint is off); enabling the endpoint sends the message.
    Only the latest is owed: a ruling not delivered yet when an overturn withdraws the notice
    gives way to the withdrawal."""
    if notice.delivery == "PARKED":
        return
    notice.delivery, notice.attempts, notice.next_attempt_at = "PENDING", 0, now


def _names_the_notice(notice: DebitNotice) -> dict[str, Any]:
    """What a later message about a notice repeats of it, so the partner can match it even if
    the notice itself never reached it: its id, case, return, amount and when it was issued."""
    return {
        "notice_id": str(notice.notice_id),
        "partner_id": notice.partner_id,
        "case_id": notice.case_id,
        "return_id": notice.payload.get("return_id"),
        "amount": notice.amount,
        "currency": "INR",
        "amounts_in": "paise",
        "issued_at": notice.payload.get("issued_at"),
    }


def withdrawal_payload(notice: DebitNotice) -> dict[str, Any]:
    """The message that tells a partner its debit is withdrawn: enough to match it to the
    notice (its id, case, return, amount, when it was issued) even if the notice itself never
    reached the partner."""
    return {
        "type": WITHDRAWAL_TYPE,
        **_names_the_notice(notice),
        # A notice withdrawn by a process older than `withdrawn_at` (during a rolling upgrade)
        # has its withdrawal in `final_at`, as that code wrote it.
        "withdrawn_at": (notice.withdrawn_at or notice.final_at or notice.created_at).isoformat(),
        "reason": "The decision that made this debit was overturned on appeal: the debit is "
        "reversed on your account and nothing is owed for this case.",
    }


def ruling_payload(notice: DebitNotice, contest_row: NoticeContest | None) -> dict[str, Any]:
    """The message that tells a partner how its contest was ruled: the notice it names (id,
    case, return, amount, issue time, so it matches even if the notice itself never reached
    the partner), the outcome, what comes off its account and what it still owes. The desk's
    reason is the partner's to read; who ruled is not (a person at the marketplace)."""
    decided_at = contest_row.decided_at if contest_row is not None else None
    return {
        "type": RULING_TYPE,
        **_names_the_notice(notice),
        "outcome": notice.dispute,
        "reversed_amount": notice.reversed_amount,
        "amount_due": notice.amount - notice.reversed_amount,
        "ruling": contest_row.ruling if contest_row is not None else None,
        "ruled_at": (decided_at or notice.final_at or notice.created_at).isoformat(),
    }


async def _close_contest_review(
    session: AsyncSession,
    notice: DebitNotice,
    status: str,
    *,
    actor: str,
    resolution: str,
    now: datetime,
) -> None:
    """Close the open review task of the notice's contest: DONE by a ruling, CANCELLED when an
    overturn withdrew the debit under review."""
    for task in await task_repository.of_case(session, notice.case_id):
        if (
            task.hold_kind == CONTEST_REVIEW
            and task.status == "OPEN"
            and str(notice.notice_id) in task.ask
        ):
            task.status, task.closed_by, task.closed_at = status, actor, now
            task.resolution = resolution
            hours = (now - task.created_at).total_seconds() / 3600
            metrics.task_closed(session, task.team, status, hours)


async def redeliver(session: AsyncSession, *, notice_id: UUID, now: datetime) -> DebitNotice:
    """A dead-lettered notice goes back in the queue with a fresh round of attempts."""
    notice = await owned_notice(session, notice_id, partner_id=None, lock=True)
    if notice.delivery != "DEAD":
        raise NotDeadLettered(notice_id, notice.delivery)
    notice.delivery, notice.attempts, notice.next_attempt_at = "PENDING", 0, now
    return notice


def contest_by(delivered_at: datetime, window_days: int) -> datetime:
    return delivered_at + timedelta(days=window_days)
