"""Policies: permissions now; lifetimes, networks, scopes and requests to come."""
