"""One plain-language paragraph per decision, written for the seller; the email reuses it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.reconciliation.policy.facts import Facts
from services.reconciliation.policy.rules import Verdict, weight_drop_g
from services.reconciliation.policy.sop_v1 import Policy
from shared.decision_wording import (
    from_whole_minute,
    same_minute,
    span_of_hours,
    without_appeal_offer,
)
from shared.events import LiableParty
from shared.money import rupees

_PARTY_WORDS = {
    LiableParty.PARTNER: "the logistics partner that carried the return",
    LiableParty.BUYER: "the buyer who sent the item back",
    LiableParty.SELLER: "no one other than the original delivery record",
    LiableParty.MARKETPLACE: "the marketplace",
}


# Sellers are in India: every email states times in India time, so the paragraph the decision
# email quotes does too (a scan at 20:00 UTC happened the next day for the seller).
SELLER_TIME_ZONE = ZoneInfo("Asia/Kolkata")
# English month names whatever the process's locale (`strftime("%b")` follows it, and is slow).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(when: datetime | None) -> str:
    """`21 Nov 2026`, the seller's (India) date."""
    if when is None:
        return "an unknown date"
    local = when.astimezone(SELLER_TIME_ZONE)
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}"


def _moment(when: datetime | None, *, seconds: bool = False) -> str:
    """`1 Dec 2026, 1:30 AM IST`: where a day alone would let the seller act too early.
    `seconds`: to the second (`1:30:45 AM`), where two moments set side by side share a minute."""
    if when is None:
        return "an unknown time"
    local = when.astimezone(SELLER_TIME_ZONE)
    hour = local.hour % 12 or 12
    noon = "AM" if local.hour < 12 else "PM"
    at = when.astimezone(UTC)
    local_s = f":{local.second:02d}" if seconds else ""
    utc_s = f":{at.second:02d}" if seconds else ""
    # With the same moment in UTC, as every seller email states a time.
    return (
        f"{_day(when)}, {hour}:{local.minute:02d}{local_s} {noon} IST "
        f"({at.day} {_MONTHS[at.month - 1]} {at.year}, {at.hour:02d}:{at.minute:02d}{utc_s} UTC)"
    )


def _filed_and_ended(filed: datetime | None, end: datetime | None) -> tuple[str, str]:
    """A filing and the end of the window it missed, as the paragraph states them: to the
    minute, or to the second when they fall in the same minute (filed 20 seconds late, "filed
    at 12:10 AM" beside "ended at 12:10 AM" would show no reason for the closure)."""
    close = filed is not None and end is not None and same_minute(filed, end)
    return _moment(filed, seconds=close), _moment(end, seconds=close)


# A proposal above the approval cap says a manager will confirm it; the approved decision reuses
# the paragraph, and by then the manager has (the seller must not read a step still to come).
ABOVE_CAP_PENDING = (
    " Because the amount is above our approval limit, a manager will confirm it before it is paid."
)
ABOVE_CAP_APPROVED = " Because the amount is above our approval limit, a manager has confirmed it."


def persons_words(reason: str) -> str:
    """A person's reason as a sentence of its own, quoted: the paragraph around it is the
    desk's, and a reason joined into it after a colon read "stands: The scans show ..." (a
    capital mid-sentence, or a lower-case sentence when the person began with one). Said as
    written, its case kept: only its spacing made one line and a closing full stop added if it
    ends without one. Double quotes inside become single ones, so the only closing double
    quote is ours (the Hindi email reads the words back up to it)."""
    words = " ".join(reason.split()).translate(_INNER_QUOTES)
    if words[-1:] not in (".", "!", "?"):
        words += "."
    return f"“{words}”"


_INNER_QUOTES = str.maketrans({"“": "‘", "”": "’"})


