"""Domain errors to HTTP answers, in one place.

Every error body has the same shape:
`{"error": {"code": ..., "message": ..., "field": ...}}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tokenward.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TokenwardError,
)
from tokenward.ui.sessions import ForgeryError
from tokenward.upstream.errors import (
    TooManyFailedChecksError,
    UpstreamNotConfiguredError,
    UpstreamUnavailableError,
)

# Most specific first: ConflictError is an InvalidInputError.
_STATUS: list[tuple[type[TokenwardError], int, str]] = [
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (ForgeryError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (InvalidInputError, 422, "invalid_input"),
    (UpstreamUnavailableError, 502, "upstream_unavailable"),
    (UpstreamNotConfiguredError, 503, "upstream_not_configured"),
    (TooManyFailedChecksError, 429, "too_many_failed_checks"),
]

WWW_AUTHENTICATE = 'Bearer realm="tokenward", Basic realm="tokenward"'


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    # Registered for this type only; the assertion narrows it for the type checker.
    assert isinstance(error, TokenwardError)  # noqa: S101
    status, code = 500, "internal_error"
    for kind, kind_status, kind_code in _STATUS:
        if isinstance(error, kind):
            status, code = kind_status, kind_code
            break
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidInputError) and error.field:
        extra["field"] = error.field
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if status == 401 else None
    if isinstance(error, TooManyFailedChecksError):
        headers = {"Retry-After": str(error.retry_after)}

    return JSONResponse(
        error_body(code, error.message, **extra), status, headers=headers
    )


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - as above
    problems = [
        {
            "field": ".".join(str(part) for part in item["loc"] if part != "body"),
            "message": item["msg"],
        }
        for item in error.errors()
    ]
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)

    return JSONResponse(error_body("invalid_input", message, problems=problems), 422)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - as above
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "error")

    return JSONResponse(
        error_body(code, str(error.detail)), error.status_code, headers=error.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TokenwardError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
