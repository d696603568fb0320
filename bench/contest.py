"""The contestants, the scenarios, and one run of a scenario in a contestant's tabs."""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Response
from playwright.sync_api import Error as PlaywrightError

HERE = Path(__file__).resolve().parent
HARNESS_JS = (HERE / "harness.js").read_text()
PYSCRIPT_HOOK_JS = (HERE / "pyscript_hook.js").read_text()

RESOURCE = "/api/resources"
REFRESH = "/authorization/refresh"
BROKEN_TOKEN = "sdf"  # what the seed article types into the console
READY = "body[data-ready]"
# The app's page loads its resource on arrival. Functions, not expressions: Playwright
# evaluates a string expression with eval, which the page's CSP forbids.
HOME_LOADED = "() => document.getElementById('data').textContent.startsWith('protected')"
# The app's Pyodide page, after a first visit, boots a second Pyodide in a worker to store its
# start-up snapshot (static/pyodide-boot.mjs): one-time work, timed under start-up. True
# once that is done, or when the page started from a stored snapshot and has none to do.
STARTUP_DONE = """() => performance.getEntriesByName('pyodide-boot')[0]?.detail === 'snapshot'
    || performance.getEntriesByName('pyodide-snapshot').length > 0"""
START_LEAD_MS = 60  # how far ahead a run is armed, so that two tabs start together
FIRE_JS = f"""async ([way, n]) => {{
    performance.setResourceTimingBufferSize(10 * n);
    performance.clearResourceTimings();
    const busy = [];
    const observer = new PerformanceObserver((list) => busy.push(...list.getEntries()));
    observer.observe({{ type: "longtask" }});
    const start = performance.now();
    const ok = await window.refreshGateFire(way, n);
    const ms = performance.now() - start;
    busy.push(...observer.takeRecords());
    observer.disconnect();
    const sent = performance.getEntriesByType("resource")
        .filter((entry) => new URL(entry.name).pathname === "{RESOURCE}");
    return {{
        ok,
        ms,
        last_sent: Math.max(...sent.map((entry) => entry.startTime)) - start,
        last_answer: Math.max(...sent.map((entry) => entry.responseEnd)) - start,
        long_tasks: busy.reduce((sum, task) => sum + task.duration, 0),
    }};
}}"""

Spoil = Literal["valid", "broken", "expired"]


@dataclass(frozen=True)
class Contestant:
    """A page that keeps the contract: the button, the result slots, the storage keys."""

    key: str
    label: str
    path: str
    python: bool = False  # the app's page: requests are fired through window.refreshGateFire
    snapshot: bool = False  # stores a start-up snapshot after its first load (Pyodide)
    # On another wire than the app's (axios's XHR adapter): shown, but not a yardstick for
    # recovery time, and run only in the click scenarios, as often as the heavy runs.
    other_wire: bool = False


CONTESTANTS = (
    Contestant("mpy", "this page, MicroPython", "/", python=True),
    Contestant("pyodide", "this page, Pyodide", "/pyodide", python=True, snapshot=True),
    Contestant("seed", "seed interceptor", "/bench/seed/"),
    # As shipped: axios's XMLHttpRequest adapter, whose parallel GETs Chromium's cache lock
    # sends one by one; 300 of them would take minutes, so it only clicks.
    Contestant(
        "seed-xhr",
        "seed interceptor, axios XHR adapter",
        "/bench/seed/?transport=xhr",
        other_wire=True,
    ),
    Contestant("aar", "axios-auth-refresh", "/bench/axios-auth-refresh/"),
    Contestant(
        "aar-nodedup",
        "axios-auth-refresh, deduplicateRefresh: false",
        "/bench/axios-auth-refresh/?deduplicateRefresh=false",
    ),
)


@dataclass(frozen=True)
class Scenario:
    """What the user does, and what is wrong with the token when they do it."""

    key: str
    label: str
    clicks: int = 1
    gap_ms: int = 0
    fire: int = 0  # requests fired at once instead of clicks
    tabs: int = 1
    spoil: Spoil = "broken"

    @property
    def action(self) -> tuple[int, int, int, int]:
        """What is done, whatever the token: runs with the same action share a baseline."""
        return self.clicks, self.gap_ms, self.fire, self.tabs


