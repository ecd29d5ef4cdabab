"""Fixtures for notifications: a real SMTP server, and services configured to
send mail to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.notify.servers import Mailbox, smtp_server
from tests.support import Setup
from tokenward.clock import FrozenClock
from tokenward.config import Settings


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """A plain SMTP server on loopback."""
    with smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """The test settings, sending mail to `mailbox`."""
    return settings.model_copy(update=mailbox.settings())


@pytest.fixture
def mail_setup(mail_settings: Settings, clock: FrozenClock) -> Setup:
    """Services that send mail to `mailbox`."""
    return Setup(mail_settings, clock)
