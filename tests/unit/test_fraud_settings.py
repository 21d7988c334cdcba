"""Fraud's settings refuse sequential-test alternatives that are no alternative at start-up:
an alternative at or below the peers' rate makes `stats.alternative_rate` negative, and every
sequential test would then fail on its logarithm, event after event."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.fraud.settings import FraudSettings


def test_the_defaults_are_accepted() -> None:
    s = FraudSettings()
    assert s.seq_ratio > 1 and all(ratio > 1 for ratio, _ in s.seq_stronger)


@pytest.mark.parametrize(
    "overrides",
    [
        {"seq_ratio": 0.8},
        {"seq_ratio": 1.0},
        {"seq_stronger": ((0.5, 0.3),)},
        {"seq_stronger": ((4.0, 0.0),)},
        {"seq_stronger": ((4.0, 0.6), (6.0, 0.5))},
    ],
)
def test_an_alternative_at_or_below_the_peers_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FraudSettings(**overrides)  # type: ignore[arg-type]
