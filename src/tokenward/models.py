"""Every mapped table, imported in one place so the metadata is complete.

Alembic and the drift test read `Base.metadata` through this module.
"""

from __future__ import annotations

from tokenward.audit.models import AuditRecord
from tokenward.db import Base
from tokenward.directory.models import Group, User, memberships
from tokenward.gate.models import ChangeCounter
from tokenward.jobs.models import JobLease
from tokenward.notify.models import ExpiryReminder, Notification
from tokenward.policies.models import PermissionGroup, PermissionSetting, PolicyDocument
from tokenward.requests.models import TokenRequest
from tokenward.tokens.models import Token
from tokenward.ui.models import UiSession
from tokenward.upstream.models import UpstreamCredential

__all__ = [
    "AuditRecord",
    "Base",
    "ChangeCounter",
    "ExpiryReminder",
    "Group",
    "JobLease",
    "Notification",
    "PermissionGroup",
    "PermissionSetting",
    "PolicyDocument",
    "Token",
    "TokenRequest",
    "UiSession",
    "UpstreamCredential",
    "User",
    "memberships",
]
