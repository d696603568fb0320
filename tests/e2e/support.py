"""What the end-to-end tests share: a real server process, the network log, page helpers."""

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response, expect

from tests.server.support import REPO_ROOT, ServerProcess, launch_server

READY = "body[data-ready]"


@dataclass(frozen=True)
class Interpreter:
    """One of the two pages the app runs on, and where its client-side routes live."""

    name: str  # "micropython" (the page at /) or "pyodide" (the page at /pyodide)
    base: str  # the prefix of its routes: "" or "/pyodide" (data-base on its <body>)
    runtime: str  # the folder its interpreter is loaded from

    def url(self, path: str, origin: str = "") -> str:
        """The page's URL for the app path `path`: "/login" is "/pyodide/login" on Pyodide."""
        return f"{origin}{self.base}{path}"


MICROPYTHON = Interpreter("micropython", "", "/static/vendor/micropython/")
PYODIDE = Interpreter("pyodide", "/pyodide", "/static/vendor/pyodide/")
INTERPRETERS = {interpreter.name: interpreter for interpreter in (MICROPYTHON, PYODIDE)}


# The origins of the servers the tests started: the only ones a page may talk to.
OWN_ORIGINS: set[str] = set()


def start_server(db_path: Path, *extra_args: str) -> ServerProcess:
    """A real server on the repository's own page, its origin allowed for the pages."""
    server = launch_server(db_path, db_path.with_suffix(".log"), *extra_args)
    OWN_ORIGINS.add(server.url)
    return server


_SEED_REFRESH = re.compile(r'^refresh = "seed"$', re.M)


def oauth_web_root(base: Path, token_url: str, *settings: str) -> Path:
    """The repository's pages, the demo's and the example's set to refresh at `token_url`,
    the demo's with `settings` (lines of its `[refresh-gate]` table) too."""
    root = base / "web"
    (root / "examples").mkdir(parents=True)
    for name in ("index.html", "pyodide.html", "app", "static", "refresh-gate", "dist"):
        (root / name).symlink_to(REPO_ROOT / name)
    for name in ("pyscript.toml", "pyodide.toml"):
        text = (REPO_ROOT / name).read_text()
        oauth = f'refresh = "oauth2"\ntoken-url = "{token_url}"\nclient-id = "refresh-gate-demo"'
        oauth = "\n".join([oauth, *settings])
        assert len(_SEED_REFRESH.findall(text)) == 1
        (root / name).write_text(_SEED_REFRESH.sub(oauth, text))
    for example in ("oauth", "oauth-pyodide"):
        source, copy = REPO_ROOT / "examples" / example, root / "examples" / example
        copy.mkdir()
        for path in source.iterdir():  # copies: a folder's files may not link out of it
            shutil.copy(path, copy / path.name)
        text = (source / "pyscript.toml").read_text()
        assert text.count('token-url = "/oauth/token"\n') == 1
        (copy / "pyscript.toml").write_text(
            text.replace('token-url = "/oauth/token"\n', f'token-url = "{token_url}"\n')
        )
    return root


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


# Chromium reports every 4xx/5xx answer and aborted request as a console error. Those are
# the very thing the demo shows; the network log, not the console, is asserted for them.
_NETWORK_NOISE = "Failed to load resource"
# A Python error nobody awaited, whatever the console level it was printed at: MicroPython's
# asyncio prints "Task exception wasn't retrieved" to its output, CPython's "... was never".
_PYTHON_ERRORS = ("Task exception wasn't retrieved", "Task exception was never retrieved")


