"""Admission control: under any load the server keeps answering, quickly, yes or "busy".

A server process works on at most ``KEFU_MAX_CONCURRENT_REQUESTS`` requests at once — the number
its database connection pool and worker threads are sized for (kefu.core.settings). A request
beyond that waits for a free place at most ``KEFU_ADMISSION_WAIT_MS``, first come first served,
and is otherwise refused at once with 503 and ``Retry-After`` (JSON under /api, a short page
otherwise). Without this, every request beyond capacity took a worker thread and waited up to
30 s for a connection; the threads ran out, the connections' owners could not finish, and the
server stopped answering for good.

Static files and ``/healthz`` (answered here, no database) never wait. A request admitted but
then left without a database connection (the pool's wait, ``KEFU_DB_POOL_TIMEOUT``) or without its
turn to write on SQLite gets the same 503 instead of a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from html import escape

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

BUSY = "服务器繁忙,请稍后重试"
HEALTH_PATH = "/healthz"
EXEMPT_PREFIXES = ("/static/",)


class Gate:
    """At most ``limit`` holders; waiters are let in in the order they came, each for at most
    ``wait`` seconds. Safe to share between event loops in several threads (the test client runs
    each request on a loop of its own); under uvicorn there is one loop per process."""

    def __init__(self, limit: int, wait: float) -> None:
        self.limit = limit
        self.wait = wait
        self.active = 0
        self._lock = threading.Lock()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def enter(self) -> bool:
        """True: a place is held (give it back with ``leave``); False: none came free in time."""
        with self._lock:
            if self.active < self.limit and not self._waiters:
                self.active += 1
                return True
            if self.wait <= 0:
                return False
            loop = asyncio.get_running_loop()
            ticket: asyncio.Future[bool] = loop.create_future()
            self._waiters.append((loop, ticket))
        timer = loop.call_later(self.wait, self._expire, ticket)
        try:
            return await ticket
        except asyncio.CancelledError:
            with self._lock:
                queued = self._remove(ticket)
            if not queued and ticket.done() and not ticket.cancelled() and ticket.result():
                self.leave()  # handed a place just as the request was cancelled: pass it on
            raise
        finally:
            timer.cancel()

    def leave(self) -> None:
        with self._lock:
            while self._waiters:
                loop, ticket = self._waiters.popleft()
                if not ticket.done():
                    break
            else:
                self.active -= 1
                return
        # The place goes straight to the next in line, on that request's own loop.
        loop.call_soon_threadsafe(self._grant, ticket)

    def _grant(self, ticket: asyncio.Future[bool]) -> None:
        if ticket.done():  # cancelled meanwhile: the place goes on to the next
            self.leave()
        else:
            ticket.set_result(True)

    def _expire(self, ticket: asyncio.Future[bool]) -> None:
        with self._lock:
            queued = self._remove(ticket)
        if queued and not ticket.done():  # (not queued: a place is already on its way to it)
            ticket.set_result(False)

    def _remove(self, ticket: asyncio.Future[bool]) -> bool:
        for entry in self._waiters:
            if entry[1] is ticket:
                self._waiters.remove(entry)
                return True
        return False


def _busy_error(error: BaseException) -> bool:
    """No connection in time, or (SQLite) no turn to write in time: the server is busy, not broken."""
    if isinstance(error, PoolTimeout):
        return True
    return isinstance(error, OperationalError) and "locked" in str(error.orig)


class AdmissionControl:
    """Pure ASGI middleware. Register it outside everything that reads the database (the session
    middleware), so that a refused request costs next to nothing."""

    def __init__(self, app: ASGIApp, *, limit: int, wait_ms: int, retry_after: int) -> None:
        self.app = app
        self.gate = Gate(limit, wait_ms / 1000)
        self.retry_after = retry_after
        self.refused = 0  # since start, for /healthz

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == HEALTH_PATH:
            await self._health(send)
            return
        if path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if not await self.gate.enter():
            self.refused += 1
            await self._refuse(path, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            if started or not _busy_error(error):
                raise
            log.warning("request refused as busy: %s %s: %s", scope["method"], path, error)
            self.refused += 1
            await self._refuse(path, send)
        finally:
            self.gate.leave()

    async def _refuse(self, path: str, send: Send) -> None:
        if path.startswith("/api/"):
            body = json.dumps({"detail": BUSY}, ensure_ascii=False).encode()
            kind = b"application/json"
        else:
            body = busy_page(self.retry_after).encode()
            kind = b"text/html; charset=utf-8"
        await _answer(send, 503, kind, body, [(b"retry-after", str(self.retry_after).encode())])

    async def _health(self, send: Send) -> None:
        state = {"status": "ok", "active": self.gate.active, "waiting": self.gate.waiting, "refused": self.refused}
        await _answer(send, 200, b"application/json", json.dumps(state).encode(), [])


async def _answer(send: Send, status: int, kind: bytes, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", kind),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def busy_page(retry_after: int) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{retry_after}"><title>服务器繁忙 · kefu 客服</title></head>'
        '<body style="font-family:sans-serif;max-width:32em;margin:4em auto;line-height:1.6">'
        f"<h1>服务器繁忙</h1><p>{escape(BUSY)}。本页将在 {retry_after} 秒后自动刷新;"
        "如果您正在提交表单,内容尚未保存,请稍后重新提交。</p></body></html>"
    )
