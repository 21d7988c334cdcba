"""The fraud service: scores every event, watches the network, explains every score."""

# The CloudEvents source of everything fraud publishes (assessments, revisions, alerts).
SOURCE = "disputedesk/fraud"
