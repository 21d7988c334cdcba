"""How long a message about to be held stays true, and its words after that: read back by the
release plan (`services/notifications/held_release.py`) when the directory learns the address."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notifications.held_release import DECISION
from services.notifications.messages.rendering import Rendered, render

# Answers that offer a decided case's appeal until its appeal-by, beside what they answer.
APPEAL_OFFERED_IN_PASSING = frozenset({"duplicate_filing", "message_received"})


def deadline_and_late_words(
    template: str, context: dict[str, Any], language: str
) -> tuple[datetime | None, Rendered | None]:
    """For a message about to be held: when what it says stops being true, and how it reads
    after that (None: not sent then). A decision's appeal offer ends at its appeal-by, after
    which the decision still needs telling (outcome, amount, reasons) with the window said
    closed; an answer to a second filing or a message offering that appeal ends there too, and
    then says the time for an appeal has passed; an evidence request or reminder ends at its
    reply-by, after which the case has moved on (closed unpaid, or with a person) and the
    request is not sent."""
    if template == DECISION:
        appeal_by = context.get("appeal_by")
        if appeal_by is None or context.get("appeal_heard"):
            return None, None
        late = render(
            template, {**context, "appeal_by": None, "appeal_closed_at": appeal_by}, language
        )
        return appeal_by, late
    if template in APPEAL_OFFERED_IN_PASSING and isinstance(context.get("appeal_by"), datetime):
        # An answer about a decided case (a second filing, a message) that offers the appeal
        # until a date: after it, the same answer says the time for an appeal has passed, as
        # it would have if written then.
        late = render(
            template, {**context, "appeal_by": None, "appeal_window_passed": True}, language
        )
        return context["appeal_by"], late
    if template in ("evidence_request", "evidence_reminder"):
        reply_by = context.get("reply_by")
        return (reply_by if isinstance(reply_by, datetime) else None), None
    return None, None
