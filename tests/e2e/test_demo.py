"""The seed article's demo, in real Chromium against the real server, on both interpreters."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.support import (
    DATA,
    READY,
    REFRESH,
    RESOURCE,
    SLOTS,
    Interpreter,
    NetworkLog,
    ServerProcess,
    demo_log,
    expect_every_slot,
    in_demo_order,
    log_in,
    slot,
    start_server,
    storage,
    wait_ready,
)


def test_three_broken_requests_share_one_refresh_then_all_succeed(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    page.evaluate('localStorage.setItem("token", "sdf")')
    mark = len(network.answers)

    page.get_by_role("button", name="Send 3 requests").click()

    expect_every_slot(page)
    assert in_demo_order(network.api(mark)) == demo_log()
    assert storage(page, "token") not in (None, "sdf")


def test_a_broken_refresh_token_logs_out_after_one_refresh_attempt(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    page.evaluate('localStorage.setItem("token", "sdf"); localStorage.setItem("refreshToken", "x")')
    mark = len(network.answers)

    page.get_by_role("button", name="Send 3 requests").click()

    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("session has ended")
    assert network.count("POST", REFRESH, mark=mark) == 1
    assert network.count("GET", RESOURCE, 401, mark=mark) == 3
    assert network.count("GET", RESOURCE, 200, mark=mark) == 0
    assert storage(page, "token") is None
    assert storage(page, "refreshToken") is None


def test_a_refresh_lost_on_the_network_keeps_the_session(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    refresh_token = storage(page, "refreshToken")
    page.evaluate('localStorage.setItem("token", "sdf")')
    page.route(f"**{REFRESH}", lambda route: route.abort("connectionreset"))

    page.get_by_role("button", name="Send 3 requests").click()

    expect(page.locator("#home-message")).to_contain_text("still logged in")
    expect(page.get_by_role("heading", name="Login Page")).to_be_hidden()
    assert storage(page, "refreshToken") == refresh_token

    page.unroute(f"**{REFRESH}")
    mark = len(network.answers)
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)
    assert network.count("POST", REFRESH, 200, mark=mark) == 1


def test_a_wrong_password_shows_a_message_and_stores_nothing(
    page: Page, interpreter: Interpreter
) -> None:
    page.goto(interpreter.url("/login"))
    wait_ready(page)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    assert storage(page, "token") is None
    assert storage(page, "refreshToken") is None
    assert page.get_by_label("Password").get_attribute("type") == "password"


def test_without_a_token_the_home_page_sends_to_login_and_back(
    page: Page, interpreter: Interpreter, base_url: str
) -> None:
    page.goto(interpreter.url("/reports/2026"))
    wait_ready(page)
    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()
    assert page.url == interpreter.url("/login?next=/reports/2026", base_url)

    page.get_by_role("button", name="Submit").click()

    page.wait_for_url(interpreter.url("/reports/2026", base_url))
    expect(page.get_by_text(f"Home Page {DATA}")).to_be_visible()


def test_log_out_clears_the_tokens_and_back_goes_nowhere_without_them(
    page: Page, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()
    assert storage(page, "token") is None
    page.go_back()
    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()


def test_back_and_forward_move_between_pages_without_reloading(
    page: Page, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    page.evaluate("window.__same_document = true")
    page.go_back()
    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()
    page.go_forward()
    expect(page.get_by_text(f"Home Page {DATA}")).to_be_visible()
    assert page.evaluate("window.__same_document") is True


class _HeldRequests:
    """A route handler: requests wait until `let_go`; those that come after it go at once."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._open = False

    def __call__(self, route: Route) -> None:
        if self._open:
            route.continue_()
        else:
            self.routes.append(route)

    def let_go(self) -> None:
        self._open = True
        for route in self.routes:
            route.continue_()


