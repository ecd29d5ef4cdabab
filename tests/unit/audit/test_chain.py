"""The hash chain over audit records (A4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tokenward.audit.chain import CHAINED_FIELDS, GENESIS_HASH, canonical_content, link

RECORD: dict[str, Any] = {
    "seq": 7,
    "occurred_at": dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC),
    "event": "token_created",
    "outcome": "success",
    "reason": None,
    "actor": "alice",
    "subject": "bob",
    "token_id": "0123456789abcdef",
    "client_ip": "192.0.2.1",
    "method": "POST",
    "path": "/api/v1/manage/tokens",
    "user_agent": "curl/8",
    "request_id": "req-1",
    "details": {"label": "jira", "scope": "read-only"},
}
# A different value of the right kind for each chained field.
CHANGED: dict[str, Any] = {
    "seq": 8,
    "occurred_at": dt.datetime(2026, 6, 1, 12, 0, 0, 1, tzinfo=dt.UTC),
    "event": "token_revoked",
    "outcome": "failure",
    "reason": "expired",
    "actor": "alicia",
    "subject": "bobby",
    "token_id": "0123456789abcdee",
    "client_ip": "192.0.2.2",
    "method": "GET",
    "path": "/api/v1/tokens",
    "user_agent": "curl/9",
    "request_id": "req-2",
    "details": {"label": "jira", "scope": "read-write"},
}


def test_link_is_deterministic() -> None:
    """The same predecessor and record always give the same hash."""
    assert link(GENESIS_HASH, RECORD) == link(GENESIS_HASH, dict(RECORD))


def test_link_is_a_sha256_hex_digest() -> None:
    """A link is 64 lowercase hexadecimal characters, like the genesis hash."""
    hashed = link(GENESIS_HASH, RECORD)

    assert len(hashed) == len(GENESIS_HASH) == 64
    assert set(hashed) <= set("0123456789abcdef")


def test_link_depends_on_the_predecessor() -> None:
    """The same record after another predecessor hashes differently."""
    assert link(GENESIS_HASH, RECORD) != link("1" * 64, RECORD)


def test_every_chained_field_is_covered() -> None:
    """The cases below change each field that the chain covers."""
    assert set(CHANGED) == set(CHAINED_FIELDS) == set(RECORD)


@pytest.mark.parametrize("name", CHAINED_FIELDS)
def test_changing_any_chained_field_changes_the_hash(name: str) -> None:
    """Editing any chained field of a record changes its hash."""
    edited = {**RECORD, name: CHANGED[name]}

    assert link(GENESIS_HASH, edited) != link(GENESIS_HASH, RECORD)


def test_key_order_does_not_matter() -> None:
    """The canonical content ignores the order in which fields and details come."""
    reordered = dict(reversed(list(RECORD.items())))
    reordered["details"] = dict(reversed(list(RECORD["details"].items())))

    assert canonical_content(reordered) == canonical_content(RECORD)


def test_time_zone_of_occurred_at_does_not_matter() -> None:
    """The same instant written in another zone hashes the same."""
    elsewhere = dt.timezone(dt.timedelta(hours=-5))
    shifted = {**RECORD, "occurred_at": RECORD["occurred_at"].astimezone(elsewhere)}

    assert link(GENESIS_HASH, shifted) == link(GENESIS_HASH, RECORD)


def test_fields_outside_the_chain_are_ignored() -> None:
    """Fields the chain does not cover, such as the stored hash, do not change it."""
    extended = {**RECORD, "hash": "f" * 64, "prev_hash": "e" * 64}

    assert link(GENESIS_HASH, extended) == link(GENESIS_HASH, RECORD)


def test_the_canonical_form_is_fixed() -> None:
    """Known answers: records already stored were hashed in this exact form, so any
    change to it (spacing, key order, escaping, time format) breaks their chain."""
    record = {
        **RECORD,
        "path": "/über/ä",
        "details": {"z": "é ü", "a": [1, {"y": 2, "b": None}]},
    }

    assert (
        canonical_content(record)
        == (
            '[7,"2026-06-01T12:00:00.000000+00:00","token_created","success",null,'
            '"alice","bob","0123456789abcdef","192.0.2.1","POST","/über/ä","curl/8",'
            '"req-1",{"a":[1,{"b":null,"y":2}],"z":"é ü"}]'
        ).encode()
    )
    assert link(GENESIS_HASH, record) == (
        "1d6219f2be9cdd3cb601992a78508882549a1d745864fd6490b23ec90d510288"
    )
