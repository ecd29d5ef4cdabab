"""Users manage their upstream credential over HTTP: saved only once the upstream
accepted it, never returned, audited (G6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.functional.upstream.conftest import new_pat, save
from tests.functional.upstream.fake_jira import SERVER_INFO, FakeJira, running_jira
from tests.functional.upstream.tls import make_pki
from tests.support import LiveServer, Setup, free_port, start_server
from tokenward.audit.models import AuditRecord
from tokenward.clock import FrozenClock
from tokenward.config import Settings


def events(setup: Setup, prefix: str = "upstream_credential") -> list[AuditRecord]:
    return [r for r in setup.audit_trail() if r.event.startswith(prefix)]


def test_a_working_pat_is_saved_and_not_echoed(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """A PAT the upstream accepts is stored; the answer names who it authenticated
    as and holds no trace of the value."""
    alice = setup.user("alice")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice")

    saved = save(server, alice, pat)

    assert saved.status_code == 200, saved.text
    assert pat not in saved.text
    body = saved.json()
    assert body["username"] == "alice"
    assert body["scheme"] == "bearer"
    assert body["checked_as"] == "alice"
    assert body["updated_by"] == "alice"
    assert body["key_current"] is True
    assert body["last_checked_at"] == body["updated_at"]
    assert jira.seen == [f"Bearer {pat}"]
    with server.client(alice) as api:
        shown = api.get("/me/upstream-credential")
    assert shown.status_code == 200
    assert shown.json() == body
    [record] = events(setup)
    assert record.event == "upstream_credential_saved"
    assert (record.actor, record.subject, record.outcome) == (
        "alice",
        "alice",
        "success",
    )
    assert record.details == {
        "scheme": "bearer",
        "checked_as": "alice",
        "replaced": False,
    }


def test_a_refused_pat_is_not_stored(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """A PAT the upstream refuses (401) gets a clear 422 and nothing is stored; the
    failed check is audited without the value."""
    alice = setup.user("alice")
    pat = new_pat()

    refused = save(server, alice, pat)

    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["field"] == "value"
    assert "HTTP 401" in error["message"]
    assert pat not in refused.text
    with server.client(alice) as api:
        assert api.get("/me/upstream-credential").status_code == 404
    [record] = events(setup)
    assert record.event == "upstream_credential_checked"
    assert (record.outcome, record.reason) == ("failure", "upstream_status")
    assert pat not in str(record.details)


def test_jira_200_for_an_anonymous_user_is_refused(
    settings: Settings, clock: FrozenClock, setup: Setup, jira: FakeJira
) -> None:
    """Checked on an anonymous-readable resource, a bad PAT gets Jira's 200 as
    `anonymous`; it is refused all the same, and a good one still passes."""
    checking = settings.model_copy(update={"gate_upstream_check_path": SERVER_INFO})
    alice = setup.user("alice")
    good = new_pat()
    jira.accept(f"Bearer {good}", "alice")

    with start_server(checking, clock) as server:
        refused = save(server, alice, new_pat())
        accepted = save(server, alice, good)

    assert refused.status_code == 422, refused.text
    assert (
        "X-Seraph-LoginReason: AUTHENTICATED_FAILED"
        in refused.json()["error"]["message"]
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["checked_as"] == "alice"


def test_bitbucket_whoami_names_the_user(
    settings: Settings, clock: FrozenClock, setup: Setup, jira: FakeJira
) -> None:
    """Checked on Bitbucket's whoami, the plain-text username is recorded."""
    checking = settings.model_copy(
        update={"gate_upstream_check_path": "/plugins/servlet/applinks/whoami"}
    )
    alice = setup.user("alice")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice.b")

    with start_server(checking, clock) as server:
        saved = save(server, alice, pat)

    assert saved.status_code == 200, saved.text
    assert saved.json()["checked_as"] == "alice.b"