SCENARIOS = (
    Scenario("demo", "seed demo: token 'sdf', 1 click"),
    Scenario("stagger-3", "'sdf', 3 clicks 60 ms apart", clicks=3, gap_ms=60),
    Scenario("stagger-10", "'sdf', 10 clicks 30 ms apart", clicks=10, gap_ms=30),
    Scenario("parallel-300", "'sdf', 300 requests at once", clicks=0, fire=300),
    Scenario("expiry", "token past its exp, 1 click", spoil="expired"),
    Scenario("two-tabs", "'sdf', two tabs click at once", tabs=2),
)


@dataclass(frozen=True)
class TokenPair:
    """What the login API answers, under the page's storage keys."""

    access: str
    refresh: str


@dataclass
class Run:
    """What one run of one scenario did, counted on the wire and on the page."""

    refreshes: int
    unauthorized: int
    ok: int
    issued: int
    logged_out: bool
    ms: float | None  # None when the run ended on the login page, or got stuck
    honoured: int | None = None  # clicks that acted (the others hit a disabled button)
    stuck: bool = False  # some request was still pending a minute later
    # By Resource Timing: requests sent before the first 401 was in (every tab), and in the
    # first tab, ms from that 401 to the refresh request out, and from the refresh answer in
    # to the first request out after it.
    early: int | None = None
    refresh_lag: float | None = None
    retry_lag: float | None = None

    @property
    def lost(self) -> int:
        """Requests the page set out to make that never got their 200."""
        return max(0, self.issued - self.ok)


class NetworkLog:
    """Every answer any tab of a context received: (method, path, status)."""

    def __init__(self, context: BrowserContext) -> None:
        self.answers: list[tuple[str, str, int]] = []
        context.on("response", self._on_response)
        context.on("requestfailed", lambda request: self.answers.append((request.method, "", 0)))

    def _on_response(self, response: Response) -> None:
        request = response.request
        self.answers.append((request.method, urlsplit(request.url).path, response.status))

    def count(self, mark: int, method: str, path: str, status: int | None = None) -> int:
        """Answers since index `mark` that match."""
        return sum(
            1
            for m, p, s in self.answers[mark:]
            if m == method and p == path and (status is None or s == status)
        )


