"""A lean HTTP/1.1 client for load generation on one machine.

httpx costs about 2 ms of CPU per request; at a few hundred requests a second on a 2-core machine
the load generator then competes with the server it measures and falls behind (its unread answers
pile up in its sockets, and the latencies it reports are its own). This client does only what the
benchmark needs — keep-alive connections to one localhost server, JSON bodies, Content-Length or
chunked answers, one cookie jar — in a fraction of that.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote


class Answer:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class LeanClient:
    """Keep-alive connections to ``host:port`` (at most ``connections`` at once; a request waits
    for a free one). A connection whose request failed or was cancelled is closed, never reused."""

    def __init__(self, host: str, port: int, connections: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(connections)

    async def request(self, method: str, path: str, json_body: Any = None) -> Answer:
        async with self._slots:
            while self._idle:  # a kept connection the server closed meanwhile (its keep-alive timeout): next
                reader, writer = self._idle.pop()
                try:
                    return await self._on(reader, writer, method, path, json_body)
                except (asyncio.IncompleteReadError, ConnectionError) as error:
                    if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                        raise
            reader, writer = await asyncio.open_connection(self.host, self.port)
            return await self._on(reader, writer, method, path, json_body)

    async def _on(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str, json_body: Any
    ) -> Answer:
        try:
            answer, keep = await self._exchange(reader, writer, method, path, json_body)
        except BaseException:
            writer.close()
            raise
        if keep:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return answer

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str, json_body: Any
    ) -> tuple[Answer, bool]:
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        lines = [f"{method} {quote(path, safe='/?&=%:+,')} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if json_body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
            headers[name] = value
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                parts.append(await reader.readexactly(size + 2))
                if size == 0:
                    break
            content = b"".join(p[:-2] for p in parts)
        else:
            content = await reader.read()
            return Answer(status, headers, content), False
        return Answer(status, headers, content), headers.get("connection", "").lower() != "close"

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
