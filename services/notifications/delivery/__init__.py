"""Delivering queued messages: claim with a lease, send outside any transaction, record the
result with its attempt row and event; retry temporary failures on a persisted schedule."""
