"""A returning visitor's Python starts from the snapshot the first visit stored.

static/pyodide-boot.mjs marks how the interpreter came up ("pyodide-boot": "plain" or
"snapshot") and when its worker stored a snapshot ("pyodide-snapshot"). How much faster
that is belongs to `make bench`; these tests hold that it happens, and that the page works
either way.

Only the Pyodide page (/pyodide) has a snapshot: MicroPython's interpreter boots without one,
so these tests run on Pyodide alone.
"""

import json

import pytest
from playwright.sync_api import Page

from tests.e2e.support import (
    REFRESH,
    RESOURCE,
    Interpreter,
    NetworkLog,
    expect_every_slot,
    log_in,
    wait_ready,
)
from tests.server.support import REPO_ROOT

PYODIDE = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]["pyodide"]
SNAPSHOT_KEY = f"/static/vendor/pyodide/{PYODIDE}/snapshot"

BOOTS = "() => performance.getEntriesByName('pyodide-boot').map((mark) => mark.detail)"
STORED = "() => performance.getEntriesByName('pyodide-snapshot').length > 0"


def _boots(page: Page) -> list[str]:
    return page.evaluate(BOOTS)


# The page these tests are about: the `interpreter` fixture, on Pyodide only.
pytestmark = pytest.mark.parametrize("interpreter", ["pyodide"], indirect=True)


def _come_back(page: Page) -> None:
    """Once the worker has stored a snapshot (a second Pyodide boot, a few seconds), reload."""
    page.wait_for_function(STORED, timeout=60_000)
    page.reload()
    wait_ready(page)


def test_a_reload_starts_from_the_stored_snapshot_and_the_demo_still_works(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    assert _boots(page) == ["plain"]

    _come_back(page)
    assert _boots(page) == ["snapshot"]
    page.evaluate('localStorage.setItem("token", "sdf")')
    mark = len(network.answers)
    page.get_by_role("button", name="Send 3 requests").click()

    expect_every_slot(page)
    assert network.count("GET", RESOURCE, 401, mark=mark) == 3
    assert network.count("POST", REFRESH, 200, mark=mark) == 1
    assert network.count("GET", RESOURCE, 200, mark=mark) == 3


def test_a_stored_snapshot_that_does_not_boot_is_replaced(
    page: Page, interpreter: Interpreter
) -> None:
    page.goto("/static/favicon.svg")  # the origin, to reach its cache before the app runs
    page.evaluate(
        """key => caches.open("pyodide-snapshot").then(
            (cache) => cache.put(key, new Response(new Uint8Array(4096).fill(7))))""",
        SNAPSHOT_KEY,
    )

    log_in(page, interpreter)
    assert _boots(page) == ["plain"]
    _come_back(page)

    assert _boots(page) == ["snapshot"]
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)
