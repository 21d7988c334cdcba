"""Composing messages from case events and dispatching them through a channel."""
