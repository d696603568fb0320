"""The browser edge: fetch and localStorage. Only this module and the page modules import `js`.

`pyscript.fetch` turns its options into JSON, which cannot carry an AbortSignal; the
transport needs one so that a cancelled caller (or a timeout) cancels the request on the
wire too, hence the browser's own fetch here.
"""

import asyncio

import js
from pyodide.ffi import JsException
from pyscript import window
from pyscript.ffi import to_js

from app.errors import NetworkError
from app.gate import Request, Response
from app.tokens import Tokens

ACCESS_KEY = "token"
REFRESH_KEY = "refreshToken"


class FetchTransport:
    """Sends requests to the page's own origin with the browser's fetch."""

    async def __call__(self, request: Request) -> Response:
        """Send `request`; NetworkError if no answer; cancelling aborts the fetch."""
        controller = js.AbortController.new()
        init = {
            "method": request.method,
            "headers": request.headers,
            # Bypass the HTTP cache: its per-URL lock would send parallel GETs one by one,
            # and answers to authorized calls must not be cached anyway.
            "cache": "no-store",
            "credentials": "same-origin",
            "redirect": "error",
            "signal": controller.signal,
        }
        if request.body is not None:
            init["body"] = request.body
        try:
            response = await js.fetch(request.path, to_js(init))
            body = await response.text()
        except asyncio.CancelledError:
            controller.abort()
            raise
        except JsException as error:
            raise NetworkError(f"{request.method} {request.path} failed: {error}") from None
        return Response(int(response.status), str(body))


class LocalStorageTokenStore:
    """The token pair in `window.localStorage`, under the seed's keys."""

    def load(self) -> Tokens | None:
        """The stored pair, or None if either half is missing or storage is unusable."""
        try:
            access = window.localStorage.getItem(ACCESS_KEY)
            refresh = window.localStorage.getItem(REFRESH_KEY)
        except JsException:
            return None
        if not access or not refresh:
            return None
        return Tokens(str(access), str(refresh))

    def save(self, tokens: Tokens) -> None:
        """Store the pair."""
        window.localStorage.setItem(ACCESS_KEY, tokens.access)
        window.localStorage.setItem(REFRESH_KEY, tokens.refresh)

    def clear(self) -> None:
        """Remove both tokens."""
        try:
            window.localStorage.removeItem(ACCESS_KEY)
            window.localStorage.removeItem(REFRESH_KEY)
        except JsException:
            pass
