"""How long a message about to be held stays true, and its words after that: read back by the
release plan (`services/notifications/held_release.py`) when the directory learns the address."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.notifications.held_release import DECISION
from services.notifications.messages.rendering import Rendered, render


def deadline_and_late_words(
    template: str, context: dict[str, Any], language: str
) -> tuple[datetime | None, Rendered | None]:
    """For a message about to be held: when what it says stops being true, and how it reads
    after that (None: not sent then). A decision's appeal offer ends at its appeal-by, after
    which the decision still needs telling (outcome, amount, reasons) with the window said
    closed; an evidence request or reminder ends at its reply-by, after which the case has
    moved on (closed unpaid, or with a person) and the request is not sent."""
    if template == DECISION:
        appeal_by = context.get("appeal_by")
        if appeal_by is None or context.get("appeal_heard"):
            return None, None
        late = render(
            template, {**context, "appeal_by": None, "appeal_closed_at": appeal_by}, language
        )
        return appeal_by, late
    if template in ("evidence_request", "evidence_reminder"):
        reply_by = context.get("reply_by")
        return (reply_by if isinstance(reply_by, datetime) else None), None
    return None, None
