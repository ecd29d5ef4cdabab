"""Validation and normalisation of a token's attributes (T3, T4)."""

from __future__ import annotations

import datetime as dt

import pytest

from tokenward.errors import InvalidInputError
from tokenward.tokens.attributes import (
    MAX_GRACE,
    MAX_LIFETIME,
    check_grace,
    check_header_restrictions,
    check_label,
    check_networks,
    check_rate_limit,
    resolve_expiry,
)

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DEFAULT = dt.timedelta(days=90)


def _expiry(
    *,
    expires_at: dt.datetime | None = None,
    expires_in_days: int | None = None,
    never_expires: bool = False,
) -> dt.datetime | None:
    return resolve_expiry(
        NOW,
        expires_at=expires_at,
        expires_in_days=expires_in_days,
        never_expires=never_expires,
        default_lifetime=DEFAULT,
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["10.0.0.0/8"], ["10.0.0.0/8"]),
        (["192.0.2.7"], ["192.0.2.7/32"]),
        ([" 198.51.100.0/24 "], ["198.51.100.0/24"]),
        (["2001:DB8:0:0::/32"], ["2001:db8::/32"]),
        (["2001:db8::1"], ["2001:db8::1/128"]),
        (
            ["10.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"],
            ["10.0.0.0/8", "2001:db8::/32"],
        ),
        ([], []),
    ],
)
def test_networks_are_normalised(given: list[str], expected: list[str]) -> None:
    """IPv4 and IPv6 ranges come back in canonical form, once each, in order."""
    assert check_networks(given) == expected


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "2001:db8::1/32"])
def test_networks_with_host_bits_are_refused(entry: str) -> None:
    """A range with host bits set is refused rather than silently widened."""
    with pytest.raises(InvalidInputError) as caught:
        check_networks([entry])

    assert caught.value.field == "allowed_networks"
    assert entry in caught.value.message


@pytest.mark.parametrize(
    "entry", ["", "localhost", "10.0.0.0/33", "300.1.1.1", "10.0.0.0/8/8", "::g/64"]
)
def test_networks_that_are_not_ranges_are_refused(entry: str) -> None:
    """Anything that is not an IP address or range is refused, naming the field."""
    with pytest.raises(InvalidInputError) as caught:
        check_networks(["192.0.2.0/24", entry])

    assert caught.value.field == "allowed_networks"


def test_too_many_networks_are_refused() -> None:
    """More than the allowed number of ranges is refused."""
    many = [f"10.0.{third}.0/24" for third in range(101)]

    with pytest.raises(InvalidInputError):
        check_networks(many)


def test_header_names_are_lower_cased_and_values_kept() -> None:
    """Header names are case-insensitive, so they are stored lower-cased."""
    checked = check_header_restrictions({"X-Client-App": "Build Bot/2"})

    assert checked == {"x-client-app": "Build Bot/2"}


@pytest.mark.parametrize(
    "restriction",
    [
        {"X Client": "a"},
        {"": "a"},
        {"X-Client": ""},
        {"X-Client": "line\nbreak"},
        {"X-Client": "x" * 1025},
        {"Authorization": "Bearer x"},
        {"cookie": "session=1"},
        {"Host": "example.org"},
    ],
)
def test_bad_header_restrictions_are_refused(restriction: dict[str, str]) -> None:
    """Invalid names, empty or unprintable values and credential headers are refused."""
    with pytest.raises(InvalidInputError) as caught:
        check_header_restrictions(restriction)

    assert caught.value.field == "header_restrictions"


def test_too_many_header_restrictions_are_refused() -> None:
    """More than the allowed number of header restrictions is refused."""
    many = {f"x-h{number}": "v" for number in range(21)}

    with pytest.raises(InvalidInputError):
        check_header_restrictions(many)


def test_label_is_trimmed() -> None:
    """A label keeps its words and loses surrounding whitespace."""
    assert check_label("  Jira nightly sync ") == "Jira nightly sync"


@pytest.mark.parametrize("label", ["", "   ", "a" * 256, "tab\there", "nul\x00"])
def test_bad_labels_are_refused(label: str) -> None:
    """Empty, over-long or unprintable labels are refused, naming the field."""
    with pytest.raises(InvalidInputError) as caught:
        check_label(label)

    assert caught.value.field == "label"


@pytest.mark.parametrize("per_minute", [0, -5, 1_000_001])
def test_rate_limits_out_of_range_are_refused(per_minute: int) -> None:
    """A rate limit outside 1-1000000 per minute is refused."""
    with pytest.raises(InvalidInputError):
        check_rate_limit(per_minute)


