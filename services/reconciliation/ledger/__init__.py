"""The double-entry ledger of settlements and recoveries, and partner statements."""
