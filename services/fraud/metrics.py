"""Fraud's domain metrics (labels are patterns and bands, never ids)."""

from prometheus_client import Counter

ALERTS = Counter("disputedesk_fraud_alerts_total", "Fraud alerts raised, by pattern.", ["pattern"])
ASSESSMENTS = Counter("disputedesk_fraud_assessments_total", "Events assessed, by band.", ["band"])
REVISIONS = Counter(
    "disputedesk_fraud_revisions_total",
    "Assessments raised by a later alert on one of the event's parties, by pattern.",
    ["pattern"],
)
PEER_BASELINES = Counter(
    "disputedesk_fraud_peer_baselines_total",
    "Peer baselines used, by population type: read from every peer's counts, or reused.",
    ["population", "outcome"],
)
REVISIONS_LOWERED = Counter(
    "disputedesk_fraud_revisions_lowered_total",
    "Assessments lowered from HIGH when the alert they rested on was cleared, by pattern.",
    ["pattern"],
)
LATE_SCAN_REASSESSMENTS = Counter(
    "disputedesk_fraud_late_scan_reassessments_total",
    "Claims scored again because a scan that reached fraud after the claim changed what it "
    "read of the journey, by outcome: its band raised or lowered (a revision), or unchanged.",
    ["outcome"],
)
ALERTS_CLEARED = Counter(
    "disputedesk_fraud_alerts_cleared_total",
    "Alerts closed by fraud itself when their entity's record proved ordinary, by pattern.",
    ["pattern"],
)
