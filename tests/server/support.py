"""Constants and helpers shared by the backend tests (fixtures live in conftest.py)."""

import hashlib
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_USER = "andreyka26_"
SEED_PASSWORD = "Mypass1*"
# Planted where no request may reach it; a response containing it is a leak.
FORBIDDEN_MARKER = "FORBIDDEN-FILE-CONTENT"
INDEX_HTML = "<!doctype html><title>stub page</title>"
VENDORED_JS = "export const version = '1.2.3';\n"
# The signing key every server process on PostgreSQL gets, so that nodes sharing a database
# verify each other's access tokens (and none writes a key file into the repository).
SHARED_SECRET = secrets.token_hex(32)
PARALLEL_REFRESHES = 50


# A module of the app/ folder above, with a letter beyond ASCII in it.
APP_MODULE = '"""The gate, r\u00e9sum\u00e9."""\nGATE = 1\n'


def build_web_root(base: Path) -> Path:
    """Lay out base/"web" like the repository's web root, plus files that must never be served."""
    root = base / "web"
    (root / "static").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "server_stub").mkdir()
    (root / "index.html").write_text(INDEX_HTML)
    (root / "pyscript.toml").write_text('name = "stub"\n')
    (root / "app" / "main.py").write_text("print('hello from app')\n")
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "gate.py").write_text(APP_MODULE)
    (root / "static" / "runtime.mjs").write_text("export const x = 1;\n")
    (root / "static" / "legacy.js").write_text("var x = 1;\n")
    (root / "static" / "runtime.wasm").write_bytes(b"\x00asm\x01\x00\x00\x00")
    (root / "static" / "vendor" / "runtime" / "1.2.3").mkdir(parents=True)
    (root / "static" / "vendor" / "runtime" / "1.2.3" / "runtime.mjs").write_text(VENDORED_JS)
    (root / "pyproject.toml").write_text(FORBIDDEN_MARKER)
    (root / "server_stub" / "app.py").write_text(FORBIDDEN_MARKER)
    (base / "outside.txt").write_text(FORBIDDEN_MARKER)
    (root / "static" / "escape.txt").symlink_to(base / "outside.txt")
    return root


class FakeClock:
    """A clock the test moves by hand; the app reads it for issue and expiry times."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, with a negative number)."""
        self.now += seconds


def secret_of(db_path: Path) -> bytes:
    """The signing secret the server generated next to its database."""
    return bytes.fromhex((db_path.parent / (db_path.name + ".secret")).read_text())


def query(db: Path | str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """The rows of one statement on the store at ``db``, a SQLite file or a PostgreSQL URL.

    Placeholders are written ``?`` for both.
    """
    if isinstance(db, str):
        with psycopg.connect(db, autocommit=True) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []
    with closing(sqlite3.connect(db)) as conn, conn:
        return conn.execute(sql, params).fetchall()


def count_rows(db: Path | str, table: str) -> int:
    """How many rows ``table`` of the store at ``db`` holds."""
    return query(db, f"SELECT COUNT(*) FROM {table}")[0][0]


def sha256(token: str) -> str:
    """The hash a refresh token is stored under."""
    return hashlib.sha256(token.encode()).hexdigest()


def live_tokens_of_family_of(db: Path | str, token: str) -> list[str]:
    """Hashes of unspent tokens in unrevoked families, in the family ``token`` belongs to."""
    ((family_id,),) = query(
        db, "SELECT family_id FROM refresh_tokens WHERE hash = ?", sha256(token)
    )
    rows = query(
        db,
        "SELECT t.hash FROM refresh_tokens t JOIN families f ON f.id = t.family_id"
        " WHERE t.family_id = ? AND t.spent_at IS NULL AND f.revoked_at IS NULL",
        family_id,
    )
    return [row[0] for row in rows]


def race_one_token(urls: list[str], token: str) -> list[httpx.Response]:
    """Send 50 refreshes of one refresh token at once, spread round-robin over ``urls``."""
    limits = httpx.Limits(max_connections=PARALLEL_REFRESHES + 10)
    clients = [httpx.Client(base_url=url, limits=limits, timeout=30) for url in urls]
    try:
        start_together = threading.Barrier(PARALLEL_REFRESHES)

        def refresh(n: int) -> httpx.Response:
            http = clients[n % len(clients)]
            start_together.wait()
            return http.post("/authorization/refresh", json={"refreshToken": token})

        with ThreadPoolExecutor(PARALLEL_REFRESHES) as pool:
            return list(pool.map(refresh, range(PARALLEL_REFRESHES)))
    finally:
        for http in clients:
            http.close()


def assert_exactly_one_successor(
    db: Path | str, token: str, responses: list[httpx.Response]
) -> str:
    """Every 200 carries the same refresh token, every other answer is a 401 invalid_grant,
    and the family has that one live token; returns it."""
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {200, 401}, statuses
    assert statuses[200] >= 1, statuses
    refused = [r.json() for r in responses if r.status_code == 401]
    assert {body["error"] for body in refused} <= {"invalid_grant"}
    winners = {r.json()["refreshToken"] for r in responses if r.status_code == 200}
    assert len(winners) == 1, f"{len(winners)} successors issued"
    (winner,) = winners
    assert live_tokens_of_family_of(db, token) == [sha256(winner)]
    return winner


@dataclass
class ServerProcess:
    """A real ``python -m server_stub`` process listening on a free local port."""

    db: Path | str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the process the way Ctrl-C or a supervisor would, killing it if it hangs."""
        stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a crash or a lost machine would end it."""
        self.process.kill()
        self.process.wait()


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, as Ctrl-C or a supervisor would stop `process`; SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_interrupt() -> None:
    """Wait until Ctrl-C or SIGTERM, either raising KeyboardInterrupt, for a command that
    runs servers until it is stopped."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    while True:
        time.sleep(3600)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(server: ServerProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(server.url + "/api/resources", timeout=1).status_code == 401:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server did not answer within {timeout} s:\n{server.log()}")


def launch_server(
    db: Path | str,
    log_path: Path,
    *extra_args: str,
    web_root: Path | None = None,
    environment: Mapping[str, str] | None = None,
    port: int | None = None,
) -> ServerProcess:
    """Start ``python -m server_stub`` on a free port and return once it answers.

    ``db`` is a SQLite file or a PostgreSQL URL; on PostgreSQL the process signs with
    `SHARED_SECRET`. ``environment`` adds to (or overrides) the variables it gets.
    ``port`` is one picked beforehand (`free_port`), for a server others must know of first.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "server_stub", "--port", str(port), "--db", str(db)]
    if web_root is not None:
        command += ["--web-root", str(web_root)]
    environment = {
        **{key: value for key, value in os.environ.items() if key != "AUTH_SECRET"},
        **({"AUTH_SECRET": SHARED_SECRET} if isinstance(db, str) else {}),
        **(environment or {}),
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *extra_args],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(db, port, log_path, process)
    wait_until_serving(server)
    return server
