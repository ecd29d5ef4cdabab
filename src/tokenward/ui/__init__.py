"""The web UI (SPEC I1): server-rendered pages calling the same services as the API."""
