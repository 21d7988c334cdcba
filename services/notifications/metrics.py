"""Notifications' domain metrics (names match deploy/ dashboards and alert rules)."""

from prometheus_client import Counter

NOTIFICATIONS = Counter(
    "disputedesk_notifications_total",
    "Emails by template and what became of each attempt.",
    ["template", "outcome"],  # outcome: sent | failed | suppressed | retried
)

SELLER_UNTOLD = Counter(
    "disputedesk_seller_untold_total",
    "Seller messages held because neither the case nor the seller directory had an address "
    "(the seller could not be told), by template.",
    ["template"],
)
SELLER_RELEASED = Counter(
    "disputedesk_seller_untold_released_total",
    "Held seller messages released when the seller directory learnt an address.",
)
INBOUND = Counter(
    "disputedesk_inbound_emails_total",
    "Inbound emails by what became of them: attached to a case, triage (by token state), "
    "auto_reply or bounce (ignored).",
    ["outcome"],
)
SELLER_ADDRESS_FAILING = Counter(
    "disputedesk_seller_address_failing_total",
    "Directory addresses a delivery report of our own mail marked as failing.",
)
