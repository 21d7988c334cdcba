"""Named refusals of cross-team tasks; `problem_types.py` maps each to its problem type."""

from __future__ import annotations

from shared.errors import DomainError


class TaskError(DomainError):
    """Base of every refusal of the task room."""


class TaskNotFound(TaskError):
    def __init__(self, task_id: object) -> None:
        super().__init__(f"No task {task_id}.")


class TaskNotOpen(TaskError):
    field = "path.task_id"

    def __init__(self, task_id: object, status: str) -> None:
        super().__init__(f"Task {task_id} is {status}; only an open task can change.")


class BlockingTaskCannotBeCancelled(TaskError):
    field = "path.task_id"

    def __init__(self, task_id: object) -> None:
        super().__init__(
            f"Task {task_id} holds a settlement: it is completed (confirmed), never cancelled."
        )


class FinanceMustConfirm(TaskError):
    def __init__(self) -> None:
        super().__init__("A finance task is completed by a finance key.")


class DeskMustConfirm(TaskError):
    def __init__(self, team: str) -> None:
        super().__init__(
            f"A {team} task is completed by the desk (ops_agent or ops_manager), which confirms "
            "for the teams without keys; a finance key completes finance tasks only."
        )


class AlreadyWithManagement(TaskError):
    field = "path.case_id"

    def __init__(self, case_id: str, task_id: object) -> None:
        super().__init__(
            f"Case {case_id} is already with management (open task {task_id}): add to that "
            "task with a comment rather than escalating again."
        )


class AlreadyAsked(TaskError):
    def __init__(self, case_id: str, team: str, task_id: object) -> None:
        super().__init__(
            f"The {team} team is already asked this on case {case_id} (open task {task_id}): "
            "add to that task with a comment, or ask something else.",
            errors=[{"field": "body.ask", "message": f"already asked of {team} (task {task_id})"}],
        )


class ManagementMustClose(TaskError):
    def __init__(self) -> None:
        super().__init__(
            "A management task is completed or cancelled by an ops_manager: whoever escalated "
            "the case does not answer for management."
        )


class TaskOfAnotherTeam(TaskError):
    def __init__(self, bound_to: str, team: str) -> None:
        super().__init__(
            f"This key is bound to the {bound_to} team; this is the {team} team's task."
        )
