"""QC agents: how alike honest agents are is read from the agents' own scatter
(`stats.proven_alike`) where it shows them more alike than the shared bound, not assumed.

The class fixed: a careless agent at 3-4x its peers with 11-13 contradicting buyers in about
240 passes, among agents whose scatter is no more than chance gives (wide world 5018's agents
AG-s5018-0304, -0401 and -0501; the first two now found, replayed), stayed below the alert only
because the spread was held to a + b of 1,000 (docs/fraud-detection-journal.md, "QC agents:
how alike honest agents are, read from the agents")."""

from __future__ import annotations

import asyncio
import math
import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from services.fraud.detectors.qc_contradiction import AGENT_ALIKE_LEVEL
from services.fraud.detectors.stats import (
    PeerSpread,
    Thresholds,
    proven_alike,
    robust_baseline,
    sequential_test,
)
from services.fraud.scoring.base import default_config
from services.fraud.scoring.baselines import BaselinePolicy, peer_baselines

T = Thresholds()
S = default_config().sequential
ALERT_AT = math.log(1 / S.alpha)


def _agents(
    rng: random.Random, m: int, rate: float, concentration: float | None
) -> list[list[bool]]:
    """m honest agents' passes in order (True: contradicted), workloads log-normal as the
    simulator's, each agent's own rate drawn from a Beta of this concentration (None: one rate
    for all)."""
    out = []
    for _ in range(m):
        n = max(5, int(180 * math.exp(rng.gauss(0, 0.6))))
        own = (
            rate
            if concentration is None
            else rng.betavariate(rate * concentration, (1 - rate) * concentration)
        )
        out.append([rng.random() < own for _ in range(n)])
    return out


def _spread(peers: list[tuple[int, int]], level: float | None) -> PeerSpread:
    spread = robust_baseline(peers, T, prior_rate=0.03, leave_out=True, alike_level=level).spread
    assert spread is not None
    return spread


def test_a_careless_agent_among_agents_shown_alike_is_found() -> None:
    # 90 agents of 300 passes at 1.5 %, their contradicting buyers as even as counts can be
    # (4 or 5 each): their scatter shows honest agents alike far past a + b = 1,000. An agent
    # with 12 contradicting buyers in 248 passes (3.2x) crosses the alert against what they
    # show; held to the shared bound it does not (e^4.0 against e^5.3).
    peers = [(4 + (i % 2), 300) for i in range(90)]
    assert (
        proven_alike([(k, n, 1) for k, n in peers], prior_rate=0.03, level=AGENT_ALIKE_LEVEL) > 1000
    )
    shown = _spread(peers, AGENT_ALIKE_LEVEL)
    bound = _spread(peers, None)
    assert bound.concentration == T.max_concentration
    assert shown.concentration > 10 * T.max_concentration
    assert sequential_test(12, 248, bound, S).log_bf < ALERT_AT
    assert sequential_test(12, 248, shown, S).log_bf >= ALERT_AT


def test_a_handful_of_peers_shows_nothing_and_keeps_the_shared_bound() -> None:
    # A world's hubs, or a young network's agents: however even their counts, four peers
    # cannot show how alike honest peers are.
    peers = [(5, 300)] * 4
    assert proven_alike([(k, n, 1) for k, n in peers], prior_rate=0.03, level=0.9) == 0.0
    assert _spread(peers, AGENT_ALIKE_LEVEL).concentration == T.max_concentration


def test_agents_that_differ_are_not_read_alike() -> None:
    # Honest agents drawn from a Beta of a + b = 300 (they differ well beyond chance): their
    # scatter shows it, and the spread is read as wide as without the rule.
    rng = random.Random(5)
    agents = _agents(rng, 60, 0.03, 300.0)
    peers = [(sum(a), len(a)) for a in agents]
    assert proven_alike([(k, n, 1) for k, n in peers], prior_rate=0.03, level=0.9) < 1000
    assert _spread(peers, AGENT_ALIKE_LEVEL) == _spread(peers, None)


def test_honest_agents_rarely_ever_alert_against_the_spread_they_show() -> None:
    # Honest agents, alike or differing (a + b of 1,000, near where the bound sat), their
    # spread read from their own end-of-world counts (more than any look partway through
    # knows, so at least as narrow as fraud reads it), every agent looked at after each of its
    # contradictions: fewer than the stated alpha ever reach the alert.
    rng = random.Random(23)
    alerted = total = 0
    for concentration in (None, 1000.0):
        for _ in range(12):
            agents = _agents(rng, 50, 0.02, concentration)
            spread = _spread([(sum(a), len(a)) for a in agents], AGENT_ALIKE_LEVEL)
            total += len(agents)
            for passes in agents:
                k = 0
                for i, contradicted in enumerate(passes, 1):
                    k += contradicted
                    if (
                        contradicted
                        and k >= S.min_events
                        and sequential_test(k, i, spread, S).log_bf >= ALERT_AT
                    ):
                        alerted += 1
                        break
    assert alerted / total <= S.alpha


class _Engine:
    """Stands in for a database engine (the baseline cache's key)."""


def _agents_spread(size: int, level: float | None) -> float:
    """The QC agents' spread as scoring reads it (`baselines.peer_baselines`, the population
    read through its loader), for agents whose contradicting buyers are as even as counts can
    be: a population below the cache's size is read per event, one above it is kept."""

    async def load() -> dict[str, dict[str, int]]:
        return {
            f"AG-{i}": {"qc_contradictions": 4 + (i % 2), "qc_passed": 300} for i in range(size)
        }

    spreads: dict[str, PeerSpread] = {}
    session: Any = SimpleNamespace(bind=SimpleNamespace(sync_engine=_Engine()))
    asyncio.run(
        peer_baselines(
            session,
            population=("agent", "", "long", "per_buyer", f"alike {level}"),
            rates=[("qc_contradictions", "qc_passed", 0.03)],
            own_id="AG-X",
            own={},
            at=datetime(2026, 6, 1, tzinfo=UTC),
            t=T,
            policy=BaselinePolicy(min_peers=100, max_drift=timedelta(hours=1)),
            load=load,
            spreads=spreads,
            leave_out=True,
            alike_level=level,
        )
    )
    return spreads["qc_contradictions"].concentration


def test_scoring_reads_the_agents_spread_with_the_bound_they_show() -> None:
    # The level reaches the estimate on both of scoring's paths; without it, the shared bound.
    for size in (90, 120):
        assert _agents_spread(size, AGENT_ALIKE_LEVEL) > 10 * T.max_concentration
        assert _agents_spread(size, None) == T.max_concentration
