"""Every template, who it is for, and how to render it with sample data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.notifications.catalogue import samples
from services.notifications.messages.composing import (
    MANAGEMENT,
    MESSAGE_RECEIVED,
    NON_ESSENTIAL,
    PARTNER,
    SELLER,
    TEAM,
    Composition,
    compose_case_event,
    compose_feedback,
    compose_fraud_alert,
    compose_partner_statement,
    compose_task_event,
    digest_context,
)
from services.notifications.messages.rendering import Rendered, render
from services.notifications.settings import NotificationsSettings


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    name: str
    description: str
    audience: str
    trigger: str

    @property
    def essential(self) -> bool:
        return self.name not in NON_ESSENTIAL


TEMPLATES: dict[str, TemplateInfo] = {
    t.name: t
    for t in (
        TemplateInfo(
            "acknowledgement",
            "Claim received, what happens next and by when.",
            SELLER,
            "CaseOpened",
        ),
        TemplateInfo(
            "merge_acknowledgement",
            "The seller's filing joined the case already open for the return; where it stands.",
            SELLER,
            "CaseUpdated (ESCALATION_MERGED)",
        ),
        TemplateInfo(
            "duplicate_filing",
            "A second filing about a decided case: the first case's number, state and "
            "appeal-by date; or a refiling after a premature claim that is still premature: "
            "not reopened, from when to file, the appeal-by.",
            SELLER,
            "CaseUpdated (DUPLICATE_CLAIM_REJECTED, REFILED_TOO_EARLY)",
        ),
        TemplateInfo(
            MESSAGE_RECEIVED,
            "A seller's message nothing else answers: evidence or a reply after the decision "
            "(kept on the case; the appeal-by and how, the appeal's result date, or that the "
            "case is final and why), or a reply of text alone to an open case (where it "
            "stands, its next date, what the evidence still lacks). One per message.",
            SELLER,
            "CaseUpdated (SELLER_WROTE)",
        ),
        TemplateInfo(
            "appeal_late",
            "An appeal filed after the appeal window: the decision stands, and when the window "
            "closed.",
            SELLER,
            "CaseUpdated (APPEAL_LATE)",
        ),
        TemplateInfo(
            "appeal_not_heard",
            "An appeal with nothing to hear: sent before the decision (where the case stands "
            "and when the seller hears next), after the case's one appeal (its result date, "
            "or that it is final), or on a return with no case (no decision on it to appeal).",
            SELLER,
            "CaseUpdated (APPEAL_BEFORE_DECISION, APPEAL_REPEATED), AppealWithoutCase",
        ),
        TemplateInfo(
            "evidence_request",
            "The exact evidence checklist and the reply-by time.",
            SELLER,
            "EvidenceRequested",
        ),
        TemplateInfo(
            "evidence_reminder",
            "The checklist again, a day before the reply-by time, unless the seller sent "
            "evidence or the case moved on first.",
            SELLER,
            "EvidenceRequested (scheduled, cancelled by the next move)",
        ),
        TemplateInfo(
            "timeline_change",
            "A person now decides the case: the new date for the decision.",
            SELLER,
            "CaseUnderReview (not straight after opening); CaseUpdated (DECISION_OVERDUE): "
            "the promised date passed, an apology and the new date",
        ),
        TemplateInfo(
            "payment_delayed",
            "A decided payment held for a team's check missed the date the seller was given: an "
            "apology, which check still waits and the new date (once per date broken).",
            SELLER,
            "CaseUpdated (SETTLEMENT_OVERDUE)",
        ),
        TemplateInfo(
            "decision",
            "Outcome, amount, who bears the loss, why, and how to appeal.",
            SELLER,
            "CaseDecided, CaseRejected",
        ),
        TemplateInfo(
            "escalation_update",
            "The case moved to a senior person or a manager's "
            "approval; nothing is needed from the seller. Again when a new fact changed the "
            "amount proposed for approval: the new amount, the same date.",
            SELLER,
            "CaseEscalated; CaseUpdated (PROPOSAL_REPLACED, the amount changed)",
        ),
        TemplateInfo(
            "settlement",
            "The payout is credited: amount and payment reference (the ledger transaction).",
            SELLER,
            "CaseSettled (payout above zero)",
        ),
        TemplateInfo(
            "appeal_received",
            "The appeal is received; who looks at it and what happens meanwhile.",
            SELLER,
            "CaseAppealed",
        ),
        TemplateInfo(
            "appeal_outcome",
            "The result of an appeal and why.",
            SELLER,
            "CaseDecided/CaseRejected after CaseAppealed",
        ),
        TemplateInfo(
            "policy_education",
            "Daily digest of lessons after avoidable rejections "
            "(no unboxing video, claim window missed, claim filed too early).",
            SELLER,
            "CaseRejected (avoidable reason), flushed daily",
        ),
        TemplateInfo(
            "feedback_outreach",
            "A senior person reaches out after a rating of 2 or less.",
            SELLER,
            "SellerFeedbackReceived",
        ),
        TemplateInfo(
            "sla_breach_alert",
            "A case under review for more than 48 hours.",
            MANAGEMENT,
            "CaseEscalated (SLA_BREACHED)",
        ),
        TemplateInfo(
            "decision_overdue_alert",
            "An escalated case or an appeal not decided by the date the seller was given; the "
            "seller got an apology and a new date.",
            MANAGEMENT,
            "CaseUpdated (DECISION_OVERDUE)",
        ),
        TemplateInfo(
            "approval_cap_alert",
            "A payout above the approval cap waits for a manager; when a new fact replaces "
            "the proposal, both proposals (the earlier can no longer be approved).",
            MANAGEMENT,
            "CaseEscalated (ABOVE_APPROVAL_CAP), CaseUpdated (PROPOSAL_REPLACED)",
        ),
        TemplateInfo(
            "fraud_alert", "A network-level fraud finding.", MANAGEMENT, "FraudAlertRaised"
        ),
        TemplateInfo(
            "task_opened",
            "A team (finance, warehouse, ...) is asked for something on a case, with its due "
            "time; to the team's addresses (NOTIFICATIONS_TEAM_RECIPIENTS).",
            TEAM,
            "CaseTaskOpened",
        ),
        TemplateInfo(
            "management_escalation",
            "The desk escalated a case to management: why, with the case report attached "
            "as an HTML page.",
            MANAGEMENT,
            "CaseTaskOpened (escalation to management)",
        ),
        TemplateInfo(
            "task_overdue_alert",
            "A task on a case passed its due time.",
            MANAGEMENT,
            "CaseTaskOverdue",
        ),
        TemplateInfo(
            "partner_statement",
            "A partner's monthly debit statement (balances, debits, contests, reversals), the "
            "CSV attached; to its finance contact (NOTIFICATIONS_PARTNER_FINANCE_CONTACTS).",
            PARTNER,
            "PartnerStatementIssued",
        ),
    )
}


def _sample_composition(name: str, settings: NotificationsSettings) -> Composition:
    at = samples.SAMPLE_TIME
    case_id = "CASE-SAMPLE-1"
    seller = samples.SAMPLE_EMAIL
    builders: dict[str, Callable[[], Composition]] = {
        "acknowledgement": lambda: compose_case_event(
            samples.case_opened(case_id, at), settings, now=at, seller_address=seller
        ),
        "evidence_request": lambda: compose_case_event(
            samples.evidence_requested(case_id, at), settings, now=at, seller_address=seller
        ),
        "merge_acknowledgement": lambda: compose_case_event(
            samples.escalation_merged(case_id, at), settings, now=at, seller_address=seller
        ),
        "duplicate_filing": lambda: compose_case_event(
            samples.duplicate_filing(case_id, at), settings, now=at, seller_address=seller
        ),
        MESSAGE_RECEIVED: lambda: compose_case_event(
            samples.seller_wrote(case_id, at), settings, now=at, seller_address=seller
        ),
        "appeal_late": lambda: compose_case_event(
            samples.appeal_late(case_id, at), settings, now=at, seller_address=seller
        ),
        "appeal_not_heard": lambda: compose_case_event(
            samples.appeal_not_heard(case_id, at), settings, now=at, seller_address=seller
        ),
        "evidence_reminder": lambda: compose_case_event(
            samples.evidence_requested(case_id, at), settings, now=at, seller_address=seller
        ),
        "timeline_change": lambda: compose_case_event(
            samples.case_under_review(case_id, at), settings, now=at, seller_address=seller
        ),
        "payment_delayed": lambda: compose_case_event(
            samples.settlement_overdue(case_id, at), settings, now=at, seller_address=seller
        ),
        "settlement": lambda: compose_case_event(
            samples.case_settled(case_id, at), settings, now=at, seller_address=seller
        ),
        "appeal_received": lambda: compose_case_event(
            samples.case_appealed(case_id, at), settings, now=at, seller_address=seller
        ),
        "decision": lambda: compose_case_event(
            samples.case_decided(case_id, at), settings, now=at, seller_address=seller
        ),
        "escalation_update": lambda: compose_case_event(
            samples.case_escalated(case_id, at), settings, now=at, seller_address=seller
        ),
        "appeal_outcome": lambda: compose_case_event(
            samples.appeal_decided(case_id, at), settings, now=at, seller_address=seller
        ),
        "policy_education": lambda: compose_case_event(
            samples.case_rejected(case_id, at), settings, now=at, seller_address=seller
        ),
        "feedback_outreach": lambda: compose_feedback(
            samples.seller_feedback(at), settings, seller_address=seller
        ),
        "sla_breach_alert": lambda: compose_case_event(
            samples.case_escalated(case_id, at), settings, now=at, seller_address=seller
        ),
        "decision_overdue_alert": lambda: compose_case_event(
            samples.decision_overdue(case_id, at), settings, now=at, seller_address=seller
        ),
        "approval_cap_alert": lambda: compose_case_event(
            samples.case_escalated(case_id, at, "ABOVE_APPROVAL_CAP"),
            settings,
            now=at,
            seller_address=seller,
        ),
        "fraud_alert": lambda: compose_fraud_alert(samples.fraud_alert(at), settings),
        "partner_statement": lambda: compose_partner_statement(
            samples.partner_statement(at), settings
        ),
        "task_opened": lambda: compose_task_event(samples.task_opened(case_id, at), settings),
        "management_escalation": lambda: compose_task_event(
            samples.management_escalation(case_id, at), settings
        ),
        "task_overdue_alert": lambda: compose_task_event(
            samples.task_overdue(case_id, at), settings
        ),
    }
    return builders[name]()


def sample_context(name: str, settings: NotificationsSettings) -> dict[str, Any]:
    composition = _sample_composition(name, settings)
    if name == "policy_education":
        lesson = composition.lessons[0]
        return digest_context(
            lesson.seller_id,
            [{"topic": lesson.topic, "case_id": lesson.case_id, **lesson.context}],
            settings,
        )
    return next(d.context for d in composition.drafts if d.template == name)


def preview(name: str, settings: NotificationsSettings) -> Rendered:
    return render(name, sample_context(name, settings))