def dismissed_appeal(original: str, *, return_id: str, reason: str) -> str:
    """The paragraph of an appeal dismissed: the manager's reason, then the original decision's
    own reasons (its payout included), without its offer of an appeal."""
    rest = without_appeal_offer(original.split(": ", 1)[-1])
    return (
        f"About your return {return_id}: we looked at your appeal again and the earlier decision "
        f"stands. The manager's reason, in their own words: {persons_words(reason)} "
        f"{rest[:1].upper()}{rest[1:]}"
    ).strip()


def as_approved(explanation: str) -> str:
    """The proposal's paragraph once a manager has approved it."""
    return explanation.replace(ABOVE_CAP_PENDING, ABOVE_CAP_APPROVED)


def _who_bears(party: LiableParty, payout: int, partner_debit: int, *, verb: str) -> str:
    """Who bears the payout, truthfully: a partner pays up to its liability cap per shipment and
    the marketplace the rest, so a payout above the cap is split and the paragraph says so."""
    words = _PARTY_WORDS[party]
    if party is LiableParty.PARTNER and 0 <= partner_debit < payout:
        rest = rupees(payout - partner_debit)
        if partner_debit == 0:
            return f"the marketplace bears the whole cost, {rest}"
        return (
            f"{rupees(partner_debit)} of it {verb}from {words} (the most it owes for one "
            f"shipment) and the marketplace bears the remaining {rest}"
        )
    if party is LiableParty.MARKETPLACE:
        return "the marketplace bears the cost itself"
    return f"the cost {verb}from {words}"


def _why(rule_id: str, f: Facts, p: Policy) -> str:
    claim = f.claim_type.value.replace("_", " ").lower() if f.claim_type else "return"
    drop = weight_drop_g(f)
    # The moment a new filing is in time, as the minute the seller can act on (E3b).
    earliest = (
        from_whole_minute(f.pickup_at + timedelta(days=p.windows.not_received_earliest_days))
        if f.pickup_at
        else None
    )
    window_end = (
        f.delivered_at + timedelta(hours=p.windows.claim_window_h) if f.delivered_at else None
    )
    latest = (
        f.pickup_at + timedelta(days=p.windows.not_received_latest_days) if f.pickup_at else None
    )
    # Only the rule that decided is worded: each text is built when asked for (formatting
    # the dates of every rule for each decision was a tenth of its CPU).
    reasons: dict[str, Callable[[], str]] = {
        "E1": lambda: (
            "we do not yet have every record we need about this return (the return itself "
            "and the partner's pickup, quality-check and delivery scans)"
        ),
        "E2b": lambda: (
            "this return already has a decided case, and a second claim about the same "
            "return cannot be opened"
        ),
        # As E3c: the filing time and the window's end to the minute. Two dates alone (filed on
        # the 4th, delivered on the 27th) read as exactly 7 days to a seller who filed on the
        # last day a few hours late.
        "E3": lambda: (
            "the {claim} claim was filed on {0}, more than {span} after the parcel was "
            "delivered to you on {day}: the time to claim ended at {1}"
        ).format(
            *_filed_and_ended(f.filed_at, window_end),
            claim=claim,
            span=span_of_hours(p.windows.claim_window_h),
            day=_day(f.delivered_at),
        ),
        "E3b": lambda: (
            "the parcel was picked up on "
            f"{_day(f.pickup_at)}, and a not-received claim can only be filed "
            f"{p.windows.not_received_earliest_days} days after pickup, from "
            f"{_moment(earliest)}"
            " — please file again from that date if the parcel has still not arrived"
        ),
        # The filing time and the window's end, both to the minute (sop-v1's window rule): a
        # date alone would not show a seller who filed on the last day why it was too late.
        "E3c": lambda: (
            "a not-received claim must be filed within {days} days of pickup ({day}), that is "
            "by {1}, and this one was filed on {0}"
        ).format(
            *_filed_and_ended(f.filed_at, latest),
            days=p.windows.not_received_latest_days,
            day=_day(f.pickup_at),
        ),
        "E4": lambda: "the evidence this claim type needs did not reach us by the reply-by time",
        "P2": lambda: (
            "the evidence we asked for did not reach us within "
            f"{span_of_hours(p.windows.claim_window_h)} of the parcel's delivery to you, that is "
            f"by {_moment(window_end)}"
        ),
        "E5": lambda: "the claim needs a closer look by our review team before any payment",
        "E5b": lambda: (
            "our routine checks on the claim are not complete yet, so a person will review it"
        ),
        "L1": lambda: "the logistics partner declared the parcel lost in transit",
        "L2": lambda: "the logistics partner declared the parcel damaged in transit",
        "L3": lambda: (
            f"the parcel was picked up on {_day(f.pickup_at)} and has no delivery record after "
            f"more than {p.windows.not_received_earliest_days} days"
        ),
        "L4": lambda: (
            "the partner's record shows the parcel was delivered to you on "
            f"{_day(f.delivered_at)} and the delivery was confirmed with the one-time password "
            "(OTP) sent to you"
        ),
        "L5": lambda: (
            f"the partner marked the parcel delivered on {_day(f.delivered_at)} but without an "
            "OTP-verified proof of delivery"
        ),
        "L6": lambda: (
            f"the parcel weighed {f.pickup_weight_g} g at pickup and "
            f"{(f.pickup_weight_g or 0) - (drop or 0)} g on delivery, a drop of {drop} g, which is "
            f"more than the allowed {p.weight_drop.min_drop_g} g or {p.weight_drop.min_drop_pct} %"
        ),
        "L7": lambda: (
            "the partner's quality check at pickup failed, yet the parcel was picked up anyway"
        ),
        "L8": lambda: (
            f"the partner's quality check at pickup passed, so a {claim} claim points to what "
            "happened in the partner's custody"
        ),
        "L9": lambda: (
            "the partner's quality check at pickup passed, so the damage happened in the "
            "partner's custody"
        ),
        # The reason only: the sentence after it says whom the cost is recovered from (once).
        "L10": lambda: (
            "there was no quality check at pickup to show the item was right when the buyer "
            "handed it over, so we pay you from the seller protection fund"
        ),
        "L11": lambda: (
            "there was no quality check at pickup, so responsibility for the damage is shared "
            "between you and the buyer"
        ),
        "L12": lambda: (
            "none of our standard rules fits this return, so a person from the desk will decide"
        ),
    }
    text = reasons.get(rule_id)
    return text() if text is not None else "of the facts recorded on this case"


