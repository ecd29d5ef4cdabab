"""The OpenAPI document of the REST API (I2)."""

from __future__ import annotations

from tests.support import LiveServer


def test_openapi_declares_both_credentials(server: LiveServer) -> None:
    """The document offers Bearer and Basic and requires one on the token routes."""
    with server.client() as api:
        document = api.get("/openapi.json").json()

    schemes = document["components"]["securitySchemes"]
    assert {scheme["scheme"].lower() for scheme in schemes.values()} == {
        "bearer",
        "basic",
    }
    security = document["paths"]["/api/v1/tokens"]["post"]["security"]
    assert {name for requirement in security for name in requirement} == set(schemes)
