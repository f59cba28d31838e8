"""The request boundary: what no route should ever have to handle, refused before any route (or
FastAPI's own parsing) sees it.

- A body larger than any route needs (``MAX_BODY_BYTES``): 413, decided from ``Content-Length`` before a
  byte is read, or while reading a body sent without one.
- A JSON body that is not UTF-8, nests deeper than any of our models, holds a number that is not
  finite (``1e400`` parses as infinity, ``NaN``/``Infinity`` are not JSON) or a NUL character in
  any text or key: 422 naming where. (PostgreSQL refuses NUL in text, and an infinite number
  breaks every later reader of the stored value, such as the call export.)
- A NUL character in the query string, the path or a form: 422.

Multipart uploads (the imports) pass through untouched: their routes read the file with their own
limit. Refusals are JSON ``{"detail", "errors"}`` under /api (the documented 422/413 bodies) and
a short page elsewhere.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The largest text a body may carry is 200,000 characters (a call's transcript, a rulebook
# overlay). Sent with every character escaped — \uXXXX, or a surrogate pair of two for an emoji,
# as Python's json.dumps does — or percent-encoded in a form, that is at most 2.4 MB: 4 MB admits
# every valid request and refuses the rest before they are read.
MAX_BODY_BYTES = 4 * 1024 * 1024
# Our deepest body is a call whose transcript is a call object: body → transcript → turns → turn.
MAX_JSON_DEPTH = 32

NUL_MESSAGE = "不能包含空字符(NUL)"


class Refusal(Exception):
    def __init__(self, status: int, detail: str, errors: list[dict[str, str | None]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def _path(parts: list[str | int]) -> str:
    return ".".join(str(p) for p in parts)


def _too_deep() -> Refusal:
    return Refusal(422, "输入有误", [{"field": None, "message": f"JSON 嵌套过深(最多 {MAX_JSON_DEPTH} 层)"}])


def check_json(body: bytes) -> None:
    """Refuse what FastAPI would choke on or store badly; leave plain syntax errors to FastAPI
    (its 422 names the position)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(422, "输入有误", [{"field": None, "message": "请求体应为 UTF-8 编码的 JSON"}]) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        return
    problems: list[dict[str, str | None]] = []
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack and len(problems) < 20:
        item, where = stack.pop()
        if len(where) > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(item, str):
            if "\x00" in item:
                problems.append({"field": _path(where), "message": NUL_MESSAGE})
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append({"field": _path(where), "message": "数字超出范围(应为有限的数字)"})
        elif isinstance(item, dict):
            for key in item:
                if "\x00" in key:
                    where_key = _path([*where, key.replace("\x00", "")])
                    problems.append({"field": where_key, "message": "字段名" + NUL_MESSAGE})
            stack.extend((child, [*where, key]) for key, child in reversed(item.items()))  # in order
        elif isinstance(item, list):
            stack.extend((item[i], [*where, i]) for i in reversed(range(len(item))))
    if problems:
        raise Refusal(422, "输入有误", problems)


def _has_nul(encoded: bytes) -> bool:
    """A NUL in percent-encoded text (query string, form); a literal "%00" typed by someone is
    sent as %2500 and is fine."""
    return b"%00" in encoded.lower() or b"\x00" in encoded


def _too_large(limit: int) -> Refusal:
    return Refusal(413, f"请求内容过大(上限 {limit // (1024 * 1024)} MB),请精简后重试")


class InputGuard:
    """Pure ASGI middleware (the body is buffered once, then replayed to the app unchanged)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            if _has_nul(scope.get("query_string", b"")) or "\x00" in scope.get("path", ""):
                raise Refusal(422, "输入有误", [{"field": None, "message": "网址" + NUL_MESSAGE}])
            headers = Headers(scope=scope)
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind == "multipart/form-data":
                await self.app(scope, receive, send)
                return
            form = kind == "application/x-www-form-urlencoded"
            body = await self._read(headers, receive, MAX_BODY_BYTES)
            if body is None:  # the client went away while sending
                return
            if form and _has_nul(body):
                raise Refusal(422, "输入有误", [{"field": None, "message": "表单" + NUL_MESSAGE}])
            if body and not form and (not kind or kind == "application/json" or kind.endswith("+json")):
                check_json(body)
        except Refusal as refusal:
            await _answer(scope, refusal)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    async def _read(headers: Headers, receive: Receive, limit: int) -> bytes | None:
        """The whole body (b"" when there is none); None when the client disconnected."""
        declared = headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would

    return replay


def _answer(scope: Scope, refusal: Refusal) -> Response:
    if scope.get("path", "").startswith("/api/"):
        content: dict[str, Any] = {"detail": refusal.detail}
        if refusal.status == 422:
            content["errors"] = refusal.errors
        return JSONResponse(content, status_code=refusal.status)
    lines = [refusal.detail, *(str(e["message"]) for e in refusal.errors)]
    page = (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>输入有误 · 客服</title>'
        f'<p>{"<br>".join(escape(line) for line in lines)}</p><p><a href="/">返回首页</a></p></html>'
    )
    return HTMLResponse(page, status_code=refusal.status)