def test_rate_limit_in_range_is_kept() -> None:
    """A valid rate limit, or none, is kept as given."""
    assert check_rate_limit(60) == 60
    assert check_rate_limit(None) is None


def test_expiry_defaults_to_the_default_lifetime() -> None:
    """Without any way of expiry the token gets the default lifetime."""
    assert _expiry() == NOW + DEFAULT


def test_expiry_in_days() -> None:
    """expires_in_days counts whole days from now."""
    assert _expiry(expires_in_days=7) == NOW + dt.timedelta(days=7)


def test_expiry_at_a_time_is_converted_to_utc() -> None:
    """An expiry given in another zone is kept as the same instant in UTC."""
    paris = dt.timezone(dt.timedelta(hours=2))
    moment = dt.datetime(2026, 7, 1, 14, 0, tzinfo=paris)

    resolved = _expiry(expires_at=moment)

    assert resolved == moment
    assert resolved is not None
    assert resolved.utcoffset() == dt.timedelta(0)


def test_never_expires() -> None:
    """never_expires gives no expiry at all."""
    assert _expiry(never_expires=True) is None


@pytest.mark.parametrize(
    ("expires_at", "expires_in_days", "never_expires"),
    [
        (NOW + dt.timedelta(days=1), 1, False),
        (NOW + dt.timedelta(days=1), None, True),
        (None, 1, True),
        (NOW + dt.timedelta(days=1), 1, True),
    ],
)
def test_more_than_one_way_of_expiry_is_refused(
    expires_at: dt.datetime | None, expires_in_days: int | None, never_expires: bool
) -> None:
    """Two ways of saying when a token expires are refused, not reconciled."""
    with pytest.raises(InvalidInputError) as caught:
        _expiry(
            expires_at=expires_at,
            expires_in_days=expires_in_days,
            never_expires=never_expires,
        )

    assert "at most one" in caught.value.message


@pytest.mark.parametrize("moment", [NOW, NOW - dt.timedelta(seconds=1)])
def test_expiry_in_the_past_is_refused(moment: dt.datetime) -> None:
    """An expiry that is not in the future is refused."""
    with pytest.raises(InvalidInputError) as caught:
        _expiry(expires_at=moment)

    assert caught.value.field == "expires_at"


def test_naive_expiry_is_refused() -> None:
    """An expiry without a time zone is refused rather than guessed."""
    naive = dt.datetime(2027, 1, 1)  # noqa: DTZ001 - the point of the test

    with pytest.raises(InvalidInputError) as caught:
        _expiry(expires_at=naive)

    assert "time zone" in caught.value.message


@pytest.mark.parametrize("days", [0, -1])
def test_expiry_in_days_must_be_positive(days: int) -> None:
    """expires_in_days below 1 is refused."""
    with pytest.raises(InvalidInputError) as caught:
        _expiry(expires_in_days=days)

    assert caught.value.field == "expires_in_days"


@pytest.mark.parametrize("days", [MAX_LIFETIME.days + 1, 10**6, 10**9])
def test_expiry_beyond_the_maximum_lifetime_is_refused(days: int) -> None:
    """A lifetime past the maximum is refused, however far past it is."""
    with pytest.raises(InvalidInputError):
        _expiry(expires_in_days=days)


def test_expiry_at_beyond_the_maximum_lifetime_is_refused() -> None:
    """An expires_at past the maximum lifetime is refused."""
    with pytest.raises(InvalidInputError):
        _expiry(expires_at=NOW + MAX_LIFETIME + dt.timedelta(seconds=1))


@pytest.mark.parametrize("grace", [None, dt.timedelta(0), dt.timedelta(seconds=-1)])
def test_no_grace(grace: dt.timedelta | None) -> None:
    """A missing, zero or negative grace period means none."""
    assert check_grace(grace) is None


def test_grace_within_the_maximum_is_kept() -> None:
    """A grace period up to the maximum is kept."""
    assert check_grace(dt.timedelta(hours=1)) == dt.timedelta(hours=1)
    assert check_grace(MAX_GRACE) == MAX_GRACE


def test_grace_beyond_the_maximum_is_refused() -> None:
    """A grace period longer than the maximum is refused."""
    with pytest.raises(InvalidInputError) as caught:
        check_grace(MAX_GRACE + dt.timedelta(seconds=1))

    assert caught.value.field == "grace_seconds"
