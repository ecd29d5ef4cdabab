"""tokenward: per-user, per-service API tokens in front of any HTTP API."""

__version__ = "0.1.0"
