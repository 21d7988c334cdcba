"""What a decision's paragraph (`DecisionRecord.explanation`) says, where another service must
read it: reconciliation writes the paragraph, ending in an undated offer of an appeal ("You can
appeal within 7 days ..."); an appeal's own decision and every seller email that quotes the
paragraph drop that offer (the email says itself, dated, how to appeal and until when). One
definition for both, so a change of wording cannot leave the offer said twice."""

from __future__ import annotations

import re

_APPEAL_OFFER = re.compile(
    r"\s*(?:If you believe this is wrong, you|You) can appeal within \d+ days[^.]*\."
)


def without_appeal_offer(paragraph: str) -> str:
    """A decision's paragraph without its undated offer of an appeal."""
    return _APPEAL_OFFER.sub("", paragraph).strip()
