"""The API docs page, served from installed files: Swagger UI's scripts and styles come with
the ``fastapi-offline`` package, so the page works on a host without the internet.

The OpenAPI document is at ``/v1/openapi.json`` and ``/openapi.json``; the page at ``/v1/docs``
and ``/docs``. Its "Authorize" takes an API key (the document declares the bearer scheme).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

OPENAPI_URL = "/v1/openapi.json"
STATIC = "/docs/static"


def declare_body_errors(app: FastAPI) -> None:
    """Every operation that takes a JSON body can answer 415 (a body sent as another type) and
    400 (a body that is not JSON): the document says so, once for all of them."""
    make = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = make()
        envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                    continue
                responses = operation.setdefault("responses", {})
                for status, code in (("400", "bad_request"), ("415", "unsupported_media_type")):
                    responses.setdefault(
                        status, {"description": f"Error: `{code}`", "content": envelope}
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_docs(app: FastAPI) -> None:
    """Routes for the page, its files and the document's second address; none of them is in
    the document itself."""
    declare_body_errors(app)
    static = Path(str(files("fastapi_offline").joinpath("static")))
    app.mount(STATIC, StaticFiles(directory=static), name="docs-static")

    def page(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    def document(_: Request) -> JSONResponse:
        return JSONResponse(app.openapi())

    for path in ("/docs", "/v1/docs"):
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/openapi.json", document, methods=["GET"], include_in_schema=False)
