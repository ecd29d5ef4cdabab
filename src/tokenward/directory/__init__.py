"""The directory: users, groups and local accounts."""
