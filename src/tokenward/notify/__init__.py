"""Notifications (SPEC P8): e-mail over SMTP and signed webhooks.

Producers write to an outbox table in the same transaction as the change they tell
of, so a change that rolls back sends nothing; the delivery job sends the outbox
later, with retries, and never on the path of a request. See docs/notifications.md.
"""
