"""Named errors of the case domain. Services raise these and know nothing of HTTP;
`services/reconciliation/problem_types.py` maps each to its problem type in one place."""

from __future__ import annotations

from shared.errors import DomainError
from shared.events import CaseState


class CaseError(DomainError):
    """Base of every refusal the case domain raises."""


class CaseNotFound(CaseError):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"No case {case_id}.")
        self.case_id = case_id


class CaseStateConflict(CaseError):
    """The desk asked for something the case's state does not allow now."""

    field = "path.case_id"

    def __init__(self, case_id: str, state: str, action: str) -> None:
        super().__init__(f"Case {case_id} is {state}; cannot {action}.")
        self.case_id = case_id
        self.state = state


class ProposerCannotApprove(CaseError):
    """Four eyes: a proposal above the approval cap needs someone else's approval."""

    def __init__(self) -> None:
        super().__init__("Four eyes: the person who proposed a decision cannot approve it.")


class EvidenceAlreadyRequested(CaseError):
    """The case already waits for the very evidence asked for, and nothing has happened since."""

    def __init__(self, case_id: str, reply_by: str) -> None:
        super().__init__(
            f"Case {case_id} already waits for this evidence (asked with the same checklist and "
            f"reason, reply by {reply_by}); the seller was emailed once. Ask for something else, "
            "or add a note.",
            errors=[{"field": "body.checklist", "message": "already requested, unanswered"}],
        )
        self.case_id = case_id


class ProposalSuperseded(CaseError):
    """The approval names a proposal the case no longer holds: a fact that arrived since (or a
    person's new proposal) replaced it, and approving it would pay what the facts no longer
    support. The current proposal is named so the manager can read it and approve that one."""

    def __init__(self, case_id: str, named: str, current: str | None) -> None:
        now = f"the current one is {current}" if current else "no proposal awaits approval now"
        super().__init__(
            f"Case {case_id}: proposal {named} was replaced; {now}.",
            errors=[{"field": "body.proposal_id", "message": f"superseded; {now}"}],
            current_proposal_id=current,
        )
        self.case_id = case_id


class AppealNeedsAnotherDecider(CaseError):
    """Whoever decided (or proposed) the decision cannot decide its appeal."""

    def __init__(self) -> None:
        super().__init__("An appeal is decided by an ops_manager other than the original decider.")


class OverturnIncomplete(CaseError):
    """Overturning an appeal names who is liable and how much is paid."""

    def __init__(self) -> None:
        super().__init__(
            "Overturning needs liable_party and payout_pct.",
            errors=[{"field": "body.liable_party", "message": "required to overturn"}],
        )


class IllegalTransition(CaseError):
    """A move the transition table does not allow from the case's state (or whose guard does
    not hold): a bug in the caller, never written to the case."""

    field = "path.case_id"

    def __init__(
        self,
        state: CaseState | None,
        move: str,
        *,
        guard: str | None = None,
        event: str | None = None,
    ) -> None:
        source = state.value if state is not None else "no case"
        why = f" (guard not met: {guard})" if guard else ""
        why += f" (published as {event}, not its own event)" if event else ""
        super().__init__(f"{move} is not allowed from {source}{why}.")
        self.state = state
        self.move = move
        self.guard = guard


class OwnershipUnverified(CaseError):
    """Nothing is paid on a claim until the marketplace feed has named the claimant as the
    return's seller: money must never reach the wrong party."""

    field = "path.case_id"

    def __init__(self, case_id: str) -> None:
        super().__init__(
            f"Case {case_id}: the return's feed entry has not named this seller as its owner "
            "yet, so no decision that pays can be made."
        )
        self.case_id = case_id
