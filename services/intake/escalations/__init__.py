"""Seller escalations: filed by the seller portal, or by an agent after a call or an email."""
