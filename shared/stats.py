"""Exact tail probabilities for count data, shared by fraud's detectors and reconciliation's
recurring-problem trends: "if this behaved like its baseline, how likely is a count this large?"
"""

from __future__ import annotations

import math


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed exactly in log space."""
    return _binomial_tail(k, n, p, math.inf)


def binomial_sf_above(k: int, n: int, p: float, level: float) -> bool:
    """Whether `binomial_sf(k, n, p) > level`, the same answer, without summing the whole tail:
    the terms are added in the same order and none is negative, so every partial sum is at most
    the full one (rounding is monotone), and once one passes `level` the full sum does too. An
    ordinary peer's tail passes a false-alarm level within a few terms of its first, where the
    full sum runs on past the mode until the terms stop mattering."""
    return _binomial_tail(k, n, p, level if level < 1.0 else math.inf) > level


def _binomial_tail(k: int, n: int, p: float, stop_above: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), or a partial sum of it above `stop_above`."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    lg_n1 = math.lgamma(n + 1)
    total = 0.0
    for i in range(k, n + 1):
        term = math.exp(
            lg_n1 - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        )
        total += term
        if total > stop_above:
            break
        # Past the mode the terms shrink geometrically: stop once they no longer matter.
        if i > n * p and term < total * 1e-15:
            break
    return min(1.0, total)


def poisson_sf(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 1.0
    if mu <= 0.0:
        return 0.0
    total = 0.0
    i = k
    log_mu = math.log(mu)
    while True:
        term = math.exp(i * log_mu - mu - math.lgamma(i + 1))
        total += term
        if i > mu and term < total * 1e-15:
            break
        i += 1
    return min(1.0, total)
