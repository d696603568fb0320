"""End-to-end fixtures: a real `server_stub` process and real Chromium.

As in PyScript's own harness, a test fails on any console error, page error or Python
traceback on the page, even when its assertions passed; and on any request that leaves
the page's origin.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Chromium reports every 4xx/5xx answer and aborted request as a console error. Those are
# the very thing the demo shows; the network log, not the console, is asserted for them.
_NETWORK_NOISE = "Failed to load resource"
READY = "body[data-ready]"


def _system_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (path := shutil.which(candidate)):
            return path
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium where there is one (Playwright cannot download its own here)."""
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if path := _system_chromium():
        args["executable_path"] = path
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python -m server_stub` on a free loopback port with its own SQLite file."""

    def __init__(self, db: Path, *extra: str) -> None:
        self.db = db
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
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


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server for the session (every login starts its own token family)."""
    process = ServerProcess(tmp_path_factory.mktemp("server") / "auth.db")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def base_url(server: ServerProcess) -> str:
    """Let `page.goto("/login")` address the real server."""
    return server.url


@dataclass
class NetworkLog:
    """What the browser put on the wire, in the order answers came back."""

    origin: str
    answers: list[tuple[str, str, int]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if (
            parts.scheme not in ("data", "blob")
            and f"{parts.scheme}://{parts.netloc}" != self.origin
        ):
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


@pytest.fixture
def network(context: BrowserContext, server: ServerProcess) -> NetworkLog:
    """The network log of every tab in the test's browser context."""
    log = NetworkLog(server.url)
    context.on("request", log.on_request)
    context.on("response", log.on_response)
    context.on("requestfailed", log.on_failed)
    return log


@pytest.fixture(autouse=True)
def _pages_must_stay_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail on console errors, page errors, Python tracebacks and foreign requests."""
    if "context" not in request.fixturenames:
        yield
        return
    context: BrowserContext = request.getfixturevalue("context")
    log: NetworkLog = request.getfixturevalue("network")
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(_NETWORK_NOISE):
            errors.append(f"console: {message.text}")

    context.on("console", on_console)
    context.on("weberror", lambda error: errors.append(f"page error: {error.error}"))
    yield
    for page in context.pages:
        if not page.is_closed():
            tracebacks = page.locator(".py-error").all_inner_texts()
            errors.extend(f"python: {text}" for text in tracebacks)
    assert not log.foreign, f"requests left the page's origin: {log.foreign}"
    assert not errors, "\n".join(errors)


def wait_ready(page: Page) -> None:
    """Wait until Python runs and the buttons act."""
    page.wait_for_selector(READY, timeout=30_000)


def log_in(page: Page) -> None:
    """Log in through the form with the seeded user (prefilled) and land on the home page."""
    page.goto("/login")
    wait_ready(page)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/")
    page.get_by_text("Home Page protected resources, username: andreyka26_").wait_for()
