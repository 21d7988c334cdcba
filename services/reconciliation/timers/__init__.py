"""Durable deadlines of cases (facts wait, evidence reply-by, fraud wait, review SLA, appeal
window): rows in `timers`, fired by a loop that survives restarts because the rows do."""
