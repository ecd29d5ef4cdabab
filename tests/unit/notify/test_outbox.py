"""The wait between delivery attempts."""

from __future__ import annotations

import datetime as dt

from tokenward.notify.outbox import MAX_RETRY_DELAY, retry_delay


def test_the_wait_doubles_after_each_failure_up_to_a_cap() -> None:
    """1, 2, 4, 8 minutes after a first wait of one minute, never over 6 hours."""
    minute = dt.timedelta(minutes=1)

    assert [retry_delay(n, minute) for n in range(1, 5)] == [
        minute,
        2 * minute,
        4 * minute,
        8 * minute,
    ]
    assert retry_delay(30, minute) == MAX_RETRY_DELAY == dt.timedelta(hours=6)
