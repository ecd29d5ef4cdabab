"""Webhook calls: JSON POSTed and signed with HMAC-SHA256 over timestamp and body.

The signature is `sha256=` and the hex HMAC-SHA256, keyed with the webhook's
secret, of the timestamp (decimal Unix seconds), a dot, and the exact body bytes.
The timestamp is signed too, so a receiver that refuses old timestamps cannot be
fooled by a replayed call. docs/notifications.md shows how to verify it.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from tokenward import __version__
from tokenward.notify.errors import DeliveryError

TIMESTAMP_HEADER = "X-Tokenward-Timestamp"
SIGNATURE_HEADER = "X-Tokenward-Signature"
EVENT_HEADER = "X-Tokenward-Event"
DELIVERY_HEADER = "X-Tokenward-Delivery"
_ERROR_BODY = 200


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header for `body` sent at `timestamp`."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()

    return f"sha256={digest}"


class WebhookSender:
    """POSTs signed bodies; one HTTP client for all calls of a delivery run."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout

    async def post(
        self,
        url: str,
        secret: str,
        body: bytes,
        *,
        event: str,
        delivery_id: str,
        timestamp: int,
    ) -> None:
        """Deliver `body`; a 2xx answer is success. Raises DeliveryError otherwise.

        Redirects are not followed: the signed body goes only where it was sent.
        Proxies named in the environment are used, as outgoing calls to another
        network usually must.
        """
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"tokenward/{__version__}",
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        }
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False
            ) as client:
                answer = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(
                f"POST {url} failed: {type(error).__name__}: {error}"
            ) from None
        if not answer.is_success:
            raise DeliveryError(
                f"POST {url} answered {answer.status_code}: {answer.text[:_ERROR_BODY]}"
            )
