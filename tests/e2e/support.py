"""What the end-to-end tests share: a real server process, the network log, page helpers."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, Response

ROOT = Path(__file__).resolve().parents[2]
READY = "body[data-ready]"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The origins of the servers the tests started: the only ones a page may talk to.
OWN_ORIGINS: set[str] = set()


class ServerProcess:
    """`python -m server_stub` on a free loopback port with its own SQLite file."""

    def __init__(self, db: Path, *extra: str) -> None:
        self.db = db
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        OWN_ORIGINS.add(self.url)
        command = [sys.executable, "-m", "server_stub", "--port", str(self.port), "--db", str(db)]
        self._process = subprocess.Popen([*command, *extra], cwd=ROOT)
        self._wait_until_serving()

    def _wait_until_serving(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server_stub exited with {self._process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/pyscript.toml", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise RuntimeError("server_stub did not start")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


@dataclass
class NetworkLog:
    """What the browser put on the wire, in the order answers came back."""

    answers: list[tuple[str, str, int]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme not in ("data", "blob") and origin not in OWN_ORIGINS:
            self.foreign.append(request.url)

    def on_response(self, response: Response) -> None:
        request = response.request
        self.answers.append((request.method, urlsplit(request.url).path, response.status))

    def on_failed(self, request: Request) -> None:
        self.failures.append((request.method, urlsplit(request.url).path))

    def api(self, mark: int = 0) -> list[tuple[str, str, int]]:
        """Answers to API and auth calls since `mark` (an index into `answers`)."""
        return [
            answer
            for answer in self.answers[mark:]
            if answer[1].startswith(("/api/", "/authorization/"))
        ]

    def count(self, method: str, path: str, status: int | None = None, mark: int = 0) -> int:
        """How many answers matched."""
        return sum(
            1
            for m, p, s in self.answers[mark:]
            if m == method and p == path and (status is None or s == status)
        )


def wait_ready(page: Page) -> None:
    """Wait until Python runs and the buttons act."""
    page.wait_for_selector(READY, timeout=30_000)


def log_in(page: Page, origin: str = "") -> None:
    """Log in through the form with the seeded user (prefilled) and land on the home page."""
    page.goto(f"{origin}/login")
    wait_ready(page)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/")
    page.get_by_text("Home Page protected resources, username: andreyka26_").wait_for()
