"""What a seller's held messages become when the seller directory learns the address.

Pure: the seller directory applies the plan and the messages room decides, when it holds a
message, how long it stays true (`messages/release.py`); both read this, so it sits below both.

A message held for want of an address was written for the moment its case event happened; it
reaches the seller only now. Each is checked again, against the case as the seller's other held
messages tell it and against the clock, and goes out as written, goes out in its late words, or
is not sent (see docs/seller-directory.md, "Held messages, released late"):

- a message saying what will happen next (the acknowledgement and its date, an evidence request
  or reminder, a new decision date, management's date) is superseded by a later held message of
  the case saying what happened (the decision, the appeal's outcome): the seller reads the
  outcome, not a promise already kept or broken;
- a new date is superseded by a later new date of the case; an appeal's receipt by its outcome;
  a payment's delay by the payment or by a later delay;
- a message whose own deadline has passed (`true_until`: a decision's appeal-by, a request's
  reply-by) goes out in its late words when it has them (the decision: outcome, amount and
  reasons, and that the appeal window closed on that date), else is not sent;
- the rest go out in the order the case produced them, each at its own time if that is later
  (a reminder not due yet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

DECISION = "decision"
APPEAL_OUTCOME = "appeal_outcome"
# What the case's outcome makes moot: each says what is to come, and the outcome has come.
_BEFORE_THE_OUTCOME = frozenset(
    {
        "acknowledgement",
        "merge_acknowledgement",
        "evidence_request",
        "evidence_reminder",
        "timeline_change",
        "escalation_update",
    }
)
_NEW_DATE = frozenset({"timeline_change", "escalation_update"})
# template -> the later templates of the same case that say what it said, as it now stands.
SUPERSEDED_BY: dict[str, frozenset[str]] = {
    **{t: frozenset({DECISION, APPEAL_OUTCOME}) for t in _BEFORE_THE_OUTCOME},
    **{t: frozenset({DECISION, APPEAL_OUTCOME}) | _NEW_DATE for t in _NEW_DATE},
    "appeal_received": frozenset({APPEAL_OUTCOME}),
    "payment_delayed": frozenset({"settlement", "payment_delayed"}),
}

SUPERSEDED_WHY = (
    "not sent: held for want of an address, and a later {later} of the case said where it stands"
)
EXPIRED_WHY = "not sent: held for want of an address until after its own deadline had passed"


@dataclass(frozen=True, slots=True)
class Held:
    """A held message as release reads it."""

    message_id: Any
    case_id: str | None
    case_version: int | None
    template: str
    created_at: datetime
    next_attempt_at: datetime
    true_until: datetime | None
    late: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class Verdict:
    message_id: Any
    action: Literal["send", "send_late", "superseded", "expired"]
    send_at: datetime | None = None
    why: str | None = None


def plan(held: Sequence[Held], *, now: datetime) -> list[Verdict]:
    """Each held message's fate on release, in the order they are to go out."""
    ordered = sorted(
        held,
        # A reminder shares its request's version (and transaction): its own later time puts
        # it after the request.
        key=lambda m: (
            m.case_id or "",
            m.case_version or 0,
            m.next_attempt_at,
            m.created_at,
            str(m.message_id),
        ),
    )
    verdicts: list[Verdict] = []
    step = 0
    for m in ordered:
        later = _superseding(m, ordered)
        if later is not None:
            verdicts.append(
                Verdict(m.message_id, "superseded", why=SUPERSEDED_WHY.format(later=later))
            )
            continue
        expired = m.true_until is not None and m.true_until <= now
        if expired and m.late is None:
            verdicts.append(Verdict(m.message_id, "expired", why=EXPIRED_WHY))
            continue
        # Released together, they are due in the case's order (the dispatcher takes the
        # earliest first); a reminder not due yet keeps its own time.
        send_at = max(m.next_attempt_at, now + timedelta(microseconds=step))
        step += 1
        verdicts.append(Verdict(m.message_id, "send_late" if expired else "send", send_at))
    return verdicts


def _superseding(m: Held, ordered: Sequence[Held]) -> str | None:
    """The template of a later held message of the same case that supersedes `m`, if any."""
    by = SUPERSEDED_BY.get(m.template)
    if not by or m.case_id is None or m.case_version is None:
        return None
    for other in ordered:
        if (
            other.case_id == m.case_id
            and other.case_version is not None
            and other.case_version > m.case_version
            and other.template in by
        ):
            return other.template
    return None
