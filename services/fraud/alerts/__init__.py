"""Network-level alerts: raised once per pattern and subject while open, acknowledged by
analysts."""
