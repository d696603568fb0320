"""The OAuth 2.0 refresh in real Chromium: the demo and the example page, on one origin and two.

The pages refresh at `POST /oauth/token` (RFC 6749) because their settings say so: each test
serves the repository's pages from a web root of its own whose .toml configs name
`refresh = "oauth2"` and a token URL. On two origins, the token endpoint is a second
server_stub process on another port, started with `--cors-origin` for the page's origin;
both share one SQLite file, and the signing key kept beside it, so each verifies the other's
access tokens.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import (
    OWN_ORIGINS,
    RESOURCE,
    Interpreter,
    NetworkLog,
    click_the_demo,
    demo_log,
    log_in,
    oauth_web_root,
    storage,
    wait_ready,
)
from tests.server.support import ServerProcess, free_port, launch_server

TOKEN = "/oauth/token"
# The two example pages: MicroPython's and Pyodide's, each taking the library's wheel.
EXAMPLES = ["/examples/oauth/", "/examples/oauth-pyodide/"]
# What the network shows for one click on Send 3 requests with a broken access token.
DEMO = demo_log(TOKEN)
# The page's own reports of anything its CSP blocked, including what the console omits.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def _start(base: Path, name: str, *args: str, **options: object) -> ServerProcess:
    server = launch_server(base / "auth.db", base / f"{name}.log", *args, **options)
    OWN_ORIGINS.add(server.url)  # the clean-page check allows requests to it
    return server


@dataclass
class TwoOrigins:
    """A page server and, on another port, the token server its pages refresh at."""

    pages: ServerProcess
    tokens: ServerProcess


@pytest.fixture(scope="module")
def one_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose pages refresh at its own /oauth/token."""
    base = tmp_path_factory.mktemp("oauth-one-origin")
    server = _start(base, "server", web_root=oauth_web_root(base, TOKEN))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoOrigins]:
    """Pages on one origin, their token endpoint on another, one database behind both."""
    base = tmp_path_factory.mktemp("oauth-two-origins")
    token_port = free_port()  # the pages' settings name it before its server starts
    token_url = f"http://127.0.0.1:{token_port}{TOKEN}"
    pages = _start(base, "pages", web_root=oauth_web_root(base, token_url))
    tokens = _start(base, "tokens", "--cors-origin", pages.url, port=token_port)
    yield TwoOrigins(pages, tokens)
    tokens.stop()
    pages.stop()


@pytest.fixture
def request_urls(context: BrowserContext) -> list[str]:
    """Every URL the test's pages requested."""
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    return urls


def _origins(urls: list[str]) -> set[str]:
    """The origins `urls` went to over the network (a blob: URL stays in the page)."""
    parts = [urlsplit(url) for url in urls if not url.startswith("blob:")]
    return {f"{part.scheme}://{part.netloc}" for part in parts}


def test_the_demo_refreshes_once_at_its_own_oauth_token_endpoint(
    page: Page, network: NetworkLog, interpreter: Interpreter, one_origin: ServerProcess
) -> None:
    log_in(page, interpreter, one_origin.url)
    assert network.count("POST", TOKEN, 200) == 1  # the password grant

    assert click_the_demo(page, network) == DEMO
    assert storage(page, "token") not in (None, "sdf")


def test_the_demo_refreshes_once_at_a_token_endpoint_on_another_origin(
    page: Page,
    network: NetworkLog,
    request_urls: list[str],
    interpreter: Interpreter,
    two_origins: TwoOrigins,
) -> None:
    pages, tokens = two_origins.pages.url, two_origins.tokens.url
    page.add_init_script(RECORD_VIOLATIONS)
    policy = page.request.get(interpreter.url("/", pages)).headers["content-security-policy"]
    assert f"connect-src 'self' {tokens};" in policy

    log_in(page, interpreter, pages)
    answers = click_the_demo(page, network)

    assert answers == DEMO
    assert page.evaluate("window.__cspViolations") == []
    assert _origins(request_urls) == {pages, tokens}
    assert _origins([url for url in request_urls if urlsplit(url).path == TOKEN]) == {tokens}
    assert _origins([url for url in request_urls if urlsplit(url).path == RESOURCE]) == {pages}


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_example_page_logs_in_with_oauth_and_shares_one_refresh(
    page: Page, network: NetworkLog, one_origin: ServerProcess, example: str
) -> None:
    page.goto(one_origin.url + example)
    wait_ready(page)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_have_text("Logged in.")

    assert click_the_demo(page, network) == DEMO
    assert storage(page, "example.refreshToken")
    assert storage(page, "refreshToken") is None  # the demo's session on this origin is apart


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_example_page_works_against_a_token_endpoint_on_another_origin(
    page: Page,
    network: NetworkLog,
    request_urls: list[str],
    two_origins: TwoOrigins,
    example: str,
) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(two_origins.pages.url + example)
    wait_ready(page)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_have_text("Logged in.")

    assert click_the_demo(page, network) == DEMO
    assert page.evaluate("window.__cspViolations") == []
    assert _origins(request_urls) == {two_origins.pages.url, two_origins.tokens.url}
