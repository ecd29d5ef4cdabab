"""Upstream credentials for credential injection (SPEC G6)."""
