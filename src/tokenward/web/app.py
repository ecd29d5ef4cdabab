"""The ASGI application of the API listener.

A thin dispatcher sends forward-auth checks and the operations endpoints to plain
ASGI handlers, so the hot path never runs FastAPI's routing and dependency
injection (DESIGN, "The hot path"); paths under /api/ go to the REST API and every
other path to the web UI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from tokenward import __version__
from tokenward.audit.routes import router as audit_router
from tokenward.container import Container
from tokenward.directory.routes import router as directory_router
from tokenward.gate.forward_auth import PREFIX as FORWARD_AUTH_PREFIX
from tokenward.gate.forward_auth import ForwardAuthApp
from tokenward.gate.runtime import GateRuntime
from tokenward.notify.routes import router as notifications_router
from tokenward.policies.routes import gate_policy_router
from tokenward.policies.routes import router as permissions_router
from tokenward.requests.routes import router as requests_router
from tokenward.tokens.routes import router as tokens_router
from tokenward.ui.app import create_ui
from tokenward.upstream.injection import InjectedCredentials
from tokenward.upstream.routes import router as upstream_router
from tokenward.web.asgi import Receive, Scope, Send
from tokenward.web.errors import install_error_handlers
from tokenward.web.operations import OPERATION_PATHS, OperationsApp
from tokenward.web.request_ids import RequestIdMiddleware

API_PREFIX = "/api/v1"
_API_ROOT = "/api/"


class TokenwardApp:
    """Routes each request to forward auth, operations or the REST API."""

    def __init__(self, container: Container, *, close_on_shutdown: bool = True) -> None:
        self.container = container
        credentials = InjectedCredentials(
            container.db,
            container.credential_cipher,
            max_entries=container.settings.gate_credential_cache_size,
        )
        self.runtime = GateRuntime(container, credentials=credentials)
        self.runtime.forget_on_change(credentials.clear)
        self.api = _api(container, self.runtime, close_on_shutdown=close_on_shutdown)
        # Outside FastAPI's own middleware, so that even its 500 answers carry it.
        self._api_with_request_id = RequestIdMiddleware(self.api)
        self._forward_auth = ForwardAuthApp(self.runtime)
        self._operations = OperationsApp(self.runtime)
        self._ui = RequestIdMiddleware(create_ui(container))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(FORWARD_AUTH_PREFIX):
                await self._forward_auth(scope, receive, send)
                return
            if path in OPERATION_PATHS:
                await self._operations(scope, receive, send)
                return
            if not path.startswith(_API_ROOT):
                await self._ui(scope, receive, send)
                return
        await self._api_with_request_id(scope, receive, send)


def create_app(container: Container, *, close_on_shutdown: bool = True) -> TokenwardApp:
    """Build the app around `container`, whose services every route calls."""
    return TokenwardApp(container, close_on_shutdown=close_on_shutdown)


def _api(
    container: Container, runtime: GateRuntime, *, close_on_shutdown: bool
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Whoever starts the runtime stops it. `web.listeners` starts it before any
        # listener serves, so one runtime (one audit writer) serves them all.
        owner = not runtime.running
        if owner:
            await runtime.start()
        try:
            yield
        finally:
            if owner:
                await runtime.stop()
                if close_on_shutdown:
                    await container.close()

    docs = container.settings.api_docs
    app = FastAPI(
        title="tokenward",
        version=__version__,
        description="Per-user, per-service API tokens in front of any HTTP API.",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json" if docs else None,
        docs_url=f"{API_PREFIX}/docs" if docs else None,
        redoc_url=None,
    )
    app.state.container = container
    install_error_handlers(app)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(tokens_router)
    api.include_router(directory_router)
    api.include_router(permissions_router)
    api.include_router(upstream_router)
    api.include_router(gate_policy_router)
    api.include_router(notifications_router)
    api.include_router(requests_router)
    api.include_router(audit_router)
    app.include_router(api)

    return app
