"""The hash chain over audit records (SPEC A4). Pure.

Each record's hash covers its predecessor's hash and its own canonical content, so
an edited, deleted or reordered record breaks every hash after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64

# The fields that the chain covers, in a fixed order. Adding one is a new chain
# version; changing this tuple breaks verification of existing records.
CHAINED_FIELDS = (
    "seq",
    "occurred_at",
    "event",
    "outcome",
    "reason",
    "actor",
    "subject",
    "token_id",
    "client_ip",
    "method",
    "path",
    "user_agent",
    "request_id",
    "details",
)


# One encoder for every record: json.dumps with options builds a new one per call,
# which costs the gate's audit writer more than the hash itself.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_content(record: Mapping[str, Any]) -> bytes:
    """The bytes the chain hashes for one record: a compact JSON array of the
    chained fields in their fixed order (objects inside with sorted keys)."""
    content = [_plain(record.get(name)) for name in CHAINED_FIELDS]

    return _ENCODER.encode(content).encode("utf-8")


def link(prev_hash: str, record: Mapping[str, Any]) -> str:
    """The hash of `record` following a record whose hash is `prev_hash`."""
    hasher = hashlib.sha256(prev_hash.encode("ascii"))
    hasher.update(b"\n")
    hasher.update(canonical_content(record))

    return hasher.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")

    return value
