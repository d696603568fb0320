"""Command line: ``python -m server_stub [--host H] [--port P] [--db PATH] ...``.

``python -m server_stub keys ...`` changes the signing keys instead (server_stub/keys_command.py).
"""

import argparse
import copy
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from server_stub.app import create_app
from server_stub.config import Config
from server_stub.keys_command import main as keys_main
from server_stub.origins import parse_origin
from server_stub.store import is_postgres_url, open_store

# How a worker process (--workers N) learns the command line its server was started with.
_WORKER_ARGUMENTS = "SERVER_STUB_WORKER_ARGUMENTS"


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _origin(text: str) -> str:
    try:
        return parse_origin(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _database(text: str) -> Path | str:
    """A postgresql:// URL as it is; anything else is the path of a SQLite file."""
    return text if is_postgres_url(text) else Path(text)


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
        type=_database,
        metavar="PATH|URL",
        default=defaults.db_path,
        help="where users, sessions and login limits live: a postgresql:// URL that every "
        "node shares, or a SQLite file, created with its folders if missing; "
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
        help="seconds during which a just-spent refresh token presented again gets the same "
        "successor, while that is unused, instead of revoking its session; later reuse "
        "revokes it (default: %(default)s)",
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
        "--login-limit",
        type=_positive_int,
        default=defaults.login_attempts,
        metavar="N",
        help="failed logins a minute per user name and per client address before 429 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        metavar="N",
        help="server processes on the one port, sharing the store (default: %(default)s)",
    )
    parser.add_argument(
        "--prune-every",
        type=_non_negative_float,
        default=defaults.prune_every,
        metavar="S",
        help="seconds between passes that delete expired refresh tokens, empty sessions and "
        "old login charges, in each process; 0 never prunes (default: %(default)s)",
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
        "--trust-issuer",
        metavar="URL",
        help="also accept the JWT access tokens (RFC 9068) of this OpenID Connect provider, "
        "checked against its published keys; needs --audience",
    )
    parser.add_argument(
        "--audience",
        metavar="AUD",
        help="the audience the trusted provider's access tokens must name for this API",
    )
    parser.add_argument(
        "--require-dpop",
        action="store_true",
        help="refuse requests without a DPoP proof (RFC 9449): Bearer tokens stop working; "
        "without it, a client that sends proofs gets DPoP-bound tokens and others Bearer ones",
    )
    parser.add_argument(
        "--dpop-nonce",
        action="store_true",
        help="every DPoP proof must carry the server's nonce (RFC 9449 §8, §9), sent in "
        "DPoP-Nonce with a use_dpop_nonce error and whenever it changes",
    )
    parser.add_argument(
        "--dpop-nonce-every",
        type=_non_negative_float,
        default=defaults.dpop_nonce_every,
        metavar="S",
        help="seconds between new nonces; a nonce is accepted for one to two of these "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--bench",
        action="store_true",
        help="also serve the benchmark's pages under /bench/ (see `make bench`; off by default)",
    )
    args = parser.parse_args(argv)
    if bool(args.trust_issuer) != bool(args.audience):
        parser.error("--trust-issuer and --audience go together")
    if args.dpop_nonce_every <= 0:
        parser.error("--dpop-nonce-every must be more than 0 seconds")
    return args


def config_from(args: argparse.Namespace) -> Config:
    """The settings the parsed command line asks for."""
    url = args.db if isinstance(args.db, str) else None
    return Config(
        db_path=Config().db_path if url else args.db,
        db_url=url,
        keys_path=args.keys,
        web_root=args.web_root,
        access_ttl=args.access_ttl,
        refresh_ttl=args.refresh_ttl,
        reuse_grace=args.reuse_grace,
        api_delay=args.api_delay,
        login_attempts=args.login_limit,
        prune_every=args.prune_every,
        bench_root=args.web_root / "bench" if args.bench else None,
        cors_origin=args.cors_origin,
        trusted_issuer=args.trust_issuer,
        trusted_audience=args.audience,
        require_dpop=args.require_dpop,
        dpop_nonce=args.dpop_nonce,
        dpop_nonce_every=args.dpop_nonce_every,
    )


def log_config(workers: int) -> dict:
    """uvicorn's logging; with several workers, each line starts with its process id, so that
    the log says which worker answered each request."""
    config = copy.deepcopy(LOGGING_CONFIG)
    if workers > 1:
        for formatter in config["formatters"].values():
            formatter["fmt"] = formatter["fmt"].replace(
                "%(levelprefix)s", "%(levelprefix)s [%(process)d]", 1
            )
    return config


def app_for_worker() -> FastAPI:
    """Build one worker's app from the command line the server was started with."""
    return create_app(config_from(parse_args(json.loads(os.environ[_WORKER_ARGUMENTS]))))


def main(argv: Sequence[str] | None = None) -> None:
    """Build the app from the command line and serve it until interrupted."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["keys"]:
        raise SystemExit(keys_main(arguments[1:]))
    args = parse_args(arguments)
    config = config_from(args)
    if args.workers == 1:
        target: FastAPI | str = create_app(config)
    else:
        # Each worker is a fresh process (spawned) that builds its own app from the same
        # command line. Opening the store here first creates its schema once, and a wrong
        # --db fails now rather than in workers that uvicorn would keep restarting.
        open_store(config.db_url or config.db_path).close()
        os.environ[_WORKER_ARGUMENTS] = json.dumps(arguments)
        target = "server_stub.__main__:app_for_worker"
    print(f"serving on http://{args.host}:{args.port}", flush=True)
    # The access log shows method and path only; tokens travel in headers and bodies.
    uvicorn.run(
        target,
        host=args.host,
        port=args.port,
        server_header=False,
        workers=args.workers,
        factory=args.workers > 1,
        log_config=log_config(args.workers),
    )


if __name__ == "__main__":
    main()