def test_an_unreachable_upstream_is_a_502_and_nothing_is_stored(
    settings: Settings, clock: FrozenClock, setup: Setup
) -> None:
    """With the upstream down, saving answers 502 and stores nothing."""
    down = settings.model_copy(
        update={"gate_upstream_url": f"http://127.0.0.1:{free_port()}"}
    )
    alice = setup.user("alice")

    with start_server(down, clock) as server:
        answer = save(server, alice, new_pat())
        with server.client(alice) as api:
            shown = api.get("/me/upstream-credential")

    assert answer.status_code == 502, answer.text
    assert answer.json()["error"]["code"] == "upstream_unavailable"
    assert "did not answer" in answer.json()["error"]["message"]
    assert shown.status_code == 404


def test_no_upstream_to_check_against_is_a_503(
    settings: Settings, clock: FrozenClock, setup: Setup
) -> None:
    """Without an upstream URL a credential cannot be checked, so it is not saved."""
    forward_auth_only = settings.model_copy(update={"gate_upstream_url": None})
    alice = setup.user("alice")

    with start_server(forward_auth_only, clock) as server:
        answer = save(server, alice, new_pat())

    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "upstream_not_configured"


def test_malformed_values_are_refused_before_the_upstream_is_asked(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """A value with spaces, a basic value without a colon, and an unknown scheme are
    refused with 422 and never sent upstream."""
    alice = setup.user("alice")

    answers = [
        save(server, alice, "two words"),
        save(server, alice, "no-colon", scheme="basic"),
        save(server, alice, new_pat(), scheme="digest"),
    ]

    assert [answer.status_code for answer in answers] == [422, 422, 422]
    assert "two words" not in answers[0].text
    assert jira.seen == []


def test_saving_again_replaces_the_credential(
    server: LiveServer, setup: Setup, jira: FakeJira, clock: FrozenClock
) -> None:
    """A second save replaces the first, keeps the creation time, and is audited as
    a replacement."""
    alice = setup.user("alice")
    first, second = new_pat(), new_pat()
    jira.accept(f"Bearer {first}", "alice")
    jira.accept(f"Bearer {second}", "alice")
    created = save(server, alice, first).json()
    clock.advance(dt.timedelta(hours=1))

    replaced = save(server, alice, second).json()

    assert replaced["created_at"] == created["created_at"]
    assert replaced["updated_at"] > created["updated_at"]
    assert [r.details["replaced"] for r in events(setup)] == [False, True]


def test_remove_own_credential(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """DELETE removes the credential (audited); a second DELETE is a 404."""
    alice = setup.user("alice")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice")
    save(server, alice, pat)

    with server.client(alice) as api:
        removed = api.delete("/me/upstream-credential")
        again = api.delete("/me/upstream-credential")
        shown = api.get("/me/upstream-credential")

    assert removed.status_code == 204
    assert again.status_code == 404
    assert shown.status_code == 404
    assert events(setup)[-1].event == "upstream_credential_removed"
    assert events(setup)[-1].details == {"scheme": "bearer"}


def test_an_administrator_may_remove_but_others_may_not(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """An administrator removes another user's credential; a plain user cannot."""
    admin = setup.admin()
    alice = setup.user("alice")
    bob = setup.user("bob")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice")
    save(server, alice, pat)

    with server.client(bob) as api:
        by_bob = api.delete("/users/alice/upstream-credential")
    with server.client(admin) as api:
        by_admin = api.delete("/users/alice/upstream-credential")
        unknown = api.delete("/users/nobody/upstream-credential")

    assert by_bob.status_code == 403
    assert by_admin.status_code == 204
    assert unknown.status_code == 404
    removal = events(setup)[-1]
    assert (removal.event, removal.actor, removal.subject) == (
        "upstream_credential_removed",
        "admin",
        "alice",
    )


def test_check_again_updates_the_check_time(
    server: LiveServer, setup: Setup, jira: FakeJira, clock: FrozenClock
) -> None:
    """POST .../check tries the stored credential again and records when it passed."""
    alice = setup.user("alice")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice")
    saved = save(server, alice, pat).json()
    clock.advance(dt.timedelta(days=3))

    with server.client(alice) as api:
        checked = api.post("/me/upstream-credential/check")

    assert checked.status_code == 200, checked.text
    assert checked.json()["last_checked_at"] > saved["last_checked_at"]
    assert checked.json()["updated_at"] == saved["updated_at"]
    assert jira.seen == [f"Bearer {pat}"] * 2
    assert events(setup)[-1].event == "upstream_credential_checked"
    assert events(setup)[-1].outcome == "success"


def test_a_failed_check_again_keeps_the_credential(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """Once the upstream revoked the PAT, a check answers 422 and the credential
    stays stored, its last successful check unchanged."""
    alice = setup.user("alice")
    pat = new_pat()
    jira.accept(f"Bearer {pat}", "alice")
    saved = save(server, alice, pat).json()
    jira.forget(f"Bearer {pat}")

    with server.client(alice) as api:
        checked = api.post("/me/upstream-credential/check")
        shown = api.get("/me/upstream-credential")

    assert checked.status_code == 422
    assert shown.json()["last_checked_at"] == saved["last_checked_at"]
    assert events(setup)[-1].details == {"while": "checking"}


def test_repeated_rejections_are_throttled(
    server: LiveServer, setup: Setup, jira: FakeJira
) -> None:
    """After five rejected checks the next attempt is refused with 429 and
    Retry-After, without asking the upstream (whose accounts could lock)."""
    alice = setup.user("alice")
    pats = [new_pat() for _ in range(6)]
    jira.accept(f"Bearer {pats[-1]}", "alice")

    answers = [save(server, alice, pat) for pat in pats]

    assert [a.status_code for a in answers] == [422] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    assert answers[-1].json()["error"]["code"] == "too_many_failed_checks"
    assert len(jira.seen) == 5


def test_same_user_mode_refuses_someone_elses_pat(
    settings: Settings, clock: FrozenClock, setup: Setup, jira: FakeJira
) -> None:
    """With gate_upstream_same_user, a PAT the upstream knows as another user is
    refused, and the user's own is accepted whatever the case of its name."""
    strict = settings.model_copy(update={"gate_upstream_same_user": True})
    alice = setup.user("alice")
    carols, own = new_pat(), new_pat()
    jira.accept(f"Bearer {carols}", "carol")
    jira.accept(f"Bearer {own}", "Alice")

    with start_server(strict, clock) as server:
        refused = save(server, alice, carols)
        accepted = save(server, alice, own)

    assert refused.status_code == 422
    assert "'carol', not 'alice'" in refused.json()["error"]["message"]
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["checked_as"] == "Alice"


def test_an_https_upstream_is_verified_against_the_ca_file(
    settings: Settings, clock: FrozenClock, setup: Setup, tmp_path: Path
) -> None:
    """A check of an https upstream signed by a private CA fails (502) until
    gate_upstream_ca_file names that CA, as the reverse proxy's does."""
    pki = make_pki(tmp_path)
    alice = setup.user("alice")
    pat = new_pat()

    with running_jira(pki.server_context()) as secure_jira:
        secure_jira.accept(f"Bearer {pat}", "alice")
        untrusted = settings.model_copy(update={"gate_upstream_url": secure_jira.url})
        trusted = untrusted.model_copy(update={"gate_upstream_ca_file": pki.ca_file})
        with start_server(untrusted, clock) as server:
            refused = save(server, alice, pat)
        with start_server(trusted, clock) as server:
            accepted = save(server, alice, pat)

    assert refused.status_code == 502, refused.text
    assert "CERTIFICATE_VERIFY_FAILED" in refused.json()["error"]["message"]
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["checked_as"] == "alice"
