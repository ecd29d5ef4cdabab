"""Errors of notification delivery.

TokenwardError
└── DeliveryError          a notification could not be delivered this time
"""

from __future__ import annotations

from tokenward.errors import TokenwardError


class DeliveryError(TokenwardError):
    """Delivery failed; `permanent` when trying again cannot help (a refused
    recipient, a webhook that is no longer configured)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
