"""A return's canonical history: every event intake records about it, readable back in order."""
