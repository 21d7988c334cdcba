"""Seller feedback about the desk, watched for proactive outreach."""
