"""Seller replies coming back in: signed reply addresses, parsing, triage and evidence."""
