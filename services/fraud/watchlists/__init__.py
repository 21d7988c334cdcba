"""Watchlists: manual entries by analysts, automatic ones from alerts."""
