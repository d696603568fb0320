"""The soak's HTTP/1.1 client: one keep-alive connection, a request at a time, nothing more.

The soak's load and the servers it measures share one machine's two cores, so every bit of
CPU the load generator spends is taken from the server. httpx spent more per request than
the server did (its pool, its models, h11 in Python); this speaks just the HTTP the
server answers: a request, then a response with a Content-Length.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any


class ConnectionLost(Exception):
    """The server closed the connection or sent something this client does not read."""


@dataclass(frozen=True)
class Answer:
    """A response: its status and body."""

    status: int
    body: bytes

    def json(self) -> Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)


class KeepAliveClient:
    """One connection to ``host:port``, opened on first use and again after it is lost."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: object | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request and read its whole answer."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        body = b"" if json_body is None else json.dumps(json_body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if json_body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, closing = _parse_head(head)
            content = await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            await self.close()
            raise ConnectionLost(str(error)) from error
        if closing:
            await self.close()
        return Answer(status, content)

    async def close(self) -> None:
        """Close the connection, if one is open."""
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, Content-Length and whether the server closes the connection after this."""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if "transfer-encoding" in fields:
        raise ConnectionLost("a chunked answer: not something the soak expects")
    length = int(fields.get("content-length", "0"))
    return status, length, fields.get("connection", "").lower() == "close"
