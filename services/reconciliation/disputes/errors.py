"""Named refusals of partner disputes; `problem_types.py` maps each to its problem type."""

from __future__ import annotations

from shared.errors import DomainError


class DisputeError(DomainError):
    """Base of every refusal of the partner-dispute room."""


class NoticeNotFound(DisputeError):
    """Unknown, or another partner's: a partner cannot learn that a notice exists."""

    def __init__(self, notice_id: object) -> None:
        super().__init__(f"No debit notice {notice_id}.")


class ContestWindowClosed(DisputeError):
    field = "path.notice_id"

    def __init__(self, notice_id: object, contest_by: str) -> None:
        super().__init__(
            f"Debit notice {notice_id} could be contested until {contest_by}; it is final now."
        )


class NoticeNotContestable(DisputeError):
    field = "path.notice_id"

    def __init__(self, notice_id: object, dispute: str) -> None:
        super().__init__(f"Debit notice {notice_id} is {dispute}; it cannot be contested.")


class NoContestToRule(DisputeError):
    field = "path.notice_id"

    def __init__(self, notice_id: object, dispute: str) -> None:
        super().__init__(f"Debit notice {notice_id} is {dispute}; there is no open contest.")


class ReversalOutOfRange(DisputeError):
    field = "body.reversed_amount"

    def __init__(self, amount: int, debit: int) -> None:
        super().__init__(
            f"A partial reversal is more than 0 and less than the debit of {debit} paise; "
            f"{amount} is not."
        )


class EndpointNotFound(DisputeError):
    def __init__(self, partner_id: str) -> None:
        super().__init__(f"No notice endpoint registered for partner {partner_id}.")


class NotDeadLettered(DisputeError):
    field = "path.notice_id"

    def __init__(self, notice_id: object, delivery: str) -> None:
        super().__init__(f"Debit notice {notice_id} is {delivery}; only DEAD notices are resent.")


class StatementMonthNotOver(DisputeError):
    field = "path.month"

    def __init__(self, month: str) -> None:
        super().__init__(f"The statement of {month} is issued once the month is over.")
