"""Web origins (RFC 6454) as browsers write them, and the one the page settings name.

A page may refresh at a token endpoint on another origin: the `token-url` of its settings,
the `[refresh-gate]` table of its .toml config (refresh_gate._refresh). The server that serves the
page must then let it connect there (its CSP, server_stub/headers.py), and the server of the
token endpoint must let that page read its answers (CORS, server_stub/cors.py). Both compare
origins as browsers serialize them: lower-case scheme and host, no default port.
"""

import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

# The page configs the server serves (server_stub/web.py), relative to the web root.
PAGE_SETTINGS = (
    "pyscript.toml",
    "pyodide.toml",
    "examples/oauth/pyscript.toml",
    "examples/oauth-pyodide/pyscript.toml",
    "examples/requests-pyodide/pyscript.toml",
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name or an IPv6 literal; nothing that could end a CSP source or a header.
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]")


def origin_of(url: str) -> str:
    """The origin of an http(s) URL, serialized as a browser sends it in `Origin`.

    Raises ValueError for anything else: another scheme, no host, user info, a bad port.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.netloc:
        raise ValueError(f"not an http:// or https:// URL: {url!r}")
    if "@" in parts.netloc:
        raise ValueError(f"an origin has no user name or password: {url!r}")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # urlsplit drops an IPv6 literal's brackets
    if not _HOST.fullmatch(host):
        raise ValueError(f"not a host name: {url!r}")
    port = parts.port  # a port that is not a number in range raises ValueError here
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origin(text: str) -> str:
    """An origin given on its own (`--cors-origin`): scheme, host and port, no path."""
    parts = urlsplit(text.strip())
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"an origin is scheme://host[:port], without a path: {text!r}")
    return origin_of(text)


def token_origins(web_root: Path) -> tuple[str, ...]:
    """The other origins the web root's page settings refresh or sign in at, each once,
    sorted.

    A `token-url` that is a path is this origin's: nothing to add. A config that is
    missing or has no `[refresh-gate]` table adds nothing either; one that cannot be read,
    or names a token URL that is neither a path nor an http(s) URL, stops the server at
    start, rather than serve a page whose every refresh the browser would block.
    """
    origins = set()
    for name in PAGE_SETTINGS:
        path = web_root / name
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        try:
            settings = tomllib.loads(text).get("refresh-gate", {})
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: {error}") from None
        if not isinstance(settings, dict):
            continue
        # The token endpoint, or the OpenID Connect provider whose discovery, keys, token
        # and revocation endpoints the page fetches (`issuer`, with `refresh = "oidc"`).
        for name in ("token-url", "issuer"):
            url = settings.get(name)
            if not isinstance(url, str) or not url:
                continue
            if urlsplit(url).netloc or urlsplit(url).scheme:
                try:
                    origins.add(origin_of(url))
                except ValueError as error:
                    raise ValueError(f"{path}: {name}: {error}") from None
    return tuple(sorted(origins))
