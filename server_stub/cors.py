"""CORS for one page on another origin: it may call the token endpoint, and nothing else may.

`--cors-origin ORIGIN` names that page's origin. For the paths given (the token endpoint),
a request whose `Origin` is exactly it gets `Access-Control-Allow-Origin: ORIGIN` on every
answer, errors included (a page that cannot read an `invalid_grant` would take it for a lost
connection and keep a dead session), and its preflight is answered. Credentials are never
allowed: the page sends none (refresh_gate/_fetch.py fetches with `credentials: "omit"`). A request
from any other origin gets no CORS header at all, so its browser keeps the answer from it.
Every answer of those paths says `Vary: Origin`, since what it carries depends on that.
"""

from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What the page's refresh sends (refresh_gate/_refresh.py). Accept and a form's Content-Type
# are safelisted; a DPoP proof (RFC 9449) is not, so a refresh with one is preflighted.
ALLOWED_METHODS = "POST"
ALLOWED_HEADERS = "Accept, Content-Type, DPoP"
# Headers of the answer the page may read besides the safelisted ones: the server's DPoP
# nonce (RFC 9449 §8) among them.
EXPOSED_HEADERS = "DPoP-Nonce, Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE = "600"


class CorsMiddleware:
    """Lets exactly `origin` call `paths` from a browser (rules in the module's doc).

    With `origin` None it does nothing.
    """

    def __init__(self, app: ASGIApp, *, origin: str | None, paths: Collection[str]) -> None:
        self.app = app
        self.origin = origin
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an allowed preflight; mark the answers of the paths for `origin`."""
        if self.origin is None or scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        allowed = headers.get("origin") == self.origin
        if allowed and scope["method"] == "OPTIONS" and _is_preflight(headers):
            await self._preflight()(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer.add_vary_header("Origin")
                if allowed:
                    answer["Access-Control-Allow-Origin"] = self.origin
                    answer["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_marked)

    def _preflight(self) -> Response:
        assert self.origin is not None
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": self.origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )


def _is_preflight(headers: Headers) -> bool:
    """A CORS preflight asks for a method this path takes (any other gets the app's 405)."""
    return headers.get("access-control-request-method") == ALLOWED_METHODS
