"""The marketplace's return feed."""
