"""Durable deadlines of cases (facts wait, evidence reply-by, fraud wait, review SLA, appeal
window): rows in `timers`, kept by `cases/deadlines.py` and fired by `cases/timer_loop.py`; the
loop survives restarts because the rows do. This package holds only their SQL, below the cases."""
