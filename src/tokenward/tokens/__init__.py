"""Tokens: their format, their digest and their lifecycle."""
