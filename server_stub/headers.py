"""Security headers on every response: the page, its files, the API and its errors.

The Content-Security-Policy lets the page run only code from its own origin, and nothing is
allowed that Chromium did not prove the demo needs (tests/e2e/test_security_headers.py):

- ``default-src 'self'``: anything not named below (fonts, manifests) only from here.
- ``script-src 'self' 'wasm-unsafe-eval' 'sha256-…'``: PyScript's and Pyodide's modules from
  our origin, compiling Pyodide's WebAssembly, and one inline script, named by its hash: the
  refresh gate library's JavaScript half (refresh-gate/refresh_gate/browser_calls.js), which
  the library puts into the page itself. No other inline script and no ``eval``: PyScript
  would use ``Function()`` for its worker hooks, which static/no-eval.js removes (no
  workers here).
- ``style-src 'self'``: the stylesheets under /static; no inline ``<style>`` or attributes.
- ``img-src 'self'``: the favicon.
- ``connect-src 'self'``: fetch() to the API, and PyScript fetching Pyodide and app files;
  plus exactly the origin of a token endpoint elsewhere, when the page settings name one
  (server_stub/origins.py), and nothing wider.
- ``worker-src 'self'``: one worker, static/pyodide-snapshot.worker.mjs, which boots a second
  Pyodide after the page is up to store the start-up snapshot static/pyodide-boot.mjs uses.
  Below /examples/ only, ``blob:`` too: the MicroPython example takes the library's wheel,
  which PyScript unpacks with zip.js, and zip.js reads every entry in a Web Worker it makes
  from a ``blob:`` URL (stored or deflated alike). The app's own pages never need it.
- ``object-src 'none'``: no plugins.
- ``base-uri 'none'``: an injected ``<base>`` cannot point relative URLs elsewhere.
- ``form-action 'none'``: Python handles the login form; if it ever failed to, the browser's
  own submission would put the password in a URL, so it is refused.
- ``frame-ancestors 'none'``: no other page may frame this one (clickjacking).

``X-Content-Type-Options: nosniff`` holds browsers to the declared types (a JSON error is
never run as a script), and ``Referrer-Policy: no-referrer`` keeps paths out of other sites.
"""

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The library's JavaScript half, as its package (and so its wheel) ships it.
LIBRARY_SCRIPT = Path(__file__).parents[1] / "refresh-gate" / "refresh_gate" / "browser_calls.js"


def script_hash(source: str) -> str:
    """The CSP source that allows `source` as an inline script: 'sha256-<base64>'."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


LIBRARY_SCRIPT_HASH = script_hash(LIBRARY_SCRIPT.read_text(encoding="utf-8"))


# Pages whose PyScript unpacks a wheel (see worker-src above), by path prefix.
UNPACKING_PAGES = "/examples/"


def content_security_policy(token_origins: Iterable[str] = (), *, unpacks: bool = False) -> str:
    """The policy; `token_origins` (serialized origins, server_stub/origins.py) may be
    connected to besides this one; a page that `unpacks` a wheel may start blob: workers."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'wasm-unsafe-eval' {LIBRARY_SCRIPT_HASH}",
            "style-src 'self'",
            "img-src 'self'",
            " ".join(["connect-src 'self'", *token_origins]),
            "worker-src 'self' blob:" if unpacks else "worker-src 'self'",
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
    the policy letting the page connect to `token_origins` too (and, below
    `UNPACKING_PAGES`, start the workers that unpack a wheel)."""

    def __init__(self, app: ASGIApp, token_origins: Iterable[str] = ()) -> None:
        self.app = app
        policy = content_security_policy(token_origins)
        self.headers = {**SECURITY_HEADERS, "Content-Security-Policy": policy}
        unpacking = content_security_policy(token_origins, unpacks=True)
        self.unpacking_headers = {**self.headers, "Content-Security-Policy": unpacking}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, stamping the headers on its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        unpacks = scope["path"].startswith(UNPACKING_PAGES)
        stamped = self.unpacking_headers if unpacks else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in stamped.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
