"""Both example pages as a stranger would write them: the library from its wheel in one line
of the config (README, "Use the gate in your own page"), against the real server.

The demo itself on both pages is in test_oauth.py; here, two tabs of an example page race
with a broken token: one refresh in all, nothing lost, nobody logged out.
"""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import (
    RESOURCE,
    NetworkLog,
    add_latency,
    expect_every_slot,
    storage,
    wait_ready,
)

EXAMPLES = ["/examples/oauth/", "/examples/oauth-pyodide/"]
TOKEN = "/oauth/token"
ACCESS_KEY, REFRESH_KEY = "example.accessToken", "example.refreshToken"
LATENCY_MS = 100  # every request takes this much longer, so that the tabs' 401s overlap
CLICK_AT = """at => setTimeout(
    () => document.getElementById("send-three").click(), at - Date.now())"""


def _open(context: BrowserContext, path: str) -> Page:
    tab = context.new_page()
    add_latency(context, tab, LATENCY_MS)
    tab.goto(path)
    wait_ready(tab)
    return tab


@pytest.mark.parametrize("example", EXAMPLES)
def test_two_tabs_of_an_example_page_with_a_broken_token_share_one_refresh(
    context: BrowserContext, network: NetworkLog, example: str
) -> None:
    first = _open(context, example)
    first.get_by_role("button", name="Log in").click()
    expect(first.get_by_role("status")).to_have_text("Logged in.")
    refresh_token = storage(first, REFRESH_KEY)
    second = _open(context, example)
    expect(second.get_by_role("status")).to_have_text("Logged in.")
    first.evaluate("key => localStorage.setItem(key, 'sdf')", ACCESS_KEY)
    mark = len(network.answers)

    # Both clicks at one moment on the machine's clock, not one after the other from here.
    at = first.evaluate("Date.now()") + 500
    for tab in (first, second):
        tab.evaluate(CLICK_AT, at)

    for tab in (first, second):
        expect_every_slot(tab)
        expect(tab.get_by_role("status")).to_have_text("Logged in.")
    assert network.count("POST", TOKEN, mark=mark) == 1
    assert network.count("POST", TOKEN, 200, mark=mark) == 1
    assert network.count("GET", RESOURCE, 401, mark=mark) == 6
    assert network.count("GET", RESOURCE, 200, mark=mark) == 6
    assert storage(first, ACCESS_KEY) not in (None, "sdf")
    assert storage(first, REFRESH_KEY) not in (None, refresh_token)
