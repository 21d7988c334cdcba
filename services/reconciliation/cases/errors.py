"""Named errors of the case domain. Services raise these; `shared.problems` is not imported
here: `router.py` maps each to its problem type in one place."""

from __future__ import annotations

from shared.events import CaseState


class CaseError(Exception):
    """Base of every refusal the case domain raises."""


class IllegalTransition(CaseError):
    """A move the transition table does not allow from the case's state (or whose guard does
    not hold): a bug in the caller, never written to the case."""

    def __init__(self, state: CaseState | None, move: str, *, guard: str | None = None) -> None:
        self.state = state
        self.move = move
        self.guard = guard
        source = state.value if state is not None else "no case"
        why = f" (guard not met: {guard})" if guard else ""
        super().__init__(f"{move} is not allowed from {source}{why}.")
