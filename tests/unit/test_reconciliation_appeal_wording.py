"""The paragraph an appeal decision gives the seller (pure): the appeal decision is final, so it
offers no further appeal, whichever way it went."""

from __future__ import annotations

from services.reconciliation.policy.explain import dismissed_appeal, explain_manual
from services.reconciliation.policy.sop_v1 import SOP_V1
from shared.events import LiableParty


def test_an_overturned_appeal_offers_no_further_appeal() -> None:
    text = explain_manual(
        return_id="RET-1",
        reason="The label photo shows the partner's tape",
        payout=150_000,
        base=150_000,
        payout_pct=100,
        liable_party=LiableParty.PARTNER,
        p=SOP_V1,
        appealable=False,
    )
    assert "₹1,500.00" in text
    assert "appeal within" not in text


def test_a_desk_decision_still_offers_the_appeal_window() -> None:
    text = explain_manual(
        return_id="RET-1",
        reason="Checked the scans",
        payout=0,
        base=150_000,
        payout_pct=0,
        liable_party=LiableParty.SELLER,
        p=SOP_V1,
    )
    assert "You can appeal within 7 days" in text


def test_a_dismissed_appeal_keeps_the_reasons_and_drops_the_appeal_offer() -> None:
    original = (
        "About your return RET-1: we are paying you ₹750.00 (50 % of ₹1,500.00, the lower of "
        "your claimed amount and the item value) because there was no quality check at pickup. "
        "The cost is recovered from the buyer who sent the item back; you do not need to do "
        "anything else. You can appeal within 7 days if something is not right."
    )
    text = dismissed_appeal(
        original, return_id="RET-1", reason="The scans show no loss in the partner's custody."
    )
    assert text == (
        "About your return RET-1: we looked at your appeal again and the earlier decision "
        "stands. The manager's reason, in their own words: “The scans show no loss in the "
        "partner's custody.” We are paying you ₹750.00 "
        "(50 % of ₹1,500.00, the lower of your claimed amount and the item value) because there "
        "was no quality check at pickup. The cost is recovered from the buyer who sent the item "
        "back; you do not need to do anything else."
    )
    for rejected in (
        "About your return RET-1: we could not approve this claim because x. If you believe "
        "this is wrong, you can appeal within 7 days and tell us what we missed.",
        "About your return RET-1: we could not accept this claim because x. You can appeal "
        "within 7 days if you think we got this wrong.",
    ):
        assert "appeal within" not in dismissed_appeal(rejected, return_id="RET-1", reason="No")


def test_a_persons_reason_is_a_sentence_of_its_own_whatever_its_case_and_stop() -> None:
    """The manager's or agent's words are quoted as a sentence of their own, as typed (a
    reader looking for them finds them): never run into the desk's sentence after a colon
    ("stands: The scans ..."); double quotes inside them become single ones, so the quote
    closes only where they end."""
    original = "About your return RET-1: we could not accept this claim because x."
    for reason, quoted in (
        ("the scans show no loss", "“the scans show no loss.”"),
        ("The scans show no loss.  ", "“The scans show no loss.”"),
        ("Is the label yours?", "“Is the label yours?”"),
        ("iPhone box\nwas empty", "“iPhone box was empty.”"),
        ("He wrote “broken” but it is intact", "“He wrote ‘broken’ but it is intact.”"),
    ):
        text = dismissed_appeal(original, return_id="RET-1", reason=reason)
        assert (
            "the earlier decision stands. The manager's reason, in their own words: "
            f"{quoted} We could not" in text
        ), text
        manual = explain_manual(
            return_id="RET-1",
            reason=reason,
            payout=0,
            base=150_000,
            payout_pct=0,
            liable_party=LiableParty.SELLER,
            p=SOP_V1,
        )
        assert f"our desk decided, in its own words: {quoted} In short, this means" in manual, (
            manual
        )
