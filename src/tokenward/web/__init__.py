"""The web face: REST API now, UI pages later."""
