"""The gate: every API call authenticated by token, in front of any HTTP API.

Pure decision logic (`decision`, `scopes`, `paths`, `addresses`, `reasons`) is kept
apart from the I/O around it (cache, audit writer, faces).
"""