def explain(
    verdict: Verdict, f: Facts, p: Policy, *, return_id: str, seller_claimed: bool = True
) -> str:
    """The paragraph recorded with a decision (and read by the seller). `seller_claimed` is
    false for a case the desk opened itself (P1-P3): the seller claimed nothing, so the
    paragraph speaks of the item value and asks nothing of them."""
    why = _why(verdict.rule_id, f, p)
    opening = f"About your return {return_id}: "
    amounts = verdict.amounts
    if amounts is not None and verdict.liable_party is not None and not seller_claimed:
        if amounts.payout > 0:
            bears = _who_bears(
                verdict.liable_party, amounts.payout, amounts.partner_debit, verb="is recovered "
            )
            return (
                f"{opening}we opened this case ourselves, without waiting for a claim from you, "
                f"because {why}. We are paying you {rupees(amounts.payout)} "
                f"({amounts.payout_pct} % of the item value, {rupees(amounts.base)}), and "
                f"{bears}. No action is needed from you. You can appeal "
                f"within {p.windows.appeal_window_days} days if something is not right."
            )
    if amounts is not None and verdict.liable_party is not None:
        if amounts.payout == 0:
            return (
                f"{opening}we could not approve this claim because {why}. "
                "If you believe this is wrong, you can appeal within "
                f"{p.windows.appeal_window_days} days and tell us what we missed."
            )
        bears = _who_bears(
            verdict.liable_party, amounts.payout, amounts.partner_debit, verb="is recovered "
        )
        extra = ABOVE_CAP_PENDING if verdict.step.value == "PROPOSE" else ""
        return (
            f"{opening}we are paying you {rupees(amounts.payout)} "
            f"({amounts.payout_pct} % of {rupees(amounts.base)}, the lower of your claimed amount "
            f"and the item value) because {why}. {bears[:1].upper()}{bears[1:]}; you do not "
            f"need to do anything else.{extra} You can appeal within "
            f"{p.windows.appeal_window_days} days if something is not right."
        )
    step = verdict.step.value
    if step == "REJECT" and verdict.rule_id == "E2b":
        # The appeal window is the first decision's, already running (or over): the email
        # states its date, so no fresh "7 days" here.
        return f"{opening}we could not accept this claim because {why}."
    if step == "REJECT" and not seller_claimed:
        return (
            f"{opening}we closed the case we had opened for this return without a payout "
            f"because {why}. You can appeal within {p.windows.appeal_window_days} days if you "
            "think we got this wrong."
        )
    if step == "REJECT":
        return (
            f"{opening}we could not accept this claim because {why}. You can appeal within "
            f"{p.windows.appeal_window_days} days if you think we got this wrong."
        )
    if step == "AWAIT_EVIDENCE" and verdict.rule_id == "P2":
        # P2's reply-by is the claim window from delivery, not the 72-hour evidence reply time.
        by = f.delivered_at + timedelta(hours=p.windows.claim_window_h) if f.delivered_at else None
        return (
            f"{opening}the partner's records show the parcel reached you lighter than it was "
            "picked up. To decide it we need: "
            + "; ".join(verdict.checklist)
            + f". Please send it within {span_of_hours(p.windows.claim_window_h)} of the delivery "
            "to you, "
            f"by {_moment(by)}; the case waits for you in the meantime."
        )
    if step == "AWAIT_EVIDENCE":
        return (
            f"{opening}to decide your claim we need a little more evidence: "
            + "; ".join(verdict.checklist)
            + f". Please send it within {p.timers.evidence_reply_h} hours; the case waits "
            "for you in the meantime."
        )
    if step == "WAIT_FACTS":
        return (
            f"{opening}we are waiting for {why.replace('we do not yet have ', '')}. "
            "We will continue as soon as it arrives; there is nothing you need to do."
        )
    if step == "WAIT_FRAUD":
        return (
            f"{opening}we are running our routine checks on the claim; the decision follows as "
            "soon as they finish, and there is nothing you need to do."
        )
    return (
        f"{opening}a member of our desk is reviewing your claim because {why}. "
        f"You will hear from us within {p.timers.review_sla_h} hours."
    )


