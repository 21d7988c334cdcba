"""The case state machine as a table: (state, move) → state, with guards. Pure: no database,
no clock. `timeline.emit` asks `next_state` before it changes any case, so a move the table does
not list is refused (`IllegalTransition`) instead of being written.

`docs/case-states.md` is generated from this table (`disputedesk case-states`); a unit test
keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from services.reconciliation.cases.errors import IllegalTransition
from shared.events import (
    CaseAppealed,
    CaseDecided,
    CaseEscalated,
    CaseEventBase,
    CaseNoteAdded,
    CaseOpened,
    CaseRejected,
    CaseSettled,
    CaseState,
    CaseUnderReview,
    CaseUpdated,
    EvidenceRequested,
)

OPEN = CaseState.OPEN
AWAITING_EVIDENCE = CaseState.AWAITING_EVIDENCE
UNDER_REVIEW = CaseState.UNDER_REVIEW
ESCALATED = CaseState.ESCALATED
DECIDED = CaseState.DECIDED
REJECTED = CaseState.REJECTED
APPEALED = CaseState.APPEALED
CLOSED = CaseState.CLOSED

# The states the SOP or the desk still works on, and the states after a decision; the same sets
# as the SOP's rules E2 (merge) and E2b (duplicate).
_WORKING = (OPEN, AWAITING_EVIDENCE, UNDER_REVIEW, ESCALATED)
_FINISHED = (DECIDED, REJECTED, APPEALED, CLOSED)
# States in which a fact arriving re-runs the SOP (see `decisions.reevaluable`): the SOP's own
# verdicts start only from these.
_SOP_OWNED = (OPEN, AWAITING_EVIDENCE, UNDER_REVIEW)


class Move(StrEnum):
    """What happens to a case. A move either takes the case to another state or records
    something on it in place (`stays`)."""

    OPEN = "OPEN"  # the case is created (CaseOpened)
    WAIT = "WAIT"  # the SOP waits for facts or for fraud's assessment (CaseUpdated)
    REQUEST_EVIDENCE = "REQUEST_EVIDENCE"  # the SOP or the desk asks the seller (EvidenceRequested)
    SEND_TO_REVIEW = "SEND_TO_REVIEW"  # to the desk (CaseUnderReview)
    ESCALATE = "ESCALATE"  # above the cap, SLA breached, or by hand (CaseEscalated)
    # A fact changed the SOP's proposal awaiting approval: the new one replaces it
    # (CaseUpdated PROPOSAL_REPLACED)
    REPROPOSE = "REPROPOSE"
    REJECT = "REJECT"  # the SOP rejects the claim (CaseRejected)
    # The return's feed entry named another seller than the claimant's (CaseRejected)
    REFUSE_CLAIMANT = "REFUSE_CLAIMANT"
    DECIDE = "DECIDE"  # a decision, by the SOP, the desk or on appeal (CaseDecided)
    SETTLE = "SETTLE"  # the decision is settled and the case closes (CaseSettled)
    CLOSE_UNAPPEALED = "CLOSE_UNAPPEALED"  # the appeal window ended (CaseUpdated CLOSED)
    APPEAL = "APPEAL"  # the seller appeals in time (CaseAppealed)
    # the seller files again after a premature claim (CaseUpdated REOPENED)
    REOPEN = "REOPEN"
    # a claim closed by a filing window (E3, E3b, E3c) and a scan reaching us after the closure
    # that takes its ground away: the partner's own record that settles the return (P1
    # declared lost or damaged in transit, P3 picked up after a failed QC), or a scan made by
    # the filing (a delivery behind a premature 'not received'): the claim is judged as it
    # would have been had the scan come first (CaseUpdated REOPENED_ON_DECLARATION)
    REOPEN_ON_RECORD = "REOPEN_ON_RECORD"
    MERGE_ESCALATION = "MERGE_ESCALATION"  # E2 (CaseUpdated ESCALATION_MERGED)
    ADD_EVIDENCE = "ADD_EVIDENCE"  # the seller adds evidence (CaseUpdated EVIDENCE_ADDED)
    # a refiling after a premature claim that is itself still premature (E3b again): the case
    # stays closed (CaseUpdated REFILED_TOO_EARLY)
    REFUSE_PREMATURE_REFILING = "REFUSE_PREMATURE_REFILING"
    REFUSE_DUPLICATE = "REFUSE_DUPLICATE"  # E2b (CaseUpdated DUPLICATE_CLAIM_REJECTED)
    REFUSE_LATE_APPEAL = "REFUSE_LATE_APPEAL"  # appeal after the window (CaseUpdated APPEAL_LATE)
    # An appeal with nothing to hear: no decision yet, or the case's one appeal already made
    # (CaseUpdated APPEAL_BEFORE_DECISION / APPEAL_REPEATED)
    ANSWER_UNHEARD_APPEAL = "ANSWER_UNHEARD_APPEAL"
    ASSIGN = "ASSIGN"  # the desk assigns the case (CaseUpdated ASSIGNED)
    # The date promised for a person's decision passed (CaseUpdated DECISION_OVERDUE)
    DECISION_OVERDUE = "DECISION_OVERDUE"
    # A decided payment held for a team missed the date the seller was given
    # (CaseUpdated SETTLEMENT_OVERDUE)
    SETTLEMENT_OVERDUE = "SETTLEMENT_OVERDUE"
    # A parcel the decision paid as lost or never delivered reached the seller: the decision
    # stands, the desk is asked to recover or confirm the money (CaseUpdated
    # DELIVERED_AFTER_LOSS_PAYOUT)
    FLAG_DELIVERY_AFTER_PAYOUT = "FLAG_DELIVERY_AFTER_PAYOUT"
    # A seller's message nothing else on the case answers (evidence or a reply after the
    # decision, a text reply to an open case) is answered (CaseUpdated SELLER_WROTE)
    ANSWER_SELLER_MESSAGE = "ANSWER_SELLER_MESSAGE"
    NOTE = "NOTE"  # a note or logged call (CaseNoteAdded)


# The case event each move is published as: a move cannot be dressed as another's event.
EVENT_OF: dict[Move, type[CaseEventBase]] = {
    Move.OPEN: CaseOpened,
    Move.WAIT: CaseUpdated,
    Move.REQUEST_EVIDENCE: EvidenceRequested,
    Move.SEND_TO_REVIEW: CaseUnderReview,
    Move.ESCALATE: CaseEscalated,
    Move.REPROPOSE: CaseUpdated,
    Move.REJECT: CaseRejected,
    Move.REFUSE_CLAIMANT: CaseRejected,
    Move.DECIDE: CaseDecided,
    Move.SETTLE: CaseSettled,
    Move.CLOSE_UNAPPEALED: CaseUpdated,
    Move.APPEAL: CaseAppealed,
    Move.REOPEN: CaseUpdated,
    Move.REOPEN_ON_RECORD: CaseUpdated,
    Move.REFUSE_PREMATURE_REFILING: CaseUpdated,
    Move.MERGE_ESCALATION: CaseUpdated,
    Move.ADD_EVIDENCE: CaseUpdated,
    Move.REFUSE_DUPLICATE: CaseUpdated,
    Move.REFUSE_LATE_APPEAL: CaseUpdated,
    Move.ANSWER_UNHEARD_APPEAL: CaseUpdated,
    Move.ASSIGN: CaseUpdated,
    Move.DECISION_OVERDUE: CaseUpdated,
    Move.SETTLEMENT_OVERDUE: CaseUpdated,
    Move.FLAG_DELIVERY_AFTER_PAYOUT: CaseUpdated,
    Move.ANSWER_SELLER_MESSAGE: CaseUpdated,
    Move.NOTE: CaseNoteAdded,
}


class CaseView(Protocol):
    """What guards read of a case (the ORM row satisfies it; tests pass a plain object)."""

    @property
    def decision(self) -> dict[str, object] | None: ...

    @property
    def decided_at(self) -> object | None: ...

    @property
    def proposal(self) -> dict[str, object] | None: ...


@dataclass(frozen=True)
class Guard:
    """A condition on the case besides its state; `label` is what the diagram shows."""

    label: str
    holds: Callable[[CaseView], bool]


HAS_DECISION = Guard("decision recorded", lambda case: case.decision is not None)
WAS_DECIDED = Guard("has a decision", lambda case: case.decided_at is not None)
HAS_PROPOSAL = Guard("proposal recorded", lambda case: case.proposal is not None)
PREMATURE_CLAIM = Guard(
    "decided by E3b",
    lambda case: case.decision is not None and case.decision.get("rule_id") == "E3b",
)

# The rules that close a claim for when it was filed, not for what happened to the parcel.
FILING_WINDOW_RULES = frozenset({"E3", "E3b", "E3c"})
CLOSED_BY_FILING_WINDOW = Guard(
    "closed by a filing window (E3, E3b, E3c)",
    lambda case: case.decision is not None and case.decision.get("rule_id") in FILING_WINDOW_RULES,
)


@dataclass(frozen=True)
class Transition:
    source: CaseState | None  # None: the case does not exist yet
    move: Move
    target: CaseState
    guard: Guard | None = None


def _to(
    sources: tuple[CaseState, ...], move: Move, target: CaseState, guard: Guard | None = None
) -> list[Transition]:
    return [Transition(s, move, target, guard) for s in sources]


def _stays(sources: tuple[CaseState, ...], move: Move) -> list[Transition]:
    return [Transition(s, move, s) for s in sources]


TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, Move.OPEN, OPEN),
    *_to(_SOP_OWNED, Move.WAIT, OPEN),
    *_to(_WORKING, Move.REQUEST_EVIDENCE, AWAITING_EVIDENCE),
    *_to(_WORKING, Move.SEND_TO_REVIEW, UNDER_REVIEW),
    *_to(_WORKING, Move.ESCALATE, ESCALATED),
    # ESCALATED too: the SOP's own proposal awaiting approval is re-judged on a new fact.
    *_to((*_SOP_OWNED, ESCALATED), Move.REJECT, REJECTED, HAS_DECISION),
    *_to(_WORKING, Move.REFUSE_CLAIMANT, REJECTED, HAS_DECISION),
    *_to((*_WORKING, APPEALED), Move.DECIDE, DECIDED, HAS_DECISION),
    Transition(DECIDED, Move.SETTLE, CLOSED, HAS_DECISION),
    Transition(REJECTED, Move.CLOSE_UNAPPEALED, CLOSED),
    *_to((DECIDED, REJECTED, CLOSED), Move.APPEAL, APPEALED, WAS_DECIDED),
    *_to((REJECTED, CLOSED), Move.REOPEN, OPEN, PREMATURE_CLAIM),
    # APPEALED too: the record takes away the ground of the closure under appeal.
    *_to((REJECTED, CLOSED, APPEALED), Move.REOPEN_ON_RECORD, OPEN, CLOSED_BY_FILING_WINDOW),
    Transition(REJECTED, Move.REFUSE_PREMATURE_REFILING, REJECTED, PREMATURE_CLAIM),
    Transition(CLOSED, Move.REFUSE_PREMATURE_REFILING, CLOSED, PREMATURE_CLAIM),
    *_stays(_WORKING, Move.MERGE_ESCALATION),
    *_stays(_WORKING, Move.ADD_EVIDENCE),
    *_stays(_FINISHED, Move.REFUSE_DUPLICATE),
    *_stays((DECIDED, REJECTED, CLOSED), Move.REFUSE_LATE_APPEAL),
    *_stays(tuple(CaseState), Move.ANSWER_UNHEARD_APPEAL),
    *_stays(tuple(CaseState), Move.ASSIGN),
    *_stays((ESCALATED, APPEALED), Move.DECISION_OVERDUE),
    Transition(ESCALATED, Move.REPROPOSE, ESCALATED, HAS_PROPOSAL),
    Transition(DECIDED, Move.SETTLEMENT_OVERDUE, DECIDED),
    *(
        Transition(s, Move.FLAG_DELIVERY_AFTER_PAYOUT, s, HAS_DECISION)
        for s in (DECIDED, APPEALED, CLOSED)
    ),
    *_stays(tuple(CaseState), Move.ANSWER_SELLER_MESSAGE),
    *_stays(tuple(CaseState), Move.NOTE),
)

TABLE: dict[tuple[CaseState | None, Move], Transition] = {
    (t.source, t.move): t for t in TRANSITIONS
}
assert len(TABLE) == len(TRANSITIONS), "a (state, move) pair is listed twice"


def next_state(state: CaseState | None, move: Move, case: CaseView) -> CaseState:
    """The state `move` takes the case to, or `IllegalTransition` when the table does not allow
    it from `state` (or its guard does not hold)."""
    transition = TABLE.get((state, move))
    if transition is None:
        raise IllegalTransition(state, move.value)
    if transition.guard is not None and not transition.guard.holds(case):
        raise IllegalTransition(state, move.value, guard=transition.guard.label)
    return transition.target


# ---------------------------------------------------------------------------------------------
# The diagram
# ---------------------------------------------------------------------------------------------


def _edges() -> Iterator[tuple[str, str, str]]:
    """(from, to, label) per arrow: moves sharing both ends share an arrow."""
    labels: dict[tuple[str, str], list[str]] = {}
    for t in TRANSITIONS:
        source = "[*]" if t.source is None else t.source.value
        label = t.move.value + (f" [{t.guard.label}]" if t.guard else "")
        labels.setdefault((source, t.target.value), [])
        if label not in labels[(source, t.target.value)]:
            labels[(source, t.target.value)].append(label)
    for (source, target), names in labels.items():
        yield source, target, ", ".join(names)


def mermaid() -> str:
    """The Mermaid state diagram of `TRANSITIONS`, as committed in `docs/case-states.md`."""
    lines = ["stateDiagram-v2"]
    lines += [f"    {source} --> {target}: {label}" for source, target, label in _edges()]
    return "\n".join(lines) + "\n"


def document() -> str:
    """The whole of `docs/case-states.md`."""
    return (
        "# Case states\n\n"
        "<!-- Generated from services/reconciliation/cases/transitions.py by\n"
        "     `disputedesk case-states --write`; do not edit by hand. -->\n\n"
        "Every change of a case goes through one function, `emit` in\n"
        "`services/reconciliation/cases/timeline.py`. It asks the transition table which state\n"
        "the move leads to from the case's state, checks the move's guard (in brackets), and\n"
        "refuses anything the table does not list (`IllegalTransition`). Moves that record\n"
        "something without changing the state are arrows from a state to itself. `DECIDED`\n"
        "rests only while a blocking task holds the settlement (docs/tasks.md); otherwise\n"
        "`SETTLE` follows in the same transaction. The SOP's rules and\n"
        "the desk's own checks decide which allowed move happens; see [sop.md](sop.md).\n\n"
        "```mermaid\n" + mermaid() + "```\n"
    )
