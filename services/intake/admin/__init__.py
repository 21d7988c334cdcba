"""Administration of partner intake: the partner registry and its secrets, status mappings,
unmapped statuses, replay of archived requests, and the raw archive itself."""
