"""Features kept incrementally per entity: daily counters, pairs, identities, evidence hashes."""
