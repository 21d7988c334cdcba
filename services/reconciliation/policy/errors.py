"""Named refusals of the policy lifecycle; `problem_types.py` maps each to its problem type."""

from __future__ import annotations

from shared.errors import DomainError


class PolicyError(DomainError):
    """Base of every refusal the policy lifecycle raises."""


class PolicyNotFound(PolicyError):
    def __init__(self, version: str) -> None:
        super().__init__(f"No policy version {version}.")


class PolicyStateConflict(PolicyError):
    field = "path.version"

    def __init__(self, version: str, status: str, action: str) -> None:
        super().__init__(f"Policy version {version} is {status}; cannot {action}.")


class ProposerCannotAdopt(PolicyError):
    """Four eyes: the ops_manager who drafted or proposed a version cannot also approve it."""

    def __init__(self) -> None:
        super().__init__(
            "Four eyes: a person who drafted or proposed a policy version cannot approve it."
        )


class EffectiveTimeInPast(PolicyError):
    """A version takes effect from now on: decisions already taken are never re-judged."""

    field = "path.version"

    def __init__(self, version: str, effective_at: str, now: str, *, asked: bool = False) -> None:
        detail = (
            f"Policy version {version} would take effect at {effective_at}, before now ({now}); "
            "propose it again with a later effective time."
        )
        # Asked for in the proposal's body, or the time a proposal holds, passed before approval.
        field = "body.effective_at" if asked else "path.version"
        super().__init__(detail, errors=[{"field": field, "message": "before now"}])


class InForceCannotRetire(PolicyError):
    field = "path.version"

    def __init__(self, version: str) -> None:
        super().__init__(
            f"Policy version {version} is in force; adopt its successor first, then retire it."
        )
