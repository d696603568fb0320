"""The demo signing in with a real OpenID Connect provider (oidc-provider, tests/oidc/), in
Chromium on both interpreters: the provider's own pages, the demo's three requests with one
refresh at the provider's token endpoint, and a state the page never began refused.

The server trusts the provider's access tokens (--trust-issuer), as an API behind a
provider does; the pages' settings say `refresh = "oidc"` with the provider's issuer.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import (
    DATA,
    OWN_ORIGINS,
    RESOURCE,
    Interpreter,
    NetworkLog,
    expect_every_slot,
    in_demo_order,
    wait_ready,
)
from tests.oidc.relying_party import refresh
from tests.oidc.support import ProviderProcess, launch_provider, oidc_web_root, page_redirects
from tests.server.support import ServerProcess, free_port, launch_server


@dataclass
class SignInSetup:
    """The demo's server, and the provider its pages sign in with."""

    pages: ServerProcess
    provider: ProviderProcess


def _start(base: Path, *provider_args: str, page_settings: tuple = ()) -> SignInSetup:
    """A provider (with `provider_args`) and the demo's server signing in with it, the
    demo's pages with `page_settings` (lines of `[refresh-gate]`) too."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    provider = launch_provider(
        base / "provider.log", origin, *page_redirects(origin), *provider_args
    )
    trust = ("--trust-issuer", provider.issuer, "--audience", provider.api_audience)
    pages = launch_server(
        base / "auth.db",
        base / "server.log",
        *trust,
        web_root=oidc_web_root(base, provider, *page_settings),
        port=port,
    )
    OWN_ORIGINS.update({pages.url, provider.issuer.rstrip("/")})
    return SignInSetup(pages, provider)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInSetup]:
    started = _start(tmp_path_factory.mktemp("oidc-sign-in"))
    yield started
    started.pages.stop()
    started.provider.stop()


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInSetup]:
    """A provider whose access tokens live 4 seconds."""
    started = _start(tmp_path_factory.mktemp("oidc-short"), "--access-token-ttl", "4")
    yield started
    started.pages.stop()
    started.provider.stop()


def _sign_in(page: Page, interpreter: Interpreter, setup: SignInSetup) -> None:
    """Through the demo's button and the provider's login and consent pages, back home."""
    page.goto(interpreter.url("/login", setup.pages.url))
    page.get_by_role("button", name="Sign in with your provider").click()
    _through_the_providers_pages(page)
    expect(page.get_by_text(f"Home Page {DATA}")).to_be_visible(timeout=30_000)


def _through_the_providers_pages(page: Page) -> None:
    """Sign in on the provider's login page, then agree on its consent page."""
    page.locator('input[name="login"]').fill("andreyka26_")  # on the provider's page
    page.locator('input[name="password"]').fill("Mypass1*")
    page.locator('button[type="submit"]').click()
    page.locator('button[type="submit"]').click()  # the consent page


def test_the_demo_signs_in_with_the_provider_and_three_401s_share_one_refresh_there(
    page: Page, network: NetworkLog, interpreter: Interpreter, setup: SignInSetup
) -> None:
    _sign_in(page, interpreter, setup)
    token_endpoint = setup.provider.issuer.rstrip("/") + "/token"
    token_path = "/token"

    page.get_by_role("button", name="Break token").click()
    mark = len(network.answers)
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)

    calls = [a for a in network.answers[mark:] if a[1] in (RESOURCE, token_path)]
    assert in_demo_order(calls) == [
        ("GET", RESOURCE, 401),
        ("GET", RESOURCE, 401),
        ("GET", RESOURCE, 401),
        ("POST", token_path, 200),
        ("GET", RESOURCE, 200),
        ("GET", RESOURCE, 200),
        ("GET", RESOURCE, 200),
    ], token_endpoint


def test_a_callback_with_a_state_the_page_never_began_is_refused_with_a_message(
    page: Page, network: NetworkLog, interpreter: Interpreter, setup: SignInSetup
) -> None:
    page.goto(interpreter.url("/callback?code=stolen&state=forged", setup.pages.url))

    expect(page.get_by_role("alert")).to_contain_text("not begun in this tab")
    assert network.count("POST", "/token") == 0


def test_a_replayed_callback_url_is_refused_and_exchanges_no_second_code(
    page: Page, network: NetworkLog, interpreter: Interpreter, setup: SignInSetup
) -> None:
    callbacks: list[str] = []
    page.on("request", lambda request: _note_callback(request.url, callbacks))
    _sign_in(page, interpreter, setup)
    assert network.count("POST", "/token") == 1  # the code exchange
    (callback,) = callbacks

    page.goto(callback)  # the same answer from the provider, once more

    expect(page.get_by_role("alert")).to_contain_text("already finished")
    assert network.count("POST", "/token") == 1


def _note_callback(url: str, callbacks: list[str]) -> None:
    if "/callback?" in url:
        callbacks.append(url)


def test_log_out_revokes_at_the_provider_ends_its_session_and_shows_the_login_page(
    page: Page, network: NetworkLog, interpreter: Interpreter, setup: SignInSetup
) -> None:
    _sign_in(page, interpreter, setup)
    refresh_token = page.evaluate("() => localStorage.getItem('refreshToken')")

    with page.expect_request(lambda request: "/session/end" in request.url):
        page.get_by_role("button", name="Log out").click()
    # Through the provider's logout (its confirmation submits itself) and back to the page.
    page.wait_for_url(lambda url: url.startswith(setup.pages.url + interpreter.url("/login")))
    wait_ready(page)

    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('refreshToken')") is None
    assert network.count("POST", "/token/revocation", 200) == 1
    # The provider's grant is gone: the refresh token the page held is refused there.
    with httpx.Client(timeout=10) as http:
        answer = refresh(http, setup.provider, refresh_token)
    assert answer.json()["error"] == "invalid_grant"


def test_natural_expiry_is_refreshed_before_sending_without_any_401(
    page: Page, network: NetworkLog, interpreter: Interpreter, short_lived: SignInSetup
) -> None:
    _sign_in(page, interpreter, short_lived)
    expect(page.locator("#token-left")).to_have_text("expired", timeout=10_000)
    mark = len(network.answers)

    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)

    assert network.count("POST", "/token", 200, mark=mark) == 1
    assert network.count("GET", RESOURCE, 401, mark=mark) == 0
    assert network.count("GET", RESOURCE, 200, mark=mark) == 3


@pytest.mark.parametrize("example", ["/examples/oauth/", "/examples/oauth-pyodide/"])
def test_the_example_page_signs_in_with_the_provider_and_shares_one_refresh(
    page: Page, network: NetworkLog, setup: SignInSetup, example: str
) -> None:
    page.goto(setup.pages.url + example)
    wait_ready(page)
    page.get_by_role("button", name="Log in").click()
    _through_the_providers_pages(page)
    expect(page.get_by_role("status")).to_have_text("Logged in.", timeout=30_000)
    assert "state=" not in page.url  # the provider's answer is off the address bar

    page.get_by_role("button", name="Break token").click()
    mark = len(network.answers)
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)

    assert network.count("POST", "/token", 200, mark=mark) == 1
    assert network.count("GET", RESOURCE, 401, mark=mark) == 3
    assert network.count("GET", RESOURCE, 200, mark=mark) == 3
