"""What a detector returns: a reason code with its numbers, who it is about, and whether it is a
network-level finding that deserves an alert."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.events import FraudBand, ReasonCode

# The score from which an assessment is HIGH.
HIGH_FROM = 0.8


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    detail: str
    contribution: float
    pattern: str
    entity_type: str
    entity_id: str
    numbers: dict[str, float | int | str] = field(default_factory=dict)
    # A network-level finding (hub/agent spike, ring, reuse) raises a FraudAlertRaised.
    alert: bool = False
    suggested_action: str = ""

    def alert_worthy(self, pattern: str) -> bool:
        """Whether this finding of `pattern` would raise an alert or band its entity HIGH: the
        findings the rules that hold an alert as another party's (a hub's, an agent's, a
        carrier's) act on."""
        return self.pattern == pattern and (self.alert or self.contribution >= HIGH_FROM)

    def reason(self) -> ReasonCode:
        return ReasonCode(
            code=self.code,
            detail=self.detail,
            contribution=round(self.contribution, 4),
            numbers=self.numbers,
        )


def band_of(score: float) -> FraudBand:
    if score >= HIGH_FROM:
        return FraudBand.HIGH
    if score >= 0.5:
        return FraudBand.MEDIUM
    return FraudBand.LOW


def combine(contributions: list[float]) -> float:
    """Noisy-OR: independent reasons each explain away part of the doubt."""
    remaining = 1.0
    for c in contributions:
        remaining *= 1.0 - max(0.0, min(c, 0.999))
    return round(1.0 - remaining, 4)
