"""The FastAPI application: routers under /v1, errors in the envelope, and the process's runtime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from roughy import __version__
from roughy.accounts.endpoints import router as accounts_router
from roughy.assets.endpoints import router as assets_router
from roughy.config import Settings
from roughy.credits.endpoints import router as credits_router
from roughy.cuts.endpoints import router as cuts_router
from roughy.docs import OPENAPI_URL, install_docs
from roughy.errors import error_response, install_error_handlers
from roughy.jobs import WORKER_MODULE, register_jobs
from roughy.middleware import RequestContextMiddleware
from roughy.projects.endpoints import router as projects_router
from roughy.queue.embedded import EmbeddedWorker
from roughy.renders.endpoints import router as renders_router
from roughy.runtime import Runtime, build_runtime
from roughy.transcripts.endpoints import router as transcripts_router
from roughy.uploads.endpoints import router as uploads_router
from roughy.uploads.head import FastUploadHead
from roughy.uploads.protocol import ALLOWED_HEADERS, EXPOSED_HEADERS, TusResumableHeader
from roughy.web.endpoints import install_dashboard
from roughy.webhooks.endpoints import router as webhooks_router

log = logging.getLogger("roughy")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await run_in_threadpool(build_runtime, settings, register_jobs)
        app.state.runtime = runtime
        worker = EmbeddedWorker(settings.shutdown_grace_seconds, WORKER_MODULE)
        if settings.embedded_worker:
            await worker.start()
        log.info(
            "roughy started",
            extra={
                "database": runtime.db.engine.url.render_as_string(),
                "queue": type(runtime.jobs.huey).__name__,
                "worker_pid": worker.pid,
            },
        )
        try:
            yield
        finally:
            # The server has cancelled running requests by now; uploads save what arrived.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await runtime.locks.wait_released()
            await worker.stop()
            runtime.close()

    app = FastAPI(
        title="Roughy",
        version=__version__,
        summary="Upload long recordings, prepare them, cut them, render them.",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # roughy.docs serves the page from installed files
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_docs(app)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(TusResumableHeader, path_prefix="/v1/uploads")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "HEAD", "DELETE", "OPTIONS"],
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=86400,
    )
    v1 = APIRouter(prefix="/v1")
    for router in (
        accounts_router,
        projects_router,
        assets_router,
        transcripts_router,
        uploads_router,
        credits_router,
        cuts_router,
        renders_router,
        webhooks_router,
    ):
        v1.include_router(router)
    app.include_router(v1)
    install_dashboard(app)
    app.add_api_route("/healthz", _healthz, methods=["GET"], tags=["health"])
    app.add_api_route("/readyz", _readyz, methods=["GET"], tags=["health"])
    return app


def create_asgi(settings: Settings | None = None) -> ASGIApp:
    """The app as servers run it: request ids outermost, then the short way for upload HEADs."""
    return RequestContextMiddleware(FastUploadHead(create_app(settings)))


async def _internal_error(_: Request, exc: Exception) -> JSONResponse:
    return error_response("internal_error", "Something went wrong on our side; it has been logged.")


def _healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


def _readyz(request: Request) -> JSONResponse:
    """The database and the job queue answer."""
    runtime: Runtime = request.app.state.runtime
    try:
        with runtime.db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception:
        log.exception("database not ready")
        return error_response("internal_error", "The database does not answer.", status=503)
    try:
        runtime.jobs.pending()
    except Exception:
        log.exception("job queue not ready")
        return error_response("internal_error", "The job queue does not answer.", status=503)
    return JSONResponse({"status": "ok"})
