"""Two ASGI wrappers for the API: never cache its answers, and refuse oversized bodies."""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server_stub.errors import error_response

API_PREFIXES = ("/api", "/authorization", "/oauth")
MAX_BODY_BYTES = 16 * 1024  # every legitimate body is well under 1 KiB


def is_api_path(path: str) -> bool:
    """Tell whether a request path belongs to the JSON API rather than the page."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


class NoStoreMiddleware:
    """Adds ``Cache-Control: no-store`` to every API response: tokens must not be cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, marking the response start of API paths."""
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store)


class BodyLimitMiddleware:
    """Answers 413 in the shared error shape when a request body exceeds ``max_bytes``.

    The body is read up front (it is small for every legitimate request) and replayed to
    the app, so an oversized one is refused before any handler sees a byte.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read and bound the body, then hand the request on or refuse it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody is left to answer
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = f"request body is larger than {self.max_bytes} bytes"
        await error_response(413, "request_too_large", limit)(scope, receive, send)
