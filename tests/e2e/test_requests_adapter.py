"""`requests` through the gate on Pyodide, in real Chromium against the real server.

The example page /examples/requests-pyodide/ takes the library's wheel and `requests` (both
vendored, `make setup`), mounts the gate on a `requests.Session` (`mount_gate`) and sends N
plain `requests.get` calls, each in an asyncio task. Every XMLHttpRequest the page opens is
counted by wrapping `XMLHttpRequest.prototype.open`: a synchronous one (third argument
false) would freeze the page, which is what the adapter exists to avoid.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import DATA, READY, RESOURCE, NetworkLog, storage
from tests.server.support import ServerProcess

EXAMPLE = "/examples/requests-pyodide/"
TOKEN = "/oauth/token"
ACCESS_KEY, REFRESH_KEY = "example.accessToken", "example.refreshToken"
COUNT_XHR = """
window.__xhr = { opened: 0, synchronous: 0 };
const open = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, async) {
    window.__xhr.opened += 1;
    if (arguments.length > 2 && !async) window.__xhr.synchronous += 1;
    return open.apply(this, arguments);
};
"""
# Pyodide, micropip, the wheel and requests with its four dependencies, on a loaded machine.
START_TIMEOUT = 60_000


def _open_logged_in(page: Page, server: ServerProcess) -> None:
    """The example page, up and logged in with the password grant."""
    page.add_init_script(COUNT_XHR)
    page.goto(server.url + EXAMPLE)
    page.wait_for_selector(READY, timeout=START_TIMEOUT)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_have_text("Logged in.")


def _send(page: Page, count: int) -> None:
    page.locator("#count").fill(str(count))
    page.get_by_role("button", name="Send", exact=True).click()


def _synchronous_xhrs(page: Page) -> int:
    return page.evaluate("window.__xhr.synchronous")


@pytest.mark.parametrize("count", [3, 10])
def test_parallel_requests_calls_with_a_broken_token_share_one_refresh(
    page: Page, network: NetworkLog, server: ServerProcess, count: int
) -> None:
    _open_logged_in(page, server)
    page.get_by_role("button", name="Break token").click()
    mark = len(network.answers)

    _send(page, count)

    expect(page.locator("#summary")).to_have_text(f"{count} of {count} answered 200")
    expect(page.locator("#answers li")).to_have_text([f"200 {DATA}"] * count)
    assert network.count("POST", TOKEN, mark=mark) == 1
    assert network.count("POST", TOKEN, 200, mark=mark) == 1
    assert network.count("GET", RESOURCE, 200, mark=mark) == count
    assert storage(page, ACCESS_KEY) not in (None, "sdf")
    assert _synchronous_xhrs(page) == 0


def test_a_refused_refresh_comes_out_of_requests_as_refresh_rejected_and_logs_out(
    page: Page, network: NetworkLog, server: ServerProcess
) -> None:
    _open_logged_in(page, server)
    page.evaluate(
        "([access, refresh]) => {"
        " localStorage.setItem(access, 'sdf'); localStorage.setItem(refresh, 'unknown'); }",
        [ACCESS_KEY, REFRESH_KEY],
    )
    mark = len(network.answers)

    _send(page, 3)

    expect(page.locator("#summary")).to_have_text("0 of 3 answered 200")
    answers = page.locator("#answers li").all_inner_texts()
    assert len(answers) == 3
    assert all(answer.startswith("RefreshRejected: ") for answer in answers), answers
    expect(page.get_by_role("status")).to_have_text("Logged out.")
    assert network.count("POST", TOKEN, mark=mark) == 1
    assert storage(page, ACCESS_KEY) is None and storage(page, REFRESH_KEY) is None
    assert _synchronous_xhrs(page) == 0


def test_a_call_from_a_synchronous_handler_is_refused_not_sent_with_a_synchronous_xhr(
    page: Page, network: NetworkLog, server: ServerProcess
) -> None:
    _open_logged_in(page, server)
    mark = len(network.answers)

    page.get_by_role("button", name="Send one from a plain handler").click()

    expect(page.locator("#summary")).to_contain_text("Refused: GET ")
    expect(page.locator("#summary")).to_contain_text("nothing was sent")
    assert network.count("GET", RESOURCE, mark=mark) == 0
    assert _synchronous_xhrs(page) == 0
