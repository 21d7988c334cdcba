"""Escalations and partner scans held until the marketplace feed names their return's owner."""
