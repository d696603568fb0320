"""Command line: ``python -m server_stub [--host H] [--port P] [--db PATH] ...``.

``python -m server_stub keys ...`` changes the signing keys instead (server_stub/keys_command.py).
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from server_stub.app import create_app
from server_stub.config import Config
from server_stub.keys_command import main as keys_main
from server_stub.origins import parse_origin


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _origin(text: str) -> str:
    try:
        return parse_origin(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be zero or more seconds")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line; every option has a default that runs the dev setup."""
    defaults = Config()
    parser = argparse.ArgumentParser(
        prog="python -m server_stub",
        description="Serve the page and the token API (login, refresh, logout, resources).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="TCP port to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        default=defaults.db_path,
        help="SQLite file for users and sessions, created with its folders if missing; "
        "without --keys or AUTH_SECRET the signing keys are kept next to it, as <db>.keys "
        "or <db>.secret (default: %(default)s)",
    )
    parser.add_argument(
        "--keys",
        type=Path,
        metavar="PATH",
        help="signing keys file, the same on every node; make it and change it with "
        "`python -m server_stub keys add|retire` (default: beside the SQLite file)",
    )
    parser.add_argument(
        "--access-ttl",
        type=_positive_int,
        default=defaults.access_ttl,
        metavar="S",
        help="access token lifetime in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--refresh-ttl",
        type=_positive_int,
        default=defaults.refresh_ttl,
        metavar="S",
        help="refresh token lifetime in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--reuse-grace",
        type=_non_negative_float,
        default=defaults.reuse_grace,
        metavar="S",
        help="seconds during which a just-spent refresh token is refused without revoking "
        "its session; later reuse revokes it (default: %(default)s)",
    )
    parser.add_argument(
        "--api-delay",
        type=_non_negative_float,
        default=defaults.api_delay,
        metavar="S",
        help="seconds GET /api/resources waits before answering, to see parallel requests "
        "overlap (default: %(default)s)",
    )
    parser.add_argument(
        "--web-root",
        type=Path,
        metavar="DIR",
        default=defaults.web_root,
        help="folder holding index.html, pyscript.toml, app/ and static/ (default: the repository)",
    )
    parser.add_argument(
        "--cors-origin",
        type=_origin,
        metavar="ORIGIN",
        help="let a page on ORIGIN (scheme://host[:port]) call /oauth/token from the "
        "browser, with CORS; without it, only pages of this server's own origin can",
    )
    parser.add_argument(
        "--bench",
        action="store_true",
        help="also serve the benchmark's pages under /bench/ (see `make bench`; off by default)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the app from the command line and serve it until interrupted."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["keys"]:
        raise SystemExit(keys_main(arguments[1:]))
    args = parse_args(arguments)
    config = Config(
        db_path=args.db,
        keys_path=args.keys,
        web_root=args.web_root,
        access_ttl=args.access_ttl,
        refresh_ttl=args.refresh_ttl,
        reuse_grace=args.reuse_grace,
        api_delay=args.api_delay,
        bench_root=args.web_root / "bench" if args.bench else None,
        cors_origin=args.cors_origin,
    )
    app = create_app(config)
    print(f"serving on http://{args.host}:{args.port}", flush=True)
    # The access log shows method and path only; tokens travel in headers and bodies.
    uvicorn.run(app, host=args.host, port=args.port, server_header=False)


if __name__ == "__main__":
    main()
