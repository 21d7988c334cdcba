"""The seller directory: each seller's addresses, language and preferences, versioned."""
