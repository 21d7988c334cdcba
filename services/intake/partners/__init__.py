"""Partner webhooks: one adapter per partner format behind the `PartnerAdapter` interface."""
