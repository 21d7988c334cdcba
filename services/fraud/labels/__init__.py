"""Analyst labels (confirmed fraud / legitimate) and the precision figures computed from them."""
