"""Security headers on every response: the page, its files, the API and its errors.

The Content-Security-Policy lets the page run only code from its own origin, and nothing is
allowed that Chromium did not prove the demo needs (tests/e2e/test_security_headers.py):

- ``default-src 'self'``: anything not named below (fonts, manifests) only from here.
- ``script-src 'self' 'wasm-unsafe-eval'``: PyScript's and Pyodide's modules from our origin,
  and compiling Pyodide's WebAssembly. No inline scripts and no ``eval``: PyScript would
  use ``Function()`` for its worker hooks, which static/no-eval.js removes (no workers here).
- ``style-src 'self'``: the stylesheets under /static; no inline ``<style>`` or attributes.
- ``img-src 'self'``: the favicon.
- ``connect-src 'self'``: fetch() to the API, and PyScript fetching Pyodide and app files;
  plus exactly the origin of a token endpoint elsewhere, when the page settings name one
  (server_stub/origins.py), and nothing wider.
- ``worker-src 'self'``: one worker, static/pyodide-snapshot.worker.mjs, which boots a second
  Pyodide after the page is up to store the start-up snapshot static/pyodide-boot.mjs uses.
- ``object-src 'none'``: no plugins.
- ``base-uri 'none'``: an injected ``<base>`` cannot point relative URLs elsewhere.
- ``form-action 'none'``: Python handles the login form; if it ever failed to, the browser's
  own submission would put the password in a URL, so it is refused.
- ``frame-ancestors 'none'``: no other page may frame this one (clickjacking).

``X-Content-Type-Options: nosniff`` holds browsers to the declared types (a JSON error is
never run as a script), and ``Referrer-Policy: no-referrer`` keeps paths out of other sites.
"""

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(token_origins: Iterable[str] = ()) -> str:
    """The policy; `token_origins` (serialized origins, server_stub/origins.py) may be
    connected to besides this one."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "img-src 'self'",
            " ".join(["connect-src 'self'", *token_origins]),
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS` to the start of every HTTP response that passes through it,
    the policy letting the page connect to `token_origins` too."""

    def __init__(self, app: ASGIApp, token_origins: Iterable[str] = ()) -> None:
        self.app = app
        policy = content_security_policy(token_origins)
        self.headers = {**SECURITY_HEADERS, "Content-Security-Policy": policy}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, stamping the headers on its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
