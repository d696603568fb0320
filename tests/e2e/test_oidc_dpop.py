"""DPoP (RFC 9449) with a real provider: oidc-provider with its DPoP nonces on
(`provider.mjs --dpop`), the demo with `refresh = "oidc"` and `dpop = true`, and server_stub
trusting the provider's DPoP-bound access tokens, in Chromium on both interpreters.
"""

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from tests.e2e.support import (
    RESOURCE,
    Interpreter,
    NetworkLog,
    assert_clean,
    calls,
    click_the_demo,
    demo_log,
    storage,
    wait_ready,
    watch_for_errors,
)
from tests.e2e.test_dpop import STORE_PAIR, _proof
from tests.e2e.test_oidc_sign_in import SignInSetup, _sign_in, _start
from tests.e2e.test_oidc_tabs import race

TOKEN = "/token"  # the provider's token endpoint, on its own origin


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInSetup]:
    started = _start(tmp_path_factory.mktemp("oidc-dpop"), "--dpop", page_settings=("dpop = true",))
    yield started
    started.pages.stop()
    started.provider.stop()


@pytest.fixture
def sent(context: BrowserContext) -> list[Request]:
    """Every request the test's pages sent to the API, the token endpoint or to sign in."""
    requests: list[Request] = []

    def keep(request: Request) -> None:
        if urlsplit(request.url).path in (RESOURCE, TOKEN, "/auth"):
            requests.append(request)

    context.on("request", keep)
    return requests


def _preflights(context: BrowserContext, page: Page) -> list[str]:
    """The URLs of the CORS preflights `page` sends from now on (Chromium's DevTools
    protocol shows them; Playwright's own events do not)."""
    seen: list[str] = []
    session = context.new_cdp_session(page)
    session.on(
        "Network.requestWillBeSent",
        lambda event: (
            seen.append(event["request"]["url"])
            if event["request"]["method"] == "OPTIONS"
            else None
        ),
    )
    session.send("Network.enable")
    return seen


def _assert_one_key_signed_all(sent: list[Request]) -> None:
    """Every request to the API and the token endpoint carried a proof, all by one key."""
    signed = [request for request in sent if urlsplit(request.url).path != "/auth"]
    assert all("dpop" in request.headers for request in signed)
    keys = {json.dumps(_proof(request)[0]["jwk"], sort_keys=True) for request in signed}
    assert len(keys) == 1


def test_a_dpop_sign_in_with_the_provider_and_the_demo_share_one_refresh(
    page: Page,
    context: BrowserContext,
    network: NetworkLog,
    sent: list[Request],
    interpreter: Interpreter,
    setup: SignInSetup,
) -> None:
    _sign_in(page, interpreter, setup)
    signed_in = network.answers[:]
    assert storage(page, "tokenType") == "DPoP"
    # The code exchange: asked for the provider's nonce once, then answered.
    exchange = [answer for answer in signed_in if answer[1] == TOKEN and answer[0] == "POST"]
    assert [status for _, _, status in exchange] == [400, 200]

    preflights = _preflights(context, page)
    assert click_the_demo(page, network, TOKEN) == [
        *[("GET", RESOURCE, 401)] * 3,
        ("POST", TOKEN, 200),
        *[("GET", RESOURCE, 200)] * 3,
    ]
    # The code exchange's preflight is still in the browser's cache (the provider lets it
    # keep one an hour): the refresh goes out at once, with no OPTIONS round trip first.
    assert preflights == []

    (authorization,) = [request for request in sent if urlsplit(request.url).path == "/auth"]
    dpop_jkt = parse_qs(urlsplit(authorization.url).query)["dpop_jkt"][0]
    _assert_one_key_signed_all(sent)
    assert len(dpop_jkt) == 43  # the key's SHA-256 thumbprint, which the provider checked
    api = [request for request in sent if urlsplit(request.url).path == RESOURCE]
    assert all(request.headers["authorization"].startswith("DPoP ") for request in api)


@pytest.mark.parametrize("stolen_when", ["current", "spent"])
def test_a_pair_stolen_from_a_provider_session_is_refused_and_the_grant_lives_on(
    page: Page,
    browser: Browser,
    network: NetworkLog,
    interpreter: Interpreter,
    setup: SignInSetup,
    stolen_when: str,
) -> None:
    """The provider refuses a DPoP-bound refresh token without its key before it looks at
    rotation (lib/actions/grants/refresh_token.js), so even a spent token, which would
    revoke the whole grant as a Bearer token, costs the user nothing."""
    _sign_in(page, interpreter, setup)
    stolen = {key: storage(page, key) for key in ("token", "refreshToken", "tokenType")}
    if stolen_when == "spent":  # the user refreshes first: the thief holds a spent token
        assert click_the_demo(page, network, TOKEN) == demo_log(TOKEN)
    revoked = len(setup.provider.events("grant.revoked"))

    thief = browser.new_context()
    try:
        thief_log = NetworkLog()
        thief.on("response", thief_log.on_response)
        thief.on("request", thief_log.on_request)
        errors = watch_for_errors(thief)
        tab = thief.new_page()
        tab.goto(setup.pages.url + "/static/favicon.svg")  # the origin, for its localStorage
        tab.evaluate(STORE_PAIR, stolen)
        with tab.expect_response(lambda answer: urlsplit(answer.url).path == TOKEN) as refused:
            tab.goto(interpreter.url("/", setup.pages.url))
            wait_ready(tab)
        expect(tab.locator("#login-message")).to_contain_text("session has ended")
        assert calls(thief_log, 0, TOKEN) == [("GET", RESOURCE, 401), ("POST", TOKEN, 400)]
        assert refused.value.json()["error"] == "invalid_grant"
        assert_clean(thief, errors, thief_log)
    finally:
        thief.close()

    assert len(setup.provider.events("grant.revoked")) == revoked
    assert click_the_demo(page, network, TOKEN) == demo_log(TOKEN)


def test_two_tabs_with_dpop_refresh_once_a_round_at_the_provider(
    page: Page,
    context: BrowserContext,
    network: NetworkLog,
    sent: list[Request],
    interpreter: Interpreter,
    setup: SignInSetup,
) -> None:
    race(page, context, network, interpreter, setup, tabs=2, rounds=6)

    _assert_one_key_signed_all(sent)


def test_a_replayed_proof_for_a_provider_token_gets_401(
    page: Page,
    network: NetworkLog,
    sent: list[Request],
    interpreter: Interpreter,
    setup: SignInSetup,
) -> None:
    _sign_in(page, interpreter, setup)
    shown = next(request for request in sent if urlsplit(request.url).path == RESOURCE)
    headers = {name: shown.headers[name] for name in ("authorization", "dpop")}

    replayed = page.request.get(setup.pages.url + RESOURCE, headers=headers)

    assert replayed.status == 401
    assert "DPoP" in replayed.headers["www-authenticate"]
    assert click_the_demo(page, network, TOKEN) == demo_log(TOKEN)
