"""End-to-end fixtures: a real `server_stub` process and real Chromium, on both interpreters.

Every test gets the `interpreter` fixture's two pages in turn, MicroPython's (/) and
Pyodide's (/pyodide): `-k micropython` runs one. A test about one page's own start-up names
its interpreter with `@pytest.mark.parametrize("interpreter", [...], indirect=True)`.

As in PyScript's own harness, a test fails on any console error, page error or Python
traceback on the page, even when its assertions passed; and on any request that leaves
the page's origin.
"""

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext

from tests.e2e.support import (
    INTERPRETERS,
    Interpreter,
    NetworkLog,
    ServerProcess,
    assert_clean,
    start_server,
    watch_for_errors,
)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server for the session (every login starts its own token family)."""
    process = start_server(tmp_path_factory.mktemp("server") / "auth.db")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def base_url(server: ServerProcess) -> str:
    """Let `page.goto("/login")` address the real server."""
    return server.url


@pytest.fixture(params=list(INTERPRETERS))
def interpreter(request: pytest.FixtureRequest) -> Interpreter:
    """The page the test runs on: MicroPython's or Pyodide's (`-k pyodide` selects one)."""
    return INTERPRETERS[request.param]


@pytest.fixture
def network(context: BrowserContext) -> NetworkLog:
    """The network log of every tab in the test's browser context."""
    log = NetworkLog()
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
    errors = watch_for_errors(context)
    yield
    assert_clean(context, errors, log)
