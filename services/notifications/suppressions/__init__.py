"""The suppression list: addresses we do not write to (hard bounces, requests), kept hashed."""
