"""The gate's transport in a browser: the browser's own fetch, through the JavaScript half.

`pyscript.fetch` turns its options into JSON, which cannot carry an AbortSignal; the
transport needs one so that a cancelled caller (or a timeout) cancels the request on the
wire too, hence the browser's own fetch here.
"""

import asyncio

import js

from refresh_gate._errors import NetworkError, RequestTimeout
from refresh_gate._interpreter import JsException, js_error_name, js_error_text, to_js
from refresh_gate._javascript import browser_calls
from refresh_gate._wire import Request, Response


class FetchTransport:
    """Sends requests with the browser's fetch, to the page's own origin or a token URL.

    Each request is aborted after `timeout` seconds by the browser's own timer
    (`AbortSignal.timeout`), which leaves nothing behind in Python once the answer is in.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout_ms = int(timeout * 1000)
        self._fetch_answer = browser_calls().fetchAnswer

    async def __call__(self, request: Request) -> Response:
        """Send `request`; NetworkError if no answer, RequestTimeout if none in time;
        cancelling aborts the fetch."""
        withdraw = js.AbortController.new()
        init = {
            "method": request.method,
            "headers": request.headers,
            "cache": _cache_mode(request.method),
            # A token endpoint on another origin is asked with CORS and without cookies.
            "credentials": "omit" if _is_url(request.path) else "same-origin",
            "redirect": "error",
        }
        if request.body is not None:
            init["body"] = request.body
        try:
            # browser_calls.js
            answer = self._fetch_answer(
                request.path, to_js(init), self._timeout_ms, withdraw.signal
            )
            status, body, nonce, challenge = await answer
        except asyncio.CancelledError:
            withdraw.abort()
            raise
        except JsException as error:
            if js_error_name(error) == "TimeoutError":
                raise RequestTimeout(
                    f"{request.method} {request.path} got no answer within "
                    f"{self._timeout_ms / 1000:g} s"
                ) from None
            raise NetworkError(
                f"{request.method} {request.path} failed: {js_error_text(error)}"
            ) from None
        headers = {}
        if nonce:
            headers["dpop-nonce"] = str(nonce)
        if challenge:
            headers["www-authenticate"] = str(challenge)
        return Response(int(status), str(body), headers)


def _is_url(path: str) -> bool:
    """Whether `path` is a whole URL (another origin's), not a path on this one: a path on
    this origin starts with one "/", never two."""
    return not path.startswith("/") or path.startswith("//")


def _cache_mode(method: str) -> str:
    """How a request treats the HTTP cache. A GET bypasses it: the cache's per-URL lock
    would send parallel GETs one by one, and answers to authorized calls must not be cached
    anyway. Other methods are never answered from the cache, and must not bypass it:
    Chromium then skips its CORS preflight cache too, and a token request with a DPoP header
    to another origin would wait for a preflight every time (bench/README.md, part dpop)."""
    return "no-store" if method in ("GET", "HEAD") else "default"
