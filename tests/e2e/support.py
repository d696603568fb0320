"""What the end-to-end tests share: a real server process, the network log, page helpers."""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, Response, expect

from tests.server.support import ServerProcess, launch_server

READY = "body[data-ready]"


# The origins of the servers the tests started: the only ones a page may talk to.
OWN_ORIGINS: set[str] = set()


def start_server(db_path: Path, *extra_args: str) -> ServerProcess:
    """A real server on the repository's own page, its origin allowed for the pages."""
    server = launch_server(db_path, db_path.with_suffix(".log"), *extra_args)
    OWN_ORIGINS.add(server.url)
    return server


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


RESOURCE = "/api/resources"
REFRESH = "/authorization/refresh"
DATA = "protected resources, username: andreyka26_"
SLOTS = ("First resp:", "Second resp:", "Third resp:")


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
