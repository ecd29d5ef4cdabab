"""Every mapped table, imported in one place so the metadata is complete.

Alembic and the drift test read `Base.metadata` through this module.
"""

from __future__ import annotations

from tokenward.audit.models import AuditRecord
from tokenward.db import Base
from tokenward.directory.models import Group, User, memberships
from tokenward.policies.models import PermissionGroup, PermissionSetting
from tokenward.tokens.models import Token

__all__ = [
    "AuditRecord",
    "Base",
    "Group",
    "PermissionGroup",
    "PermissionSetting",
    "Token",
    "User",
    "memberships",
]
