"""DPoP (RFC 9449) in real Chromium against server_stub, on both interpreters: the demo with
`refresh = "oauth2"` and `dpop = true` signs every request with its key in IndexedDB, a
stolen pair is worth nothing in another browser, and a replayed proof is refused.
"""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from tests.e2e.support import (
    DATA,
    OWN_ORIGINS,
    RESOURCE,
    Interpreter,
    NetworkLog,
    add_latency,
    assert_clean,
    calls,
    click_the_demo,
    demo_log,
    expect_every_slot,
    log_in,
    oauth_web_root,
    storage,
    wait_ready,
    watch_for_errors,
)
from tests.server.support import ServerProcess, launch_server

TOKEN = "/oauth/token"
DEMO = demo_log(TOKEN)
LATENCY_MS = 100
CLICK_AT = """at => setTimeout(
    () => document.getElementById("send-three").click(), at - Date.now())"""
# The key record browser_calls.js keeps in IndexedDB, as the page sees it.
STORED_KEY = """async () => {
    // Only a database the library made: opening one that is not there would make it.
    const names = (await indexedDB.databases()).map((database) => database.name);
    if (!names.includes("refresh-gate")) return null;
    return new Promise((done, failed) => {
        const opening = indexedDB.open("refresh-gate");
        opening.onerror = () => failed(opening.error);
        opening.onsuccess = () => {
            const keys = opening.result.transaction("dpop-keys").objectStore("dpop-keys");
            const read = keys.get("current");
            read.onsuccess = () => done(read.result ? {
                extractable: read.result.privateKey.extractable,
                type: read.result.privateKey.type,
                jwk: read.result.jwk,
            } : null);
        };
    });
}"""

STORE_PAIR = "pair => Object.entries(pair).forEach(([k, v]) => localStorage.setItem(k, v))"


def _start(base: Path, *args: str) -> ServerProcess:
    root = oauth_web_root(base, TOKEN, "dpop = true")
    server = launch_server(base / "auth.db", base / "server.log", *args, web_root=root)
    OWN_ORIGINS.add(server.url)
    return server


@pytest.fixture(scope="module")
def dpop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose demo pages refresh at /oauth/token with DPoP."""
    server = _start(tmp_path_factory.mktemp("dpop"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nonce_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The same, with every proof required to carry the server's nonce."""
    server = _start(tmp_path_factory.mktemp("dpop-nonce"), "--dpop-nonce")
    yield server
    server.stop()


@pytest.fixture
def sent(context: BrowserContext) -> list[Request]:
    """Every request to the API or the token endpoint the test's pages sent."""
    requests: list[Request] = []

    def keep(request: Request) -> None:
        if urlsplit(request.url).path in (RESOURCE, TOKEN):
            requests.append(request)

    context.on("request", keep)
    return requests


