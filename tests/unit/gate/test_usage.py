"""Merging the recent addresses of a token's usage (T3: the last few distinct IPs)."""

from __future__ import annotations

from tokenward.gate.usage import RECENT_ADDRESSES, _merge


def test_newer_first_and_distinct() -> None:
    """Newer addresses come first; an address seen again moves to the front."""
    merged = _merge(["192.0.2.3", "192.0.2.1"], ["192.0.2.1", "192.0.2.2"])

    assert merged == ["192.0.2.3", "192.0.2.1", "192.0.2.2"]


def test_bounded_to_the_most_recent() -> None:
    """Only the most recent few distinct addresses are kept."""
    newer = [f"192.0.2.{n}" for n in range(10, 7, -1)]
    older = [f"198.51.100.{n}" for n in range(5, 0, -1)]

    merged = _merge(newer, older)

    assert len(merged) == RECENT_ADDRESSES
    assert merged == (newer + older)[:RECENT_ADDRESSES]


def test_empty_sides() -> None:
    """Merging with nothing keeps what there is, and nothing gives nothing."""
    assert _merge([], ["2001:db8::1"]) == ["2001:db8::1"]
    assert _merge(["2001:db8::1"], []) == ["2001:db8::1"]
    assert _merge([], []) == []
