"""Constants and helpers shared by the backend tests (fixtures live in conftest.py)."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_USER = "andreyka26_"
SEED_PASSWORD = "Mypass1*"
# Planted where no request may reach it; a response containing it is a leak.
FORBIDDEN_MARKER = "FORBIDDEN-FILE-CONTENT"
INDEX_HTML = "<!doctype html><title>stub page</title>"
VENDORED_JS = "export const version = '1.2.3';\n"


def build_web_root(base: Path) -> Path:
    """Lay out base/"web" like the repository's web root, plus files that must never be served."""
    root = base / "web"
    (root / "static").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "server_stub").mkdir()
    (root / "index.html").write_text(INDEX_HTML)
    (root / "pyscript.toml").write_text('name = "stub"\n')
    (root / "app" / "main.py").write_text("print('hello from app')\n")
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


@dataclass
class ServerProcess:
    """A real ``python -m server_stub`` process listening on a free local port."""

    db_path: Path
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
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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
    db_path: Path,
    log_path: Path,
    *extra_args: str,
    web_root: Path | None = None,
    port: int | None = None,
) -> ServerProcess:
    """Start ``python -m server_stub`` on a free port and return once it answers.

    ``port`` is one picked beforehand (`free_port`), for a server others must know of first.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "server_stub", "--port", str(port), "--db", str(db_path)]
    if web_root is not None:
        command += ["--web-root", str(web_root)]
    environment = {key: value for key, value in os.environ.items() if key != "AUTH_SECRET"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *extra_args],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(db_path, port, log_path, process)
    wait_until_serving(server)
    return server
