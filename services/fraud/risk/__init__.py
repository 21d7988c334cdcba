"""Entity risk (seller, buyer, partner, hub, agent) with its history, and assessments by event."""