def watch_for_errors(context: BrowserContext) -> list[str]:
    """Collect, from now on, every error the context's pages report (see the module's doc)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" and not text.startswith(_NETWORK_NOISE):
            errors.append(f"console: {text}")
        elif any(sign in text for sign in _PYTHON_ERRORS):
            errors.append(f"console ({message.type}): {text}")

    context.on("console", on_console)
    context.on("weberror", lambda error: errors.append(f"page error: {error.error}"))
    return errors


def assert_clean(context: BrowserContext, errors: list[str], log: NetworkLog) -> None:
    """No error collected, no Python traceback on any open page, nothing sent elsewhere."""
    errors = list(errors)
    for page in context.pages:
        if not page.is_closed():
            tracebacks = page.locator(".py-error").all_inner_texts()
            errors.extend(f"python: {text}" for text in tracebacks)
    assert not log.foreign, f"requests left the page's origin: {log.foreign}"
    assert not errors, "\n".join(errors)


def wait_ready(page: Page) -> None:
    """Wait until Python runs and the buttons act."""
    page.wait_for_selector(READY, timeout=30_000)


def log_in(page: Page, interpreter: Interpreter, origin: str = "") -> None:
    """Log in through the form with the seeded user (prefilled) and land on the home page."""
    page.goto(interpreter.url("/login", origin))
    wait_ready(page)
    page.get_by_role("button", name="Submit").click()
    home = interpreter.url("/")
    page.wait_for_url(lambda url: urlsplit(url).path == home)
    page.get_by_text("Home Page protected resources, username: andreyka26_").wait_for()


def open_home(page: Page, interpreter: Interpreter) -> None:
    """Open the home page of a session already stored, as a second tab does."""
    page.goto(interpreter.url("/"))
    wait_ready(page)
    page.get_by_text("Home Page protected resources, username: andreyka26_").wait_for()


RESOURCE = "/api/resources"
REFRESH = "/authorization/refresh"
DATA = "protected resources, username: andreyka26_"
SLOTS = ("First resp:", "Second resp:", "Third resp:")


def demo_log(refresh: str = REFRESH) -> list[tuple[str, str, int]]:
    """What the network shows for one click on Send 3 requests with a broken access token:
    three 401s, one refresh at `refresh`, three retried 200s."""
    return [("GET", RESOURCE, 401)] * 3 + [("POST", refresh, 200)] + [("GET", RESOURCE, 200)] * 3


def in_demo_order(answers: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """`answers` with every 401 that came back before the first retry's 200 put ahead of the
    refresh's answer. The refresh leaves at the first 401, while the other two first tries
    are still out: on a loaded machine the refresh's answer may come back before the third
    401, which says nothing about the page. A refresh answered before any 401 stays a
    difference."""
    retried = next(
        (i for i, answer in enumerate(answers) if answer[2] == 200 and answer[0] == "GET"),
        len(answers),
    )
    head, tail = answers[:retried], answers[retried:]
    if not head or head[0][2] != 401:
        return answers
    return [a for a in head if a[2] == 401] + [a for a in head if a[2] != 401] + tail


OAUTH_TOKEN = "/oauth/token"


def calls(network: NetworkLog, mark: int, token: str = OAUTH_TOKEN) -> list[tuple[str, str, int]]:
    """The resource's and the token endpoint's (`token`, a path) answers since `mark`."""
    return [answer for answer in network.answers[mark:] if answer[1] in (RESOURCE, token)]


def click_the_demo(
    page: Page, network: NetworkLog, token: str = OAUTH_TOKEN
) -> list[tuple[str, str, int]]:
    """Break the access token, send 3 requests, wait for the 3 answers; what went out to
    the resource and the token endpoint, in_demo_order."""
    page.get_by_role("button", name="Break token").click()
    mark = len(network.answers)
    page.get_by_role("button", name="Send 3 requests").click()
    # The slots may still show the last click's answers: wait for this click's three.
    deadline = time.monotonic() + 30.0
    while network.count("GET", RESOURCE, 200, mark=mark) < 3:
        assert time.monotonic() < deadline, f"no 3 answers: {calls(network, mark, token)}"
        page.wait_for_timeout(20)
    expect_every_slot(page)
    return in_demo_order(calls(network, mark, token))


def slot(page: Page, label: str):
    """The result shown beside `label` (First resp:, ...)."""
    return page.locator("dt", has_text=label).locator("xpath=following-sibling::dd[1]")


def storage(page: Page, key: str) -> str | None:
    """What the page's localStorage holds under `key`."""
    return page.evaluate("key => localStorage.getItem(key)", key)


def expect_every_slot(page: Page, text: str = DATA) -> None:
    """Wait until all three result slots show `text`."""
    for label in SLOTS:
        expect(slot(page, label)).to_have_text(text)


def add_latency(context: BrowserContext, page: Page, milliseconds: float) -> None:
    """Every request of `page` takes `milliseconds` longer (Chromium's own emulation, one
    tab's), so that requests of tabs clicked at one moment overlap on the wire."""
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    conditions = {"latency": milliseconds, "downloadThroughput": -1, "uploadThroughput": -1}
    session.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