def _decoded(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _proof(request: Request) -> tuple[dict, dict]:
    """The header and claims of the DPoP proof `request` carried."""
    header, claims, _ = request.headers["dpop"].split(".")
    return _decoded(header), _decoded(claims)


def test_the_demo_with_dpop_signs_every_request_and_shares_one_refresh(
    page: Page,
    network: NetworkLog,
    sent: list[Request],
    interpreter: Interpreter,
    dpop_server: ServerProcess,
) -> None:
    log_in(page, interpreter, dpop_server.url)
    assert storage(page, "tokenType") == "DPoP"

    assert click_the_demo(page, network) == DEMO

    assert [request.method for request in sent if urlsplit(request.url).path == TOKEN] == [
        "POST",
        "POST",
    ]  # the login and the one refresh
    proofs = [_proof(request) for request in sent]
    assert all(header["typ"] == "dpop+jwt" and header["alg"] == "ES256" for header, _ in proofs)
    assert len({json.dumps(header["jwk"], sort_keys=True) for header, _ in proofs}) == 1
    assert sorted(proofs[0][0]["jwk"]) == ["crv", "kty", "x", "y"]
    assert len({claims["jti"] for _, claims in proofs}) == len(proofs)
    for request, (_, claims) in zip(sent, proofs, strict=True):
        assert claims["htm"] == request.method
        assert claims["htu"] == dpop_server.url + urlsplit(request.url).path
        if urlsplit(request.url).path == RESOURCE:
            assert request.headers["authorization"].startswith("DPoP ")
            assert "ath" in claims
        else:
            assert "authorization" not in request.headers and "ath" not in claims
    key = page.evaluate(STORED_KEY)
    assert key["extractable"] is False and key["type"] == "private"
    assert key["jwk"] == proofs[0][0]["jwk"]
    kept = page.evaluate("() => Object.keys(localStorage).sort()")
    assert kept == ["refresh-gate.dpop-key", "refreshToken", "token", "tokenType"]


def test_two_tabs_with_dpop_share_one_key_and_one_refresh(
    page: Page,
    context: BrowserContext,
    network: NetworkLog,
    sent: list[Request],
    interpreter: Interpreter,
    dpop_server: ServerProcess,
) -> None:
    log_in(page, interpreter, dpop_server.url)
    refresh_token = storage(page, "refreshToken")
    second = context.new_page()
    second.goto(interpreter.url("/", dpop_server.url))
    wait_ready(second)
    expect(second.get_by_text(f"Home Page {DATA}")).to_be_visible()
    tabs = (page, second)
    for tab in tabs:
        add_latency(context, tab, LATENCY_MS)
    page.evaluate('localStorage.setItem("token", "sdf")')
    mark, first_sent = len(network.answers), len(sent)

    at = page.evaluate("Date.now()") + 500  # both clicks at one moment on the machine's clock
    for tab in tabs:
        tab.evaluate(CLICK_AT, at)

    for tab in tabs:
        expect_every_slot(tab)
    assert network.count("POST", TOKEN, mark=mark) == 1
    assert network.count("GET", RESOURCE, 401, mark=mark) == 6
    assert network.count("GET", RESOURCE, 200, mark=mark) == 6
    keys = {json.dumps(_proof(request)[0]["jwk"], sort_keys=True) for request in sent}
    assert len(keys) == 1  # made once, at the login; the second tab read it
    assert len(sent) - first_sent == 13
    for tab in tabs:
        expect(tab.get_by_text(f"Home Page {DATA}")).to_be_visible()
        assert storage(tab, "refreshToken") not in (None, refresh_token)


@pytest.mark.parametrize("thief_key", ["no key", "a key of its own"])
def test_a_stolen_pair_is_refused_elsewhere_and_the_users_session_goes_on(
    page: Page,
    browser: Browser,
    network: NetworkLog,
    interpreter: Interpreter,
    dpop_server: ServerProcess,
    thief_key: str,
) -> None:
    log_in(page, interpreter, dpop_server.url)
    stolen = {key: storage(page, key) for key in ("token", "refreshToken", "tokenType")}
    users_key = page.evaluate(STORED_KEY)["jwk"]

    thief = browser.new_context(base_url=dpop_server.url)
    try:
        thief_log = NetworkLog()
        thief.on("response", thief_log.on_response)
        thief.on("request", thief_log.on_request)
        proofs: list[str] = []
        thief.on("request", lambda request: proofs.append(request.headers.get("dpop", "")))
        errors = watch_for_errors(thief)
        tab = thief.new_page()
        if thief_key == "no key":
            tab.goto("/static/favicon.svg")  # the origin, for its localStorage
        else:  # a session of its own, and so a key of its own
            log_in(tab, interpreter)
        thiefs_key = tab.evaluate(STORED_KEY)
        tab.evaluate(STORE_PAIR, stolen)
        mark, first_proof = len(thief_log.answers), len(proofs)
        with tab.expect_response(lambda answer: urlsplit(answer.url).path == TOKEN) as refused:
            tab.goto(interpreter.url("/"))
            wait_ready(tab)
        expect(tab.locator("#login-message")).to_contain_text("session has ended")

        assert calls(thief_log, mark) == [("GET", RESOURCE, 401), ("POST", TOKEN, 400)]
        assert refused.value.json()["error"] == "invalid_grant"
        signed = [proof for proof in proofs[first_proof:] if proof]
        if thiefs_key is None:
            assert signed == []  # nothing to sign with
        else:
            assert thiefs_key["jwk"] != users_key
            keys = [_decoded(proof.split(".")[0])["jwk"] for proof in signed]
            assert keys == [thiefs_key["jwk"]] * 2  # its API call and its refresh
        assert tab.evaluate(STORED_KEY) is None  # its session ended: its key is gone
        assert_clean(thief, errors, thief_log)
    finally:
        thief.close()

    # The user's own session is untouched: the same pair, and the next round as before.
    assert storage(page, "refreshToken") == stolen["refreshToken"]
    assert click_the_demo(page, network) == DEMO


def test_a_replayed_proof_gets_401(
    page: Page, sent: list[Request], interpreter: Interpreter, dpop_server: ServerProcess
) -> None:
    log_in(page, interpreter, dpop_server.url)
    (shown,) = [request for request in sent if urlsplit(request.url).path == RESOURCE]
    headers = {name: shown.headers[name] for name in ("authorization", "dpop")}

    replayed = page.request.get(dpop_server.url + RESOURCE, headers=headers)

    assert replayed.status == 401
    assert "DPoP" in replayed.headers["www-authenticate"]
    expect(page.get_by_text(f"Home Page {DATA}")).to_be_visible()


def test_server_nonces_cost_one_retry_at_login_and_nothing_in_the_demo(
    page: Page, network: NetworkLog, interpreter: Interpreter, nonce_server: ServerProcess
) -> None:
    log_in(page, interpreter, nonce_server.url)
    assert calls(network, 0)[:2] == [("POST", TOKEN, 400), ("POST", TOKEN, 200)]

    assert click_the_demo(page, network) == DEMO


def test_a_database_of_that_name_without_the_key_store_does_not_stop_the_login(
    page: Page, interpreter: Interpreter, dpop_server: ServerProcess
) -> None:
    page.goto(dpop_server.url + "/static/favicon.svg")
    page.evaluate("""() => new Promise((done) => {
        const opening = indexedDB.open("refresh-gate", 1);  // made by other code, no store
        opening.onsuccess = () => { opening.result.close(); done(); };
    })""")

    log_in(page, interpreter, dpop_server.url)

    assert page.evaluate(STORED_KEY)["extractable"] is False
