"""A terminal scan asks whether each agent of each hub is telling against the same peers
(`scoring.pilferage`, which agents explain a hub): the answer is kept by its numbers, and is
the sequential test's own answer."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from services.fraud.detectors.stats import PeerSpread, sequential_test
from services.fraud.scoring import base
from services.fraud.scoring.base import AssessorBase, default_config


def _assessor() -> Any:
    cfg = default_config()
    return SimpleNamespace(config=cfg, t=cfg.thresholds)


def test_telling_is_the_sequential_tests_answer() -> None:
    a, s = _assessor(), default_config().sequential
    for k in range(0, 12):
        for n in (k, k + 3, 20, 57, 400):
            for spread in (PeerSpread(0.02, 80.0), PeerSpread(0.1, 5.0), None):
                rate = spread.rate if spread else 0.03
                conc = spread.concentration if spread else s.max_concentration
                want = sequential_test(k, n, PeerSpread(rate, conc), s).log_bf >= math.log(
                    1 / s.alpha_medium
                )
                got = AssessorBase.telling(a, k, n, (3, 100), spread, prior_rate=0.03)
                assert got is want, (k, n, spread)


def test_the_same_numbers_run_the_test_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    def counted(k: int, n: int, spread: PeerSpread, s: Any) -> Any:
        calls.append((k, n))
        return sequential_test(k, n, spread, s)

    monkeypatch.setattr(base, "sequential_test", counted)
    a = _assessor()
    # Numbers no other test asks, so nothing is kept from before.
    spread = PeerSpread(0.0123457, 321.5)
    first = AssessorBase.telling(a, 9, 12_347, (1, 2), spread, prior_rate=0.03)
    again = AssessorBase.telling(a, 9, 12_347, (1, 2), spread, prior_rate=0.03)
    other = AssessorBase.telling(a, 10, 12_347, (1, 2), spread, prior_rate=0.03)
    assert first is again
    assert calls == [(9, 12_347), (10, 12_347)]
    assert isinstance(other, bool)
