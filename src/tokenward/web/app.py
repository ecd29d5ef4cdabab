"""The ASGI application: the REST API under /api/v1, with its OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from tokenward import __version__
from tokenward.container import Container
from tokenward.directory.routes import router as directory_router
from tokenward.policies.routes import router as permissions_router
from tokenward.tokens.routes import router as tokens_router
from tokenward.web.errors import install_error_handlers

API_PREFIX = "/api/v1"


def create_app(container: Container, *, close_on_shutdown: bool = True) -> FastAPI:
    """Build the app around `container`, whose services every route calls."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
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
    app.include_router(api)

    return app
