"""Hub and agent peers weighed each without itself (`stats.sequential_peers(leave_out=True)`):
two pilfering hubs no longer hide each other in the hubs' spread, and honest hubs keep the
stated false-alarm rate with pilfering peers among them."""

from __future__ import annotations

import math
import random

from services.fraud.detectors.stats import (
    PeerSpread,
    Thresholds,
    robust_baseline,
    sequential_test,
)
from services.fraud.scoring.base import default_config

S = default_config().sequential
T = Thresholds()
ALERT_AT = math.log(1 / S.alpha)
PRIOR = 0.03


def _spread(peers: list[tuple[int, int]], *, leave_out: bool) -> PeerSpread:
    spread = robust_baseline(peers, T, prior_rate=PRIOR, leave_out=leave_out).spread
    assert spread is not None
    return spread


# Seven honest hubs near 2 % and two pilfering ones: one at 3.7x with 30 incidents, one at
# 2.9x with 18 (the counts of development world 103's planted pair at the end of its world).
HONEST = [(3, 310), (12, 365), (4, 333), (2, 362), (11, 461), (7, 318), (8, 383)]
BAD_A, BAD_B = (30, 403), (18, 314)


def test_two_pilfering_hubs_no_longer_hide_each_other() -> None:
    # Weighed against its peers with the other pilfering hub among them, the worse one stays
    # below the alert when each peer is judged with itself in the spread; judged without
    # itself, the other hub leaves the honest population and the pilferer is found.
    hidden = sequential_test(*BAD_A, _spread([*HONEST, BAD_B], leave_out=False), S).log_bf
    found = sequential_test(*BAD_A, _spread([*HONEST, BAD_B], leave_out=True), S).log_bf
    assert hidden < ALERT_AT <= found


def test_without_bad_peers_leaving_out_changes_nothing() -> None:
    assert _spread(HONEST, leave_out=True) == _spread(HONEST, leave_out=False)


def test_honest_hubs_with_pilfering_peers_keep_the_stated_false_alarm_rate() -> None:
    # Networks of five to ten honest hubs whose rates differ as a Beta of concentration 400
    # (mean 2 %), with none, one or two hubs pilfering at 2.5-4x among them: an honest hub
    # weighed against the others alerts at most alpha of the time.
    rng = random.Random(23)
    alarms = tested = 0
    for _ in range(300):
        hubs = []
        for _ in range(rng.randint(5, 10)):
            n, p = rng.randint(150, 600), rng.betavariate(0.02 * 400, 0.98 * 400)
            hubs.append((sum(rng.random() < p for _ in range(n)), n))
        bad = []
        for _ in range(rng.choice([0, 1, 2])):
            n, p = rng.randint(200, 500), 0.02 * rng.uniform(2.5, 4.0)
            bad.append((sum(rng.random() < p for _ in range(n)), n))
        for i, hub in enumerate(hubs):
            spread = _spread([*hubs[:i], *hubs[i + 1 :], *bad], leave_out=True)
            tested += 1
            alarms += sequential_test(*hub, spread, S).log_bf >= ALERT_AT
    assert alarms / tested <= S.alpha


def test_sellers_peers_are_weighed_as_before() -> None:
    # Only hubs and agents ask for it: the default is the spread of before.
    spread = robust_baseline([*HONEST, BAD_B], T, prior_rate=PRIOR).spread
    assert spread == _spread([*HONEST, BAD_B], leave_out=False)
