"""The serving process: uvicorn with the Roughy app, and nothing else imported.

``roughy serve`` prepares the data dir and the database, then replaces itself with this
(the command-line and migration libraries stay behind, the process id stays the same).
"""

from __future__ import annotations

import argparse

import uvicorn

from roughy.config import Settings
from roughy.logs import configure_logging


def run(host: str, port: int) -> None:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        "roughy.app:create_asgi",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m roughy.server")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    run(args.host, args.port)
