"""The case state machine: the table is walked whole, every pair it does not list is refused,
`emit` refuses before it touches the case, and the committed diagram is the generated one."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.reconciliation.cases import transitions
from services.reconciliation.cases.errors import IllegalTransition
from services.reconciliation.cases.timeline import emit
from services.reconciliation.cases.transitions import TABLE, TRANSITIONS, Move, next_state
from services.reconciliation.models import Case
from shared.events import CaseDecided, CaseState, CaseUpdated

ROOT = Path(__file__).resolve().parents[2]
SOURCES: list[CaseState | None] = [None, *CaseState]


def _satisfying(t: transitions.Transition) -> Any:
    """A case for which every guard of the table holds (E3b's decision satisfies them all)."""
    return SimpleNamespace(
        decision={"rule_id": "E3b"},
        decided_at=datetime(2026, 1, 1, tzinfo=UTC),
        proposal={"rule_id": "L1"},
    )


def _reachable() -> set[CaseState]:
    seen: set[CaseState] = set()
    frontier: list[CaseState | None] = [None]
    while frontier:
        state = frontier.pop()
        for t in TRANSITIONS:
            if t.source == state and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    return seen


def test_every_state_is_reachable_from_a_new_case_and_every_listed_move_is_accepted() -> None:
    assert _reachable() == set(CaseState)
    for t in TRANSITIONS:
        assert next_state(t.source, t.move, _satisfying(t)) is t.target


@pytest.mark.parametrize(
    ("state", "move"),
    [(s, m) for s, m in itertools.product(SOURCES, Move) if (s, m) not in TABLE],
)
def test_every_pair_not_in_the_table_is_refused(state: CaseState | None, move: Move) -> None:
    case = SimpleNamespace(decision={"rule_id": "E3b"}, decided_at=datetime.now(UTC))
    with pytest.raises(IllegalTransition):
        next_state(state, move, case)


def test_the_table_mirrors_the_lifecycle_the_sop_describes() -> None:
    # A few anchors a reader would check first.
    assert (CaseState.CLOSED, Move.DECIDE) not in TABLE  # a closed case is appealed, not decided
    assert TABLE[(CaseState.DECIDED, Move.SETTLE)].target is CaseState.CLOSED
    assert TABLE[(CaseState.APPEALED, Move.DECIDE)].target is CaseState.DECIDED
    # The SOP still owns its own proposal awaiting approval (`decisions.reevaluable`): a fact
    # arriving then may close the claim; a case a person escalated it never touches.
    assert TABLE[(CaseState.ESCALATED, Move.REJECT)].target is CaseState.REJECTED
    assert TABLE[(CaseState.ESCALATED, Move.REPROPOSE)].target is CaseState.ESCALATED
    assert (CaseState.UNDER_REVIEW, Move.REPROPOSE) not in TABLE
    assert all(TABLE[(s, Move.NOTE)].target is s for s in CaseState)


def test_a_guard_that_does_not_hold_is_refused() -> None:
    not_e3b = SimpleNamespace(decision={"rule_id": "E3"}, decided_at=datetime.now(UTC))
    with pytest.raises(IllegalTransition, match="decided by E3b"):
        next_state(CaseState.REJECTED, Move.REOPEN, not_e3b)
    undecided = SimpleNamespace(decision=None, decided_at=None)
    with pytest.raises(IllegalTransition, match="has a decision"):
        next_state(CaseState.CLOSED, Move.APPEAL, undecided)
    with pytest.raises(IllegalTransition, match="decision recorded"):
        next_state(CaseState.OPEN, Move.DECIDE, undecided)


def test_emit_refuses_a_move_the_table_does_not_allow_before_touching_the_case() -> None:
    case = Case(
        case_id="CASE-X",
        return_id="RET-X",
        seller_id="S-1",
        origin="SELLER",
        state=CaseState.CLOSED.value,
        version=3,
        reason_code="R",
    )
    with pytest.raises(IllegalTransition):
        emit(
            None,  # type: ignore[arg-type]  # refused before the session is used
            case,
            CaseUpdated,
            move=Move.WAIT,
            actor="system",
            reason="x",
            now=datetime.now(UTC),
            change="X",
        )
    assert (case.state, case.version, case.reason_code) == ("CLOSED", 3, "R")


def test_the_committed_diagram_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "case-states.md").read_text()
    assert committed == transitions.document(), "run `disputedesk case-states --write`"


def test_every_move_has_its_case_event_and_emit_refuses_another() -> None:
    assert set(transitions.EVENT_OF) == set(Move)
    case = Case(
        case_id="CASE-X",
        return_id="RET-X",
        seller_id="S-1",
        origin="SELLER",
        state=CaseState.OPEN.value,
        version=1,
    )
    with pytest.raises(IllegalTransition, match="published as CaseDecided"):
        emit(
            None,  # type: ignore[arg-type]  # refused before the session is used
            case,
            CaseDecided,
            move=Move.NOTE,
            actor="system",
            reason="x",
            now=datetime.now(UTC),
        )
    assert (case.state, case.version) == ("OPEN", 1)