def test_the_buttons_are_there_but_disabled_until_the_interpreter_is_up(
    page: Page, interpreter: Interpreter
) -> None:
    runtime = _HeldRequests()
    page.route(f"**{interpreter.runtime}**", runtime)
    page.goto(interpreter.url("/login"), wait_until="domcontentloaded")
    for _ in range(100):  # until the page asks for the interpreter: it got as far as it can
        if runtime.routes:
            break
        page.wait_for_timeout(50)
    assert runtime.routes, f"the page never asked for {interpreter.runtime}"
    buttons = page.locator("button")

    expect(page.get_by_role("status")).to_have_text("starting…")
    expect(buttons).to_have_count(4)  # Submit, Send 3 requests, Break token, Log out
    for button in buttons.all():
        expect(button).to_be_disabled()
    expect(page.locator(READY)).to_have_count(0)

    runtime.let_go()
    wait_ready(page)

    expect(page.get_by_role("status")).to_have_text("ready")
    expect(page.get_by_role("button", name="Submit")).to_be_enabled()
    for button in buttons.all():
        expect(button).to_be_enabled()


def test_the_library_puts_its_javascript_half_into_the_page_without_a_request_of_its_own(
    page: Page, interpreter: Interpreter
) -> None:
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url))
    page.goto(interpreter.url("/login"))
    wait_ready(page)

    names = page.evaluate("() => Object.keys(window.refreshGateCalls ?? {}).sort()")
    assert names == [
        "dpopForgetKey",
        "dpopLoadKey",
        "dpopNewKey",
        "dpopSign",
        "fetchAnswer",
        "keepLock",
        "randomBase64url",
        "requestLock",
        "storageCall",
        "verifySignature",
    ]
    assert not [url for url in scripts if "browser" in url and url.endswith(".js")]
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Home Page protected resources, username: andreyka26_").wait_for()


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose resource takes half a second, as over a slow network."""
    process = start_server(tmp_path_factory.mktemp("slow") / "auth.db", "--api-delay", "0.5")
    yield process
    process.stop()


def test_the_three_requests_overlap_on_the_wire(
    page: Page, interpreter: Interpreter, slow_server: ServerProcess
) -> None:
    log_in(page, interpreter, slow_server.url)
    page.evaluate("performance.clearResourceTimings()")

    page.get_by_role("button", name="Send 3 requests").click()

    expect_every_slot(page)
    timings = page.evaluate(
        """performance.getEntriesByType("resource")
            .filter(entry => entry.name.endsWith("/api/resources"))
            .map(entry => [entry.requestStart, entry.responseStart])"""
    )
    assert len(timings) == 3
    # Overlap: every request reached the server before any answer began to come back
    # (Chromium's cache lock would send each only after the previous one's answer).
    assert max(sent for sent, _ in timings) < min(answered for _, answered in timings)


def test_three_quick_clicks_with_a_broken_token_share_one_refresh_and_lose_nothing(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    page.evaluate('localStorage.setItem("token", "sdf")')
    mark = len(network.answers)

    page.evaluate(
        """for (const delay of [0, 60, 120]) {
            setTimeout(() => document.getElementById("send-three").click(), delay);
        }"""
    )

    expect_every_slot(page)
    for _ in range(50):  # the earlier clicks' answers may still be on their way
        if network.count("GET", RESOURCE, 200, mark=mark) == 9:
            break
        page.wait_for_timeout(100)
    assert network.count("GET", RESOURCE, 200, mark=mark) == 9
    assert network.count("POST", REFRESH, mark=mark) == 1


def test_a_refresh_that_never_answers_times_out_and_keeps_the_session(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    refresh_token = storage(page, "refreshToken")
    page.evaluate('localStorage.setItem("token", "sdf")')
    page.route(f"**{REFRESH}", lambda route: None)  # held open: no answer, ever

    page.get_by_role("button", name="Send 3 requests").click()

    # The page's timeout is 15 s (app/demo.py); the browser aborts the request itself.
    expect(page.locator("#home-message")).to_contain_text("no answer within 15 s", timeout=25_000)
    expect(page.locator("#home-message")).to_contain_text("still logged in")
    for name in SLOTS:
        expect(slot(page, name)).to_have_text("failed, try again")
    assert storage(page, "refreshToken") == refresh_token
    assert page.locator("#in-flight").text_content() == "0"
