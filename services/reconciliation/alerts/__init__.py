"""Fraud alerts in the case story: a network finding shown on every open case it concerns."""
