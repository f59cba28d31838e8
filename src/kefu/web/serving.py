"""How ``kefu serve`` runs the application: one process, or several worker processes on PostgreSQL.

With ``--workers N`` the command's own process migrates the database, writes the demo data and
the default sampling plan once, then uvicorn starts N worker processes that each build the
application from the same settings (``KEFU_…``, inherited) without migrating again. Each worker
admits ``KEFU_MAX_CONCURRENT_REQUESTS`` requests and keeps a connection pool sized to that
(kefu.web.admission, kefu.core.settings), so the database sees at most N × (2 × that + 4)
connections.

SIGTERM stops the server cleanly: no new connections, requests under way get
``KEFU_SHUTDOWN_TIMEOUT`` seconds to finish, the background work stops, exit status 0.
"""

from __future__ import annotations

import signal
from typing import Any

from fastapi import FastAPI

from kefu.core.settings import Settings, get_settings

WORKER_APP = "kefu.web.serving:worker_app"


def worker_app() -> FastAPI:
    """The application in a worker process (an app factory for uvicorn): the schema is already
    migrated by the parent."""
    from kefu.web.app import create_app

    return create_app(get_settings(), run_migrations=False)


def workers_refused(settings: Settings, workers: int) -> str | None:
    """Why ``--workers`` cannot be used with these settings (None: it can)."""
    if workers > 1 and settings.database.startswith("sqlite"):
        return (
            "--workers 需要 PostgreSQL:SQLite 是单个文件,同一时刻只允许一个进程写入,多个进程只会互相等待写锁,"
            "不会更快,繁忙时还会出错。请设置 KEFU_DATABASE_URL=postgresql+psycopg://… 后再使用 --workers,"
            "或去掉 --workers 以单进程运行。"
        )
    return None


def _stop_quietly(_signum: int, _frame: Any) -> None:
    """SIGTERM after uvicorn's graceful shutdown (uvicorn raises the signal it caught again, to the
    handler that was there before it): the stop was clean, nothing more to do."""


def run(application: FastAPI | None, settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    """Serve ``application`` in this process, or (``workers`` > 1) start that many worker processes."""
    import uvicorn

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        # Only the addresses in KEFU_TRUSTED_PROXIES may set the client's address and scheme
        # (create_app), not uvicorn's default of anything on 127.0.0.1.
        "proxy_headers": False,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }
    previous = signal.signal(signal.SIGTERM, _stop_quietly)
    try:
        if workers > 1:
            uvicorn.run(WORKER_APP, factory=True, workers=workers, **options)
        else:
            uvicorn.run(application, **options)  # type: ignore[arg-type]
    finally:
        signal.signal(signal.SIGTERM, previous)
