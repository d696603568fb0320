"""Try the OpenID Connect provider by hand: `oidc-provider` and the demo server together.

``python -m tests.oidc.demo [--port 8000] [--provider-port 9000]`` (or ``make oidc``) starts
``python -m server_stub`` on http://127.0.0.1:PORT and tests/oidc/provider.mjs on
http://127.0.0.1:PROVIDER_PORT for a page at the server's origin, prints both addresses and
the client the provider knows, and waits; Ctrl-C stops both. The provider's events (why a
refresh was refused, which grant was revoked) are in its log, one JSON line each.
"""

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.oidc.support import launch_provider
from tests.server.support import REPO_ROOT, launch_server, wait_for_interrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server and the provider, wait for Ctrl-C, stop both."""
    parser = argparse.ArgumentParser(prog="python -m tests.oidc.demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="the demo server's port")
    parser.add_argument("--provider-port", type=int, default=9000, help="the provider's port")
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="oidc-demo-"))
    db = REPO_ROOT / "var" / "auth.db"  # the database `make run` uses
    server = launch_server(db, logs / "server.log", port=args.port)
    try:
        provider = launch_provider(logs / "provider.log", server.url, port=args.provider_port)
    except BaseException:
        server.stop()
        raise
    try:
        print(f"Demo:      {server.url}/  (open this; the OIDC sign-in page comes with issue 22)")
        print(f"Provider:  {provider.issuer}  (any login name, any password)")
        print(f"Discovery: {provider.issuer}/.well-known/openid-configuration")
        print(f"Client:    {provider.client_id}, redirect URI {provider.redirect_uri}")
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
