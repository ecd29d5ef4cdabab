"""Stable names of audit events (SPEC A1) and their outcomes.

The values are part of the product's interface: filters, exports and SIEM rules use
them. Add members; never rename one.
"""

from __future__ import annotations

import enum


class AuditEvent(enum.StrEnum):
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    TOKEN_ROTATED = "token_rotated"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_SHORTENED = "token_shortened"
    USER_CREATED = "user_created"
    USER_UPDATED = "user_updated"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    USER_PASSWORD_SET = "user_password_set"
    GROUP_CREATED = "group_created"
    GROUP_UPDATED = "group_updated"
    GROUP_DELETED = "group_deleted"
    GROUP_MEMBER_ADDED = "group_member_added"
    GROUP_MEMBER_REMOVED = "group_member_removed"
    PERMISSION_CHANGED = "permission_changed"
    POLICY_CHANGED = "policy_changed"
    ADMIN_BOOTSTRAPPED = "admin_bootstrapped"
    GATE_DECISION = "gate_decision"
    PASSWORD_LOGIN = "password_login"
    UPSTREAM_CREDENTIAL_SAVED = "upstream_credential_saved"
    UPSTREAM_CREDENTIAL_REMOVED = "upstream_credential_removed"
    UPSTREAM_CREDENTIAL_CHECKED = "upstream_credential_checked"
    TOKEN_REQUESTED = "token_requested"
    TOKEN_REQUEST_APPROVED = "token_request_approved"
    TOKEN_REQUEST_REJECTED = "token_request_rejected"
    TOKEN_REQUEST_CANCELLED = "token_request_cancelled"
    TOKEN_REQUEST_EXPIRED = "token_request_expired"
    TOKEN_REQUEST_FULFILLED = "token_request_fulfilled"
    UI_SIGNED_IN = "ui_signed_in"
    UI_SIGN_IN_FAILED = "ui_sign_in_failed"
    UI_SIGNED_OUT = "ui_signed_out"
    AUDIT_EXPORTED = "audit_exported"


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    ALLOWED = "allowed"
    DENIED = "denied"
    FAILURE = "failure"
