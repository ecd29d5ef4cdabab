"""Policies: permissions, the gate policy, and the token policy (lifetimes, scope,
count, inactivity, networks); token requests to come."""