class Arena:
    """One browser context for one contestant: its tabs, kept open between runs."""

    def __init__(self, browser: Browser, origin: str, contestant: Contestant) -> None:
        self.origin = origin
        self.contestant = contestant
        self.context = browser.new_context(base_url=origin)
        self.context.add_init_script(HARNESS_JS)
        if contestant.python:
            self.context.add_init_script(PYSCRIPT_HOOK_JS)
        self.network = NetworkLog(self.context)
        self.tabs: list[Page] = []

    def close(self) -> None:
        """Close every tab and the context."""
        self.context.close()

    def put_tokens(self, access: str, refresh: str) -> None:
        """Write the pair into the origin's localStorage, shared by every tab."""
        page = self._tab(0)
        if not page.url.startswith(self.origin):
            page.goto("/static/favicon.svg")  # any document of the origin will do
        page.evaluate(
            "([access, refresh]) => { localStorage.setItem('token', access);"
            " localStorage.setItem('refreshToken', refresh); }",
            [access, refresh],
        )

    def run(self, scenario: Scenario, pair: TokenPair, spoil: Spoil, expired: TokenPair) -> Run:
        """Open the tabs logged in with `pair`, spoil the token, act, and count what happened."""
        self.put_tokens(pair.access, pair.refresh)
        tabs = [self._ready_tab(index) for index in range(scenario.tabs)]
        for extra in self.tabs[scenario.tabs :]:
            extra.close()
        del self.tabs[scenario.tabs :]
        if spoil == "broken":
            self.put_tokens(BROKEN_TOKEN, pair.refresh)
        elif spoil == "expired":
            self.put_tokens(expired.access, expired.refresh)
        mark = len(self.network.answers)
        at = time.time() * 1000 + START_LEAD_MS
        action = {
            "at": at,
            "clicks": scenario.clicks,
            "gap": scenario.gap_ms,
            "fire": scenario.fire,
        }
        for tab in tabs:
            tab.evaluate("action => window.__bench.arm(action)", action)
        outcomes = [self._collect(tab) for tab in tabs]
        tabs[0].wait_for_timeout(50)  # let the last network events arrive
        logged_out = any(outcome is None for outcome in outcomes)
        for tab in tabs:
            if self._logged_out(tab):
                logged_out = True
                _leave(tab)
        finished = [outcome for outcome in outcomes if outcome is not None]
        stuck = any(outcome["stuck"] for outcome in finished)
        count = self.network.count
        return Run(
            refreshes=count(mark, "POST", REFRESH),
            unauthorized=count(mark, "GET", RESOURCE, 401),
            ok=count(mark, "GET", RESOURCE, 200),
            issued=sum(outcome["issued"] for outcome in finished)
            + (3 * scenario.clicks + scenario.fire) * (len(outcomes) - len(finished)),
            logged_out=logged_out,
            ms=None if logged_out or stuck else max(outcome["ms"] for outcome in finished),
            honoured=sum(outcome.get("honoured", 0) for outcome in finished) or None,
            stuck=stuck,
            early=None
            if len(finished) < len(outcomes)
            else sum(outcome.get("early", 0) for outcome in finished),
            refresh_lag=outcomes[0].get("refresh_lag") if outcomes[0] else None,
            retry_lag=outcomes[0].get("retry_lag") if outcomes[0] else None,
        )

    def fire(self, way: str, n: int) -> dict[str, float]:
        """n requests at once one way of the page's window.refreshGateFire: milliseconds
        until it answered (`ms`), and from its start, by Resource Timing, until the last
        request left (`last_sent`) and the last answer was in (`last_answer`), and how long
        the page's thread was busy in tasks of 50 ms or more meanwhile (`long_tasks`)."""
        page = self._ready_tab(0)
        got = page.evaluate(FIRE_JS, [way, n])
        if got["ok"] != n:
            raise RuntimeError(f"{way}: only {got['ok']} of {n} requests got their 200")
        return {key: value for key, value in got.items() if key != "ok"}

    def _tab(self, index: int) -> Page:
        while len(self.tabs) <= index:
            self.tabs.append(self.context.new_page())
        return self.tabs[index]

    def _ready_tab(self, index: int, *, warm: bool = False) -> Page:
        """The tab at the contestant's page, ready and logged in; reloads it if it left.

        A tab just (re)loaded, or any tab with `warm`, gets one click with the token stored
        (a valid one), counted nowhere: the run that follows is then not the page's first.
        """
        page = self._tab(index)
        wanted = self.origin + self.contestant.path
        if page.url != wanted or self._logged_out(page):
            page.goto(self.contestant.path)
            page.wait_for_selector(READY, state="attached", timeout=60_000)
            if self.contestant.snapshot:
                # A returning visitor's page, which has no snapshot worker running: the
                # worker would take a core from the first scenario of the first run.
                page.wait_for_function(STARTUP_DONE, timeout=60_000)
            warm = True
        if self.contestant.python:
            # The page loads its resource on arrival; wait for that before anything else.
            page.wait_for_function(HOME_LOADED)
        if warm:
            click_once(page)
            if self._logged_out(page):
                raise RuntimeError(f"{self.contestant.label}: a click with a valid token failed")
        return page

    def warm_up(self, pair: TokenPair) -> None:
        """Log the first tab in with `pair` and click once, counted nowhere.

        Called as a contestant's turn starts: its first measured run, a valid-token
        baseline, is then not the first click after the other contestants ran for a while,
        and finds the page in the same state as the spoilt run that follows it.
        """
        self.put_tokens(pair.access, pair.refresh)
        self._ready_tab(0, warm=True)

    def _collect(self, tab: Page) -> dict | None:
        """The in-page outcome, or None if the page went to the login page meanwhile."""
        try:
            return tab.evaluate("() => window.__bench.collect()")
        except PlaywrightError:
            _leave(tab)  # it navigated away: the seed's `location` to /login
            return None

    def _logged_out(self, tab: Page) -> bool:
        for _ in range(3):
            if not tab.url.startswith(self.origin):
                return False
            if urlsplit(tab.url).path == "/login":
                return True
            try:
                return tab.evaluate("() => localStorage.getItem('token') === null")
            except PlaywrightError:  # it is navigating: the seed's logout goes to /login
                tab.wait_for_load_state()
        return True


def _leave(tab: Page) -> None:
    """Stop the app a logged-out tab landed on from booting during the next runs."""
    for _ in range(3):
        try:
            tab.goto("about:blank")
            return
        except PlaywrightError:  # interrupted by a navigation still under way
            tab.wait_for_timeout(100)


def click_once(page: Page, fire: int = 0) -> None:
    """One click on Send 3 requests (or `fire` requests at once), waited for until settled."""
    page.evaluate("fire => window.__bench.arm({ at: 0, clicks: 1, gap: 0, fire })", fire)
    if page.evaluate("() => window.__bench.collect()")["stuck"]:
        raise RuntimeError(f"{page.url}: the click never settled")
