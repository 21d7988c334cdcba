"""The case aggregate: opening, merging, transitions and their timeline."""
