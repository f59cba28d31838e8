"""Security headers on every response: what the browser may run and load, no framing, no
sniffing, no referrer to other sites, and no copies of pages or API answers (they carry
personal data) in the browser's or a proxy's cache. Static files may be cached.

Pages run only scripts from /static (no inline script, no event-handler attributes: see
static/kefu.js); inline styles stay allowed, they cannot run code.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# FastAPI's /api/docs page is Swagger UI: an inline start-up script and files from its CDN.
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = ("/api/docs", "/api/redoc")
STATIC_PREFIX = "/static/"


def security_headers(path: str, secure: bool) -> dict[str, str]:
    """The headers every answer to ``path`` carries (``secure``: served over HTTPS)."""
    headers = {
        "Content-Security-Policy": DOCS_CSP if path.startswith(DOCS_PATHS) else CSP,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class SecurityHeaders:
    """Pure ASGI (no buffering of streamed answers, such as exports)."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        secure = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(security_headers(path, secure))
            await send(message)

        await self.app(scope, receive, send_with_headers)
