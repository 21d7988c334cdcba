"""What reconciliation has learnt about each return from the events: the facts decisions read."""
