"""Notifications' domain metrics (names match deploy/ dashboards and alert rules)."""

from prometheus_client import Counter

NOTIFICATIONS = Counter(
    "disputedesk_notifications_total",
    "Emails by template and what became of each attempt.",
    ["template", "outcome"],  # outcome: sent | failed | suppressed | retried
)
