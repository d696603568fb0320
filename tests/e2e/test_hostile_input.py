"""Hostile or broken input reaching the page: it shows text, stays on this origin, never crashes."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.support import (
    DATA,
    REFRESH,
    RESOURCE,
    SLOTS,
    Interpreter,
    NetworkLog,
    ServerProcess,
    expect_every_slot,
    log_in,
    slot,
    start_server,
    storage,
    wait_ready,
)

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


def _no_script_ran(page: Page) -> bool:
    return page.evaluate("window.__xss === undefined")


def test_html_in_an_api_answer_is_shown_as_text_and_never_runs(
    page: Page, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    page.route(
        f"**{RESOURCE}",
        lambda route: route.fulfill(status=200, content_type="text/html", body=PAYLOAD),
    )

    page.get_by_role("button", name="Send 3 requests").click()

    for label in SLOTS:
        expect(slot(page, label)).to_have_text(PAYLOAD)
    assert page.locator("main img, main script").count() == 0
    assert _no_script_ran(page)


def test_html_in_an_error_answer_is_never_shown_as_markup(
    page: Page, interpreter: Interpreter
) -> None:
    page.route(
        "**/authorization/token",
        lambda route: route.fulfill(status=500, content_type="text/html", body=PAYLOAD),
    )
    page.goto(interpreter.url("/login"))
    wait_ready(page)

    page.get_by_role("button", name="Submit").click()

    expect(page.locator("#login-message")).to_have_text(
        "The server could not log you in (status 500)."
    )
    assert page.locator("main img, main script").count() == 0
    assert _no_script_ran(page)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_login_never_returns_to_another_origin(
    page: Page, interpreter: Interpreter, server: ServerProcess, target: str
) -> None:
    page.goto(interpreter.url(f"/login?next={target}"))
    wait_ready(page)

    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_text(f"Home Page {DATA}")).to_be_visible()
    assert page.url == interpreter.url("/", server.url)


def _real_token(page: Page) -> str:
    return storage(page, "token") or ""


@pytest.mark.parametrize(
    "garbage",
    [
        lambda token: "not-a-jwt",
        lambda token: token[: len(token) // 2],
        lambda token: "x" * 1_000_000,
        lambda token: "tök€n",
    ],
    ids=["not-a-jwt", "truncated", "huge", "not-ascii"],
)
def test_a_garbage_access_token_costs_one_refresh_and_everything_works(
    page: Page, interpreter: Interpreter, network: NetworkLog, garbage
) -> None:
    log_in(page, interpreter)
    page.evaluate("value => localStorage.setItem('token', value)", garbage(_real_token(page)))
    mark = len(network.answers)

    page.get_by_role("button", name="Send 3 requests").click()

    expect_every_slot(page)
    assert network.count("POST", REFRESH, 200, mark=mark) == 1


def test_a_huge_refresh_token_leads_to_the_login_page_with_a_message(
    page: Page, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    page.evaluate("localStorage.setItem('refreshToken', 'r'.repeat(1000000))")

    page.reload()
    wait_ready(page)

    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()
    expect(page.locator("#login-message")).to_have_text(
        "The stored session could not be read. Please log in again."
    )
    assert storage(page, "refreshToken") is None


def test_a_browser_that_refuses_storage_still_logs_in_for_this_tab(
    page: Page, interpreter: Interpreter
) -> None:
    page.add_init_script(
        """for (const name of ["getItem", "setItem", "removeItem"]) {
            Storage.prototype[name] = () => {
                throw new DOMException("storage is disabled", "SecurityError");
            };
        }"""
    )
    page.goto(interpreter.url("/login"))
    wait_ready(page)

    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_text(f"Home Page {DATA}")).to_be_visible()
    expect(page.locator("#home-message")).to_contain_text("in this tab only")
    page.get_by_role("button", name="Break token").click()
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)


def _answer(status: int, body: str, content_type: str = "application/json"):
    def fulfill(route: Route) -> None:
        route.fulfill(status=status, content_type=content_type, body=body)

    return fulfill


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"refreshToken": "r"}),
        json.dumps({"authorizationToken": "", "refreshToken": "r"}),
    ],
    ids=["not-json", "missing-access-token", "empty-access-token"],
)
def test_a_refresh_answer_without_usable_tokens_logs_out_cleanly(
    page: Page, interpreter: Interpreter, body: str
) -> None:
    log_in(page, interpreter)
    page.evaluate('localStorage.setItem("token", "sdf")')
    page.route(f"**{REFRESH}", _answer(200, body))

    page.get_by_role("button", name="Send 3 requests").click()

    expect(page.get_by_role("heading", name="Login Page")).to_be_visible()
    expect(page.locator("#login-message")).to_contain_text("session has ended")
    assert storage(page, "token") is None
    assert storage(page, "refreshToken") is None


def test_a_refresh_answered_by_a_broken_gateway_keeps_the_session(
    page: Page, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    refresh_token = storage(page, "refreshToken")
    page.evaluate('localStorage.setItem("token", "sdf")')
    page.route(f"**{REFRESH}", _answer(502, PAYLOAD, "text/html"))

    page.get_by_role("button", name="Send 3 requests").click()

    expect(page.locator("#home-message")).to_contain_text("still logged in")
    assert storage(page, "refreshToken") == refresh_token
    assert page.locator("main img, main script").count() == 0
    assert _no_script_ran(page)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, whose login limits no other test shares."""
    process = start_server(tmp_path / "auth.db")
    yield process
    process.stop()


def test_guessing_passwords_is_stopped_with_a_message(
    page: Page, interpreter: Interpreter, own_server: ServerProcess
) -> None:
    page.goto(interpreter.url("/login", own_server.url))
    wait_ready(page)
    page.get_by_label("Password").fill("guess")
    message = page.locator("#login-message")

    for _ in range(10):
        page.get_by_role("button", name="Submit").click()
        expect(message).to_have_text("Wrong user name or password.")
        page.evaluate("document.getElementById('login-message').textContent = ''")
    page.get_by_role("button", name="Submit").click()

    expect(message).to_have_text("Too many failed attempts. Wait a minute, then try again.")
    assert storage(page, "token") is None
