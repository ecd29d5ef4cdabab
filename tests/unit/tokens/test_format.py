"""The token string: generation, parsing, checksum and the scanner pattern (T1)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tokenward.tokens.format import (
    ALPHABET,
    BODY_LENGTH,
    CHECKSUM_LENGTH,
    MalformedTokenError,
    generate,
    looks_like_token,
    parse,
    scanner_pattern,
)

PREFIXES = st.from_regex(r"[a-z][a-z0-9]{1,15}", fullmatch=True)
# A wide alphabet: ASCII (letters, digits, punctuation, controls) and beyond it.
ANY_CHARACTER = st.characters(codec="utf-8") | st.sampled_from("_-=+/ \t\n\x00é€ßＡ٣")
CHANGES = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
FIXED_TOKEN = generate("tw")


def test_generated_token_parses_back() -> None:
    """A freshly generated token parses, giving its prefix and body."""
    token = generate("tw")

    parsed = parse(token)

    assert parsed.prefix == "tw"
    assert token == f"tw_{parsed.body}{token[-CHECKSUM_LENGTH:]}"
    assert len(parsed.body) == BODY_LENGTH


@CHANGES
@given(prefix=PREFIXES)
def test_round_trip_keeps_any_prefix(prefix: str) -> None:
    """Every valid prefix is carried by the token and given back by parse."""
    token = generate(prefix)

    assert token.startswith(f"{prefix}_")
    assert parse(token, prefix=prefix).prefix == prefix


def test_expected_prefix_is_enforced() -> None:
    """A token with another instance's prefix is refused when a prefix is expected."""
    token = generate("other")

    with pytest.raises(MalformedTokenError) as caught:
        parse(token, prefix="tw")

    assert caught.value.why == "wrong prefix"


def test_body_carries_at_least_160_bits() -> None:
    """The random body holds at least the 160 bits the specification asks for."""
    assert BODY_LENGTH * math.log2(len(ALPHABET)) >= 160
    assert len(set(ALPHABET)) == 62


def test_generated_bodies_use_only_base62_and_differ() -> None:
    """Generated bodies are base62 and never repeat in a modest sample."""
    tokens = {generate("tw") for _ in range(500)}

    assert len(tokens) == 500
    assert all(set(token[3:]) <= set(ALPHABET) for token in tokens)


@CHANGES
@given(position=st.integers(min_value=0), replacement=ANY_CHARACTER)
@example(position=0, replacement="é")
@example(position=2, replacement="-")
def test_every_substitution_fails(position: int, replacement: str) -> None:
    """Replacing any one character by any other character makes the token invalid."""
    index = position % len(FIXED_TOKEN)
    assume(FIXED_TOKEN[index] != replacement)
    changed = FIXED_TOKEN[:index] + replacement + FIXED_TOKEN[index + 1 :]

    with pytest.raises(MalformedTokenError):
        parse(changed)
    with pytest.raises(MalformedTokenError):
        parse(changed, prefix="tw")


@CHANGES
@given(position=st.integers(min_value=0))
def test_every_deletion_fails(position: int) -> None:
    """Deleting any one character makes the token invalid."""
    index = position % len(FIXED_TOKEN)
    changed = FIXED_TOKEN[:index] + FIXED_TOKEN[index + 1 :]

    with pytest.raises(MalformedTokenError):
        parse(changed)


@CHANGES
@given(position=st.integers(min_value=0), inserted=ANY_CHARACTER)
@example(position=0, inserted="é")
def test_every_insertion_fails(position: int, inserted: str) -> None:
    """Inserting any one character anywhere makes the token invalid."""
    index = position % (len(FIXED_TOKEN) + 1)
    changed = FIXED_TOKEN[:index] + inserted + FIXED_TOKEN[index:]

    with pytest.raises(MalformedTokenError):
        parse(changed)


@CHANGES
@given(data=st.data())
def test_substitution_fails_for_fresh_tokens(data: st.DataObject) -> None:
    """One substituted character fails the checksum for tokens of any prefix too."""
    token = generate(data.draw(PREFIXES))
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(
        st.sampled_from(ALPHABET).filter(lambda c: c != token[index])
    )
    changed = token[:index] + replacement + token[index + 1 :]

    assert not looks_like_token(changed)


@CHANGES
@given(candidate=st.text())
def test_random_text_is_refused(candidate: str) -> None:
    """Arbitrary text is refused with MalformedTokenError, never another exception."""
    assert not looks_like_token(candidate)


@CHANGES
@given(
    prefix=PREFIXES,
    rest=st.text(alphabet=ALPHABET, min_size=36, max_size=36),
)
def test_random_well_shaped_strings_are_refused(prefix: str, rest: str) -> None:
    """Strings with the right shape but a random checksum are refused."""
    assume(not looks_like_token(f"{prefix}_{rest}"))

    with pytest.raises(MalformedTokenError) as caught:
        parse(f"{prefix}_{rest}")

    assert caught.value.why == "bad checksum"


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        ("", "no prefix"),
        ("_" + FIXED_TOKEN[3:], "no prefix"),
        (FIXED_TOKEN.replace("_", ""), "no prefix"),
        (FIXED_TOKEN[:-1], "wrong length"),
        (FIXED_TOKEN[:-1] + "!", "bad character"),
    ],
)
def test_parse_says_which_check_failed(candidate: str, why: str) -> None:
    """MalformedTokenError names the check that refused the string."""
    with pytest.raises(MalformedTokenError) as caught:
        parse(candidate)

    assert caught.value.why == why


@CHANGES
@given(
    before=st.text(alphabet=" \t\n=:\"'(,", min_size=1, max_size=5),
    after=st.text(alphabet=" \t\n\"'),.;", max_size=5),
    prefix=PREFIXES,
)
def test_scanner_pattern_finds_tokens_in_text(
    before: str, after: str, prefix: str
) -> None:
    """The documented scanner pattern finds a token wherever text surrounds it."""
    token = generate(prefix)
    text = f"export KEY{before}{token}{after}# set by ops"

    assert re.findall(scanner_pattern(prefix), text) == [token]


def test_scanner_pattern_ignores_longer_runs() -> None:
    """The scanner pattern does not match a token glued to more word characters."""
    token = generate("tw")

    assert re.search(scanner_pattern("tw"), f"x{token}") is None
    assert re.search(scanner_pattern("tw"), f"{token}0") is None
    assert re.search(scanner_pattern("tw"), generate("tx")) is None
