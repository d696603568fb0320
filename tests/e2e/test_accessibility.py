"""Every page the project serves, checked by axe-core in real Chromium against the real server.

Each page is checked as a user meets it: logged out, and logged in after its demo (a broken
token, then Send 3 requests), with axe's default rules (WCAG 2 A and AA, and its best
practices). axe-core is pinned in package.json and read from node_modules, where `make
vendor` installs it with the runtime; unlike the runtime it is never served to users.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import INTERPRETERS, Interpreter, expect_every_slot, log_in, wait_ready
from tests.server.support import REPO_ROOT

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
# The example pages, each checked logged out and after its demo: one line a page.
EXAMPLES = ["/examples/oauth/", "/examples/oauth-pyodide/", "/examples/requests-pyodide/"]
REQUESTS_EXAMPLE = "/examples/requests-pyodide/"  # its demo: Send, and a list of answers


@dataclass(frozen=True)
class View:
    """A page the project serves, in one state a user sees it in."""

    name: str
    show: Callable[[Page], None]  # brings a fresh tab to that state


def _show_demo(page: Page, interpreter: Interpreter, after_demo: bool) -> None:
    """The demo's login page; or its home page after the demo, the timeline drawn."""
    if not after_demo:
        page.goto(interpreter.url("/login"))
        wait_ready(page)
        return
    log_in(page, interpreter)
    _break_the_token_and_send_three(page)
    # The home page's own request and the demo's seven calls, all answered and drawn.
    expect(page.locator("#timeline-table tbody tr")).to_have_count(8)
    expect(page.locator("#timeline-chart rect.pending")).to_have_count(0)
    expect(page.locator("#in-flight")).to_have_text("0")


def _show_example(page: Page, path: str, after_demo: bool) -> None:
    """An example page logged out; or logged in, after its demo."""
    page.goto(path)
    wait_ready(page)
    if after_demo:
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("status")).to_have_text("Logged in.")
        if path == REQUESTS_EXAMPLE:
            page.get_by_role("button", name="Break token").click()
            page.get_by_role("button", name="Send", exact=True).click()
            expect(page.locator("#summary")).to_have_text("3 of 3 answered 200")
        else:
            _break_the_token_and_send_three(page)


def _break_the_token_and_send_three(page: Page) -> None:
    page.get_by_role("button", name="Break token").click()
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)


def _views() -> list[View]:
    views = []
    for name, interpreter in INTERPRETERS.items():
        for state, after_demo in (("login", False), ("home-after-demo", True)):
            show = partial(_show_demo, interpreter=interpreter, after_demo=after_demo)
            views.append(View(f"{name}-{state}", show))
    for path in EXAMPLES:
        name = path.strip("/").replace("/", "-")
        for state, after_demo in (("logged-out", False), ("after-demo", True)):
            show = partial(_show_example, path=path, after_demo=after_demo)
            views.append(View(f"{name}-{state}", show))
    return views


def _run_axe(page: Page) -> list[dict]:
    """axe's default rules on the page as it is now; the violations it found."""
    assert AXE.is_file(), f"{AXE} is missing: run `make vendor` (npm ci)"
    # page.add_script_tag would add an inline <script>, which the server's
    # Content-Security-Policy refuses, and bypass_csp would check a page no user gets.
    # Evaluated through the DevTools protocol, axe runs in the page under its policy.
    page.evaluate(AXE.read_text())
    # A node_modules older than the pin (no `make vendor` since) would check other rules.
    assert page.evaluate("axe.version") == AXE_VERSION
    # Only the violations' details come back: the same rules run, less to send.
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return results["violations"]


def _describe(violations: list[dict]) -> str:
    """Each violation's rule, impact and help, then every element it found, one a line."""
    lines = ["axe-core found:"]
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            summary = " ".join(node["failureSummary"].split())
            lines.append(f"  {' '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


@pytest.mark.parametrize("view", _views(), ids=lambda view: view.name)
def test_every_page_has_no_accessibility_violations(page: Page, view: View) -> None:
    view.show(page)

    violations = _run_axe(page)

    assert [violation["id"] for violation in violations] == [], _describe(violations)
