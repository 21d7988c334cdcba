"""Outgoing channels. Email over SMTP today; SMS or chat implement the same `Channel`."""
