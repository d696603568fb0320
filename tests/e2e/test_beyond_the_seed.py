"""One refresh across tabs, refresh before expiry, and the live request timeline."""

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import (
    DATA,
    INTERPRETERS,
    MICROPYTHON,
    REFRESH,
    RESOURCE,
    Interpreter,
    NetworkLog,
    ServerProcess,
    add_latency,
    expect_every_slot,
    log_in,
    open_home,
    start_server,
    storage,
)

LATENCY_MS = 100
CLICK_DELAY_MS = 500  # time enough to tell both tabs when to click
CLICK_AT = """at => setTimeout(
    () => document.getElementById("send-three").click(), at - Date.now())"""
LABEL_SHARE = 42.0  # per cent of the chart's width the labels take, left of the axis


def _open_second_tab(context: BrowserContext, interpreter: Interpreter) -> Page:
    tab = context.new_page()
    open_home(tab, interpreter)
    return tab


def _two_tabs_click_with_a_broken_token(
    page: Page,
    context: BrowserContext,
    network: NetworkLog,
    first: Interpreter,
    second: Interpreter,
) -> None:
    """Log in in `page` on `first`, open the home page on `second` in another tab, break the
    token they share, click Send 3 requests in both at once: one refresh, nobody logged out."""
    log_in(page, first)
    refresh_token = storage(page, "refreshToken")
    tabs = ((page, first), (_open_second_tab(context, second), second))
    for tab, _ in tabs:
        add_latency(context, tab, LATENCY_MS)
    page.evaluate('localStorage.setItem("token", "sdf")')
    mark = len(network.answers)

    # Both clicks at one moment on the machine's clock: clicked one after the other from here,
    # on a busy machine the second tab clicked after the first one's refresh was done.
    at = page.evaluate("Date.now()") + CLICK_DELAY_MS
    for tab, _ in tabs:
        tab.evaluate(CLICK_AT, at)

    for tab, _ in tabs:
        expect_every_slot(tab)
    assert network.count("POST", REFRESH, mark=mark) == 1
    assert network.count("GET", RESOURCE, 401, mark=mark) == 6
    assert network.count("GET", RESOURCE, 200, mark=mark) == 6
    for tab, interpreter in tabs:
        expect(tab.get_by_text(f"Home Page {DATA}")).to_be_visible()
        assert urlsplit(tab.url).path == interpreter.url("/")
        assert storage(tab, "token") not in (None, "sdf")
        assert storage(tab, "refreshToken") not in (None, refresh_token)


def test_two_tabs_with_a_broken_token_share_one_refresh(
    page: Page, context: BrowserContext, network: NetworkLog, interpreter: Interpreter
) -> None:
    _two_tabs_click_with_a_broken_token(page, context, network, interpreter, interpreter)


def test_tabs_on_the_two_interpreters_share_one_refresh_and_both_stay_logged_in(
    page: Page, context: BrowserContext, network: NetworkLog, interpreter: Interpreter
) -> None:
    """One tab on each interpreter, one origin: the same localStorage and Web Locks.

    `interpreter` is the tab that logs in and clicks first; the other tab runs on the other.
    """
    other = next(each for each in INTERPRETERS.values() if each != interpreter)
    _two_tabs_click_with_a_broken_token(page, context, network, interpreter, other)


def test_logging_out_in_one_tab_shows_the_login_page_in_the_other(
    page: Page, context: BrowserContext, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    other = _open_second_tab(context, interpreter)
    other.evaluate("window.__same_document = true")

    page.get_by_role("button", name="Log out").click()

    expect(other.get_by_role("heading", name="Login Page")).to_be_visible()
    expect(other.get_by_role("alert")).to_have_text("You were logged out in another tab.")
    assert other.evaluate("window.__same_document") is True


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose access tokens live 4 seconds."""
    process = start_server(tmp_path_factory.mktemp("short") / "auth.db", "--access-ttl", "4")
    yield process
    process.stop()


def test_an_expired_token_is_refreshed_before_sending_without_any_401(
    page: Page, network: NetworkLog, interpreter: Interpreter, short_lived: ServerProcess
) -> None:
    log_in(page, interpreter, short_lived.url)
    expect(page.locator("#token-left")).to_have_text("expired", timeout=10_000)
    mark = len(network.answers)

    page.get_by_role("button", name="Send 3 requests").click()

    expect_every_slot(page)
    assert network.api(mark) == [("POST", REFRESH, 200)] + [("GET", RESOURCE, 200)] * 3


def _timeline(page: Page) -> list[tuple[str, str, str, str]]:
    rows = page.locator("#timeline-table tbody tr")
    return [
        (cells[1], cells[2], cells[3], cells[6])
        for cells in (row.locator("td").all_inner_texts() for row in rows.all())
    ]


def test_break_token_reproduces_the_demo_and_the_timeline_shows_its_shape(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    """The README's picture (`make screenshot`) is this page after the demo, on MicroPython."""
    log_in(page, interpreter)
    table = page.locator("#timeline-table tbody tr")
    expect(table).to_have_count(1)  # the home page's own request; drawn once calls pause
    # A person takes longer than the timeline's gap between bursts (app/timeline.py): the
    # chart then draws the demo's calls alone.
    page.wait_for_timeout(600)

    page.get_by_role("button", name="Break token").click()
    expect(page.locator("#token-left")).to_have_text("unreadable token")
    page.get_by_role("button", name="Send 3 requests").click()

    expect_every_slot(page)
    expect(page.locator("#refresh-count")).to_have_text("1")
    statuses = ["200"] + ["401"] * 3 + ["200"] * 4
    expect(table.locator("td:nth-child(4)")).to_have_text(statuses)
    rows = _timeline(page)[1:]
    assert [(method, path, status) for method, path, status, _ in rows] == (
        [("GET", RESOURCE, "401")] * 3 + [("POST", REFRESH, "200")] + [("GET", RESOURCE, "200")] * 3
    )
    assert [note for *_, note in rows[3:]] == ["the refresh"] + ["retried, waited at the gate"] * 3
    # The new token's lifetime at once, not "unreadable token" until the next tick.
    expect(page.locator("#token-left")).to_have_text(re.compile(r"^\d+ s$"), timeout=500)
    expect(page.locator("#in-flight")).to_have_text("0")
    # The chart draws the demo's seven calls on an axis of their own, from edge to edge.
    bars = page.locator("#timeline-chart rect")
    expect(bars).to_have_count(len(rows))
    demo_calls = table.evaluate_all("rows => rows.slice(1).map((row) => row.dataset.call)")
    assert bars.evaluate_all("bars => bars.map((bar) => bar.dataset.call)") == demo_calls
    spans = bars.evaluate_all(
        "bars => bars.map((bar) => [parseFloat(bar.getAttribute('x')),"
        " parseFloat(bar.getAttribute('width'))])"
    )
    assert min(x for x, _ in spans) == pytest.approx(LABEL_SHARE)
    assert max(x + width for x, width in spans) == pytest.approx(100, abs=0.5)

    page.mouse.move(0, 0)  # no hover on the button just clicked
    shot = Path(f"test-results/demo-{interpreter.name}.png")
    if interpreter == MICROPYTHON and os.environ.get("DEMO_SCREENSHOT"):
        shot = Path(os.environ["DEMO_SCREENSHOT"])
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shot, full_page=True)
