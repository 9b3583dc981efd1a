"""Background work in this process: a small thread pool for jobs, and a periodic ticker.

The embedded default runs jobs here; the job-queue work replaces this with a real queue
without changing the job functions, which are plain synchronous callables.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("roughy.jobs")


class JobRunner:
    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="roughy-job")
        self._stop = threading.Event()
        self._tickers: list[threading.Thread] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future = self._pool.submit(fn, *args)
        future.add_done_callback(lambda f: _log_failure(fn, f))
        return future

    def every(self, seconds: float, fn: Callable[[], Any]) -> None:
        def tick() -> None:
            while not self._stop.wait(seconds):
                try:
                    fn()
                except Exception:
                    log.exception("periodic job failed", extra={"job": fn.__name__})

        thread = threading.Thread(target=tick, name=f"roughy-every-{fn.__name__}", daemon=True)
        thread.start()
        self._tickers.append(thread)

    def shutdown(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=False)


def _log_failure(fn: Callable[..., Any], future: Future[Any]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.error("job failed", exc_info=exc, extra={"job": getattr(fn, "__name__", str(fn))})
