"""The provider and the server, each behind a delay line of its own, for one OIDC run.

Chromium reaches both through bench/proxy.py only: the API, the pages and the provider's
login and token endpoints all cost the same round trip. The provider names itself by its
delay line's address, ending in "/" and with its endpoints at `/authorize` and
`/oauth/token`, as auth0-spa-js needs (the gate and oidc-client-ts find them by discovery).
"""

import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench import proxy
from tests.oidc.support import ProviderProcess, launch_provider, oidc_web_root, page_redirects
from tests.server.support import REPO_ROOT, ServerProcess, free_port, launch_server

# Access tokens live this long at the provider. Over a minute: auth0-spa-js refreshes any
# token with less than 60 s left before sending it, so a shorter life would make its every
# click a refresh.
ACCESS_TTL = 75
# The JavaScript contestants come back to their own page after signing in (part dpop's
# with `?dpop=on`).
JS_PAGES = (
    "/bench/oidc-client-ts/",
    "/bench/oidc-client-ts/?lock=web",
    "/bench/auth0-spa-js/",
    "/bench/oidc-client-ts/?dpop=on",
    "/bench/auth0-spa-js/?dpop=on",
)


class OidcStack:
    """The provider, the server trusting its tokens, and their delay lines, for a `with`."""

    def __init__(
        self,
        base: Path,
        delay_ms: float,
        access_ttl: int = ACCESS_TTL,
        *,
        provider_args: Sequence[str] = (),
        page_settings: Sequence[str] = (),
    ) -> None:
        """`provider_args` go to tests/oidc/provider.mjs (part dpop: `--dpop`),
        `page_settings` into the gate's `[refresh-gate]` table (`dpop = true`)."""
        self.base = base
        self.delay_ms = delay_ms
        self.access_ttl = access_ttl
        self.provider_args = tuple(provider_args)
        self.page_settings = tuple(page_settings)
        self.lines: list[subprocess.Popen[bytes]] = []
        self.provider: ProviderProcess | None = None
        self.server: ServerProcess | None = None
        self.origin = ""  # the pages and the API, through their delay line

    @property
    def issuer(self) -> str:
        """The provider, as pages reach it."""
        assert self.provider is not None
        return self.provider.issuer

    def __enter__(self) -> "OidcStack":
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        page_line, provider_line = free_port(), free_port()
        server_port, provider_port = free_port(), free_port()
        self.origin = f"http://127.0.0.1:{page_line}"
        issuer = f"http://127.0.0.1:{provider_line}/"
        redirects = [f"{self.origin}{path}" for path in JS_PAGES]
        self.provider = launch_provider(
            self.base / "provider.log",
            self.origin,
            *page_redirects(self.origin),
            *(argument for uri in redirects for argument in ("--redirect-uri", uri)),
            *("--issuer", issuer, "--auth0-routes"),
            *("--access-token-ttl", str(self.access_ttl)),
            *self.provider_args,
            port=provider_port,
        )
        self.lines.append(self._line(provider_line, provider_port, "provider-line.log"))
        web_root = oidc_web_root(self.base, self.provider, *self.page_settings)
        (web_root / "bench").symlink_to(REPO_ROOT / "bench")
        trust = ("--trust-issuer", issuer, "--audience", self.provider.api_audience)
        self.server = launch_server(
            self.base / "auth.db",
            self.base / "server.log",
            "--bench",
            *trust,
            web_root=web_root,
            port=server_port,
        )
        self.lines.append(self._line(page_line, server_port, "page-line.log"))

    def _line(self, port: int, upstream: int, log: str) -> subprocess.Popen[bytes]:
        return proxy.launch(port, upstream, self.delay_ms, self.base / log)

    def __exit__(self, *_: object) -> None:
        for line in self.lines:
            line.terminate()
            line.wait(timeout=10)
        if self.server is not None:
            self.server.stop()
        if self.provider is not None:
            self.provider.stop()
