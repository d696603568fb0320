"""Try the OpenID Connect provider by hand: `oidc-provider` and the demo server together.

``python -m tests.oidc.demo [--port 8000] [--provider-port 9000]`` (or ``make oidc``) starts
tests/oidc/provider.mjs on http://127.0.0.1:PROVIDER_PORT for pages at
http://127.0.0.1:PORT, and ``python -m server_stub`` there serving the demo's pages set to
sign in with that provider (`refresh = "oidc"`) and trusting its access tokens; prints the
addresses and waits; Ctrl-C stops both. The provider's events (why a
refresh was refused, which grant was revoked) are in its log, one JSON line each.
"""

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.oidc.support import launch_provider, oidc_web_root, page_redirects
from tests.server.support import REPO_ROOT, launch_server, wait_for_interrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server and the provider, wait for Ctrl-C, stop both."""
    parser = argparse.ArgumentParser(prog="python -m tests.oidc.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="the demo server's port")
    parser.add_argument("--provider-port", type=int, default=9000, help="the provider's port")
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="oidc-demo-"))
    db = REPO_ROOT / "var" / "auth.db"  # the database `make run` uses
    origin = f"http://127.0.0.1:{args.port}"
    provider = launch_provider(
        logs / "provider.log", origin, *page_redirects(origin), port=args.provider_port
    )
    try:
        trust = ("--trust-issuer", provider.issuer, "--audience", provider.api_audience)
        web_root = oidc_web_root(logs, provider)
        server = launch_server(db, logs / "server.log", *trust, web_root=web_root, port=args.port)
    except BaseException:
        provider.stop()
        raise
    try:
        print(f"Demo:      {server.url}/login and {server.url}/pyodide/login (open one)")
        print(f"Provider:  {provider.issuer}  (any login name, any password)")
        print(f"Discovery: {provider.issuer}/.well-known/openid-configuration")
        print(f"Client:    {provider.client_id}, back at {origin}/callback, /pyodide/callback")
        print(f"API audience of its access tokens: {provider.api_audience}")
        print(f"Logs:      {logs}/server.log, {logs}/provider.log")
        print("Ctrl-C stops both.", flush=True)
        wait_for_interrupt()
    except KeyboardInterrupt:
        pass
    finally:
        provider.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