def explain_manual(
    *,
    return_id: str,
    reason: str,
    payout: int,
    base: int,
    payout_pct: int,
    liable_party: LiableParty | None,
    p: Policy,
    seller_claimed: bool = True,
    appealable: bool = True,
    partner_debit: int | None = None,
) -> str:
    """The paragraph of a decision a person took: their reason, then what it means in money.
    A case the desk opened itself (P1-P3, `seller_claimed` false) had no claim to review. An
    appeal's own decision (`appealable` false) is final: no appeal is offered."""
    subject = "your claim" if seller_claimed else "the case we opened for this return ourselves"
    opening = f"About your return {return_id}: after reviewing {subject}, our desk decided, "
    if payout == 0:
        money = "this means no payment is due on this " + ("claim" if seller_claimed else "case")
    else:
        # `partner_debit` None: a caller that did not say (the whole payout is the partner's).
        debit = payout if partner_debit is None else partner_debit
        bears = (
            _who_bears(liable_party, payout, debit, verb="")
            .replace("the cost from", "recovered from")
            .replace(" of it from", " of it recovered from")
            if liable_party
            else "the marketplace bears the cost itself"
        )
        money = f"we are paying you {rupees(payout)} ({payout_pct} % of {rupees(base)}), {bears}"
    no_action = "" if seller_claimed else " No action is needed from you."
    appeal = (
        f" You can appeal within {p.windows.appeal_window_days} days if you think we got this "
        "wrong."
        if appealable
        else ""
    )
    return (
        f"{opening}in its own words: {persons_words(reason)} In short, {money}.{no_action}{appeal}"
    )
