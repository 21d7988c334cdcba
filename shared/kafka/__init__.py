"""Kafka plumbing shared by every service: the producer, the one consumer runner, topic admin."""
