"""The case aggregate: one case per return, its state machine, its timeline and the review desk."""
