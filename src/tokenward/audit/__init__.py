"""The audit trail: event names, records, the hash chain."""
