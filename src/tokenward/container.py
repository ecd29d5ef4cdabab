"""The services of one tokenward instance, wired once from the settings.

The web app and the CLI both build one of these and call only its services.
"""

from __future__ import annotations

import datetime as dt

from tokenward.audit.queries import AuditLog
from tokenward.clock import Clock, SystemClock
from tokenward.config import Settings
from tokenward.db import Database
from tokenward.directory.services import DirectoryService
from tokenward.instance import InstanceSecret, load_instance_secret
from tokenward.notify.services import NotificationService
from tokenward.policies.bootstrap import BootstrapService
from tokenward.policies.governance import TokenPolicyService
from tokenward.policies.services import GatePolicyService, PermissionService
from tokenward.requests.services import TokenRequestService
from tokenward.tokens.services import TokenService
from tokenward.ui.sessions import SessionService
from tokenward.upstream.check import UpstreamCheck
from tokenward.upstream.crypto import CredentialCipher
from tokenward.upstream.services import UpstreamCredentialService


class Container:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        instance_secret: InstanceSecret | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.instance_secret = instance_secret or load_instance_secret(settings)
        self.db = Database(
            settings.resolved_database_url,
            sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
        self.directory = DirectoryService(self.db, self.clock)
        self.audit = AuditLog(self.db, self.clock)
        self.permissions = PermissionService(self.db, self.clock)
        self.gate_policy = GatePolicyService(self.db, self.clock)
        self.bootstrap = BootstrapService(self.db, self.clock)
        self.token_policy = TokenPolicyService(
            self.db,
            self.clock,
            default_lifetime=dt.timedelta(days=settings.default_token_lifetime_days),
        )
        self.tokens = TokenService(
            self.db,
            self.clock,
            self.instance_secret,
            prefix=settings.token_prefix,
            default_lifetime=dt.timedelta(days=settings.default_token_lifetime_days),
        )
        self.token_requests = TokenRequestService(
            self.db,
            self.clock,
            self.instance_secret,
            prefix=settings.token_prefix,
            default_lifetime=dt.timedelta(days=settings.default_token_lifetime_days),
            ttl=dt.timedelta(days=settings.token_request_ttl_days),
        )
        self.credential_cipher = CredentialCipher(self.instance_secret)
        self.notifications = NotificationService(
            self.db, self.clock, self.credential_cipher, settings
        )
        self.upstream_credentials = UpstreamCredentialService(
            self.db,
            self.clock,
            self.credential_cipher,
            UpstreamCheck.from_settings(settings),
        )

        self.ui_sessions = SessionService(
            self.db,
            self.clock,
            self.instance_secret,
            idle=dt.timedelta(minutes=settings.ui_session_idle_minutes),
            lifetime=dt.timedelta(hours=settings.ui_session_hours),
        )

    async def close(self) -> None:
        await self.db.dispose()
