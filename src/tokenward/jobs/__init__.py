"""Scheduled jobs: marking expiry, inactivity, reminders, delivering notifications.

They run inside `tokenward serve` on a schedule and as `tokenward jobs run` for
cron. Each run of a job holds a lease in the database, so several instances never
do the same work at once. See docs/notifications.md, "Scheduled jobs".
"""
