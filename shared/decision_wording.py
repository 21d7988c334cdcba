"""What a decision's paragraph (`DecisionRecord.explanation`) says, where another service must
read it: reconciliation writes the paragraph, ending in an undated offer of an appeal ("You can
appeal within 7 days ..."); an appeal's own decision and every seller email that quotes the
paragraph drop that offer (the email says itself, dated, how to appeal and until when). One
definition for both, so a change of wording cannot leave the offer said twice.

A paid decision's paragraph also says who bears the cost ("... is recovered from the logistics
partner ...", "the marketplace bears ..."): an email quoting it then says that once, not again
in a sentence of its own (`states_who_bears`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_APPEAL_OFFER = re.compile(
    r"\s*(?:If you believe this is wrong, you|You) can appeal within \d+ days[^.]*\."
)


def without_appeal_offer(paragraph: str) -> str:
    """A decision's paragraph without its undated offer of an appeal."""
    return _APPEAL_OFFER.sub("", paragraph).strip()


# `policy/explain.py`'s `_who_bears` and `explain_manual`: "the cost is recovered from ...",
# "₹… of it is recovered from ...", "… of it recovered from ...", "the marketplace bears ...".
_WHO_BEARS = re.compile(r"\brecovered from (?:the|a) \w|\bthe marketplace bears\b")


def states_who_bears(paragraph: str | None) -> bool:
    """Whether a decision's paragraph already says who bears the payout."""
    return bool(paragraph) and _WHO_BEARS.search(str(paragraph)) is not None


def span_of_hours(hours: int) -> str:
    """A policy window as a seller reads it: in days when it is whole days (`7 days`), else in
    hours (`36 hours`), so the span said is the one its end is computed from. Reconciliation's
    paragraphs and notifications' sentences both say a window this way."""
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day" if days == 1 else f"{days} days"
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


def from_whole_minute(when: datetime) -> datetime:
    """A moment from which the seller may act, as the minute an email can state: rounded up to
    the next whole minute unless it is one. Emails give times to the minute, and a window that
    opens at 23:59:30 shown as 11:59 PM would invite an action 30 seconds early, refused as
    premature; a deadline ("by ...") is shown as it falls, rounded down, which is never late."""
    whole = when.replace(second=0, microsecond=0)
    return whole if whole == when else whole + timedelta(minutes=1)


def same_minute(a: datetime, b: datetime) -> bool:
    """Whether two moments read the same when stated to the minute (in any one time zone: the
    offsets in use are whole minutes)."""
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)
