"""Every named domain error of reconciliation and the problem type it answers with: the one
place where a domain refusal becomes HTTP (installed by `app.py`)."""

from __future__ import annotations

from services.reconciliation.cases.errors import (
    AppealNeedsAnotherDecider,
    CaseNotFound,
    CaseStateConflict,
    EvidenceAlreadyRequested,
    IllegalTransition,
    OverturnIncomplete,
    OwnershipUnverified,
    ProposalSuperseded,
    ProposerCannotApprove,
)
from services.reconciliation.disputes.errors import (
    ContestWindowClosed,
    EndpointNotFound,
    NoContestToRule,
    NotDeadLettered,
    NoticeNotContestable,
    NoticeNotFound,
    ReversalOutOfRange,
    StatementMonthNotOver,
)
from services.reconciliation.ledger.errors import PartnerNotFound
from services.reconciliation.policy.errors import (
    EffectiveTimeInPast,
    InForceCannotRetire,
    PolicyNotFound,
    PolicyStateConflict,
    ProposerCannotAdopt,
)
from services.reconciliation.tasks.errors import (
    AlreadyAsked,
    AlreadyWithManagement,
    BlockingTaskCannotBeCancelled,
    DeskMustConfirm,
    FinanceMustConfirm,
    ManagementMustClose,
    TaskNotFound,
    TaskNotOpen,
    TaskOfAnotherTeam,
)
from shared.errors import DomainError, ProblemType

NOT_FOUND = ProblemType(404, "Not found")
CONFLICT = ProblemType(409, "Conflict")
FORBIDDEN = ProblemType(403, "Forbidden")
VALIDATION_FAILED = ProblemType(422, "Validation failed")

PROBLEM_TYPES: dict[type[DomainError], ProblemType] = {
    CaseNotFound: NOT_FOUND,
    CaseStateConflict: CONFLICT,
    OwnershipUnverified: CONFLICT,
    # Refused before anything was written; the case moved under the caller's feet.
    IllegalTransition: CONFLICT,
    ProposerCannotApprove: FORBIDDEN,
    ProposalSuperseded: CONFLICT,
    EvidenceAlreadyRequested: CONFLICT,
    AppealNeedsAnotherDecider: FORBIDDEN,
    OverturnIncomplete: VALIDATION_FAILED,
    PolicyNotFound: NOT_FOUND,
    PolicyStateConflict: CONFLICT,
    ProposerCannotAdopt: FORBIDDEN,
    EffectiveTimeInPast: CONFLICT,
    InForceCannotRetire: CONFLICT,
    NoticeNotFound: NOT_FOUND,
    EndpointNotFound: NOT_FOUND,
    PartnerNotFound: NOT_FOUND,
    ContestWindowClosed: CONFLICT,
    NoticeNotContestable: CONFLICT,
    NoContestToRule: CONFLICT,
    NotDeadLettered: CONFLICT,
    ReversalOutOfRange: VALIDATION_FAILED,
    StatementMonthNotOver: CONFLICT,
    TaskNotFound: NOT_FOUND,
    TaskNotOpen: CONFLICT,
    BlockingTaskCannotBeCancelled: CONFLICT,
    FinanceMustConfirm: FORBIDDEN,
    DeskMustConfirm: FORBIDDEN,
    AlreadyWithManagement: CONFLICT,
    AlreadyAsked: CONFLICT,
    ManagementMustClose: FORBIDDEN,
    TaskOfAnotherTeam: FORBIDDEN,
}
