"""The notification settings, the "send test" action and the outbox over the REST
API: administrators only, secrets write-only and never stored in the clear."""

from __future__ import annotations

import datetime as dt

from tests.functional.notify.helpers import WEBHOOK_SECRET, configure, person
from tests.functional.notify.servers import Mailbox, webhook_receiver
from tests.support import (
    OPERATOR,
    ORIGIN,
    LiveServer,
    Setup,
    capture_logs,
    free_port,
    start_server,
    stored_bytes,
)
from tokenward.clock import FrozenClock
from tokenward.config import Settings


def test_only_administrators_see_or_change_the_settings(
    server: LiveServer, setup: Setup
) -> None:
    """A user without the administer permission gets 403 from every route."""
    token = setup.user("bob")
    with server.client(token) as api:
        answers = [
            api.get("/notifications/settings"),
            api.put("/notifications/settings", json={}),
            api.post("/notifications/test", json={}),
            api.get("/notifications"),
        ]

    assert [answer.status_code for answer in answers] == [403] * 4


def test_defaults_send_nothing(server: LiveServer, setup: Setup) -> None:
    """Until saved, e-mail is off, there are no webhooks, and reminders would go
    out 30, 7 and 1 days ahead."""
    with server.client(setup.admin()) as api:
        answer = api.get("/notifications/settings")

    assert answer.status_code == 200
    assert answer.json() == {
        "email": False,
        "webhooks": [],
        "reminder_days": [30, 7, 1],
        "reminder_group": None,
        "new_address_alerts": False,
    }


def test_webhook_secrets_are_write_only_and_sealed(
    server: LiveServer, setup: Setup, settings: Settings
) -> None:
    """A saved secret is answered only as `secret_set`, is kept when the webhook
    is sent back without one, and appears in no answer, audit record, log line or
    stored byte."""
    admin = setup.admin()
    with capture_logs(settings) as logs, server.client(admin) as api:
        saved = api.put(
            "/notifications/settings",
            json={
                "webhooks": [
                    {
                        "name": "siem",
                        "url": "https://siem.example.test/hook",
                        "secret": WEBHOOK_SECRET,
                    }
                ],
                "reminder_days": [1, 14],
            },
        )
        resent = api.put("/notifications/settings", json=saved.json())
        read = api.get("/notifications/settings")

    assert saved.status_code == 200, saved.text
    assert saved.json()["webhooks"] == [
        {
            "name": "siem",
            "url": "https://siem.example.test/hook",
            "events": [],
            "enabled": True,
            "secret_set": True,
        }
    ]
    assert saved.json()["reminder_days"] == [14, 1]
    assert resent.status_code == 200, resent.text
    assert read.json() == saved.json()
    trail = [r.details for r in setup.audit_trail() if r.event == "policy_changed"]
    assert [d["webhook_secrets_set"] for d in trail] == [["siem"], []]
    everything = saved.text + read.text + logs.getvalue() + repr(trail)
    assert WEBHOOK_SECRET not in everything
    assert WEBHOOK_SECRET.encode() not in stored_bytes(settings)


def test_bad_settings_are_refused_and_nothing_is_saved(
    server: LiveServer, setup: Setup
) -> None:
    """A new webhook without a secret, e-mail without an SMTP server, an unknown
    group, bad lead times and a URL that is not http(s) each save nothing."""
    hook = {"name": "siem", "url": "https://siem.example.test/hook"}
    with server.client(setup.admin()) as api:
        answers = {
            "no secret": api.put("/notifications/settings", json={"webhooks": [hook]}),
            "no smtp": api.put("/notifications/settings", json={"email": True}),
            "no group": api.put(
                "/notifications/settings", json={"reminder_group": "nobody"}
            ),
            "zero days": api.put(
                "/notifications/settings", json={"reminder_days": [0]}
            ),
            "twice": api.put("/notifications/settings", json={"reminder_days": [7, 7]}),
            "short secret": api.put(
                "/notifications/settings",
                json={"webhooks": [{**hook, "secret": "short"}]},
            ),
            "ftp": api.put(
                "/notifications/settings",
                json={"webhooks": [{**hook, "url": "ftp://x", "secret": "s" * 20}]},
            ),
        }
        after = api.get("/notifications/settings").json()

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "no secret": 422,
        "no smtp": 422,
        "no group": 404,
        "zero days": 422,
        "twice": 422,
        "short secret": 422,
        "ftp": 422,
    }
    assert "TOKENWARD_SMTP_HOST" in answers["no smtp"].json()["error"]["message"]
    assert after["webhooks"] == []
    assert after["email"] is False


def test_send_test_reports_each_channel(
    mail_settings: Settings, mailbox: Mailbox, clock: FrozenClock
) -> None:
    """The test action mails the administrator and calls each enabled webhook now,
    and reports a webhook that cannot be reached as not delivered, with why."""
    setup = Setup(mail_settings, clock)
    admin = setup.admin()
    setup.run(
        lambda c: c.directory.update_user(
            OPERATOR, ORIGIN, "admin", email="admin@example.test"
        )
    )
    dead = f"http://127.0.0.1:{free_port()}/hook"
    with webhook_receiver(WEBHOOK_SECRET) as (url, receiver):
        configure(
            setup,
            email=True,
            webhooks=[
                {"name": "live", "url": url, "secret": WEBHOOK_SECRET},
                {"name": "dead", "url": dead, "secret": WEBHOOK_SECRET},
            ],
        )
        with start_server(mail_settings, clock) as live, live.client(admin) as api:
            answer = api.post("/notifications/test", json={})

    assert answer.status_code == 200, answer.text
    results = {r["target"]: r for r in answer.json()["results"]}
    assert results["admin@example.test"]["delivered"] is True
    assert results["live"]["delivered"] is True
    assert results["dead"]["delivered"] is False
    assert "ConnectError" in results["dead"]["error"]
    [mail] = mailbox.received
    assert mail.recipients == ["admin@example.test"]
    assert mail.message["Subject"] == "tokenward: test notification"
    [call] = receiver.calls
    assert call.signature_valid
    assert call.document["event"] == "test"


def test_the_outbox_lists_failures_and_retries_them(
    server: LiveServer, setup: Setup, clock: FrozenClock
) -> None:
    """A webhook call that failed for good is listed with its error and, retried,
    is pending again and due now."""
    admin = setup.admin()
    person(setup, "alice")
    configure(
        setup,
        webhooks=[
            {
                "name": "gone",
                "url": f"http://127.0.0.1:{free_port()}/",
                "secret": "s" * 20,
            }
        ],
    )
    setup.issue("alice", label="ci")
    configure(setup)  # the webhook is removed: its queued call cannot be sent
    setup.run(lambda c: c.notifications.deliver_due())
    clock.advance(dt.timedelta(minutes=5))

    with server.client(admin) as api:
        failed = api.get("/notifications", params={"status": "failed"}).json()
        [item] = failed["items"]
        retried = api.post(f"/notifications/{item['id']}/retry")
        again = api.post(f"/notifications/{item['id']}/retry")
        pending = api.get("/notifications", params={"status": "pending"}).json()

    assert failed["total"] == 1
    assert item["target"] == "gone"
    assert "no longer configured" in item["last_error"]
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    assert retried.json()["attempts"] == 0
    assert again.status_code == 422
    assert [i["id"] for i in pending["items"]] == [item["id"]]
