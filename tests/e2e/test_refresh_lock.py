"""The Web Lock that makes tabs refresh one at a time: taken, kept briefly, always let go.

The lock is named for the refresh token it guards (refresh_gate/_web_lock.py): "refresh-gate:"
and the first 32 hex digits of the token's SHA-256.
"""

import hashlib
import time

from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.e2e.support import (
    REFRESH,
    Interpreter,
    NetworkLog,
    expect_every_slot,
    log_in,
    storage,
)

SPENT_HOLD_MS = 2_000  # refresh_gate/_web_lock.py's SPENT_HOLD
REUSE_GRACE_MS = 5_000  # the server's --reuse-grace default, which the hold must stay under
# How long the refresh is kept on its way: on loopback it takes a few ms, less than the
# watcher's look every 10 ms, and a loaded machine saw the lock only after its answer.
REFRESH_DELAY_S = 0.2

# The names of the refresh locks this origin's tabs hold, and of those they wait for.
LOCKS = """async () => {
    const { held, pending } = await navigator.locks.query();
    const ours = (locks) =>
        locks.map((lock) => lock.name).filter((name) => name.startsWith("refresh-gate:"));
    return { held: ours(held), pending: ours(pending) };
}"""

# From the page itself, every 10 ms: whether the lock `name` is held, until it was held and
# is free again. window.__lockWatch.freed is then when it was first seen free (on the clock
# of performance.now() and of the page's resource timings).
WATCH_LOCK = """name => {
    const watch = (window.__lockWatch = { seen: null, freed: null });
    const look = async () => {
        const { held } = await navigator.locks.query();
        const now = performance.now();
        if (held.some((lock) => lock.name === name)) {
            watch.seen ??= now;
        } else if (watch.seen !== null) {
            watch.freed = now;
            return;
        }
        setTimeout(look, 10);
    };
    look();
}"""
REFRESH_ANSWERED = """() => performance.getEntriesByType("resource")
    .filter((entry) => new URL(entry.name).pathname === "/authorization/refresh")
    .map((entry) => entry.responseEnd)"""


def _lock_name(refresh_token: str) -> str:
    return "refresh-gate:" + hashlib.sha256(refresh_token.encode()).hexdigest()[:32]


def test_the_lock_of_a_spent_token_is_let_go_two_seconds_after_the_refresh(
    page: Page, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    spent = _lock_name(storage(page, "refreshToken"))
    page.evaluate('localStorage.setItem("token", "sdf")')
    page.evaluate(WATCH_LOCK, spent)

    def slow_refresh(route: Route) -> None:
        time.sleep(REFRESH_DELAY_S)
        route.continue_()

    page.route(f"**{REFRESH}", slow_refresh)
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)
    page.wait_for_function("() => window.__lockWatch.freed !== null", timeout=10_000)

    # Kept a while after the new pair came, so that a tab still waiting for the lock finds
    # the new pair instead of presenting the spent token; let go before the server's grace
    # for a spent token ends.
    (answered,) = page.evaluate(REFRESH_ANSWERED)
    watch = page.evaluate("window.__lockWatch")
    assert watch["seen"] < answered
    held_after_refresh = watch["freed"] - answered
    assert SPENT_HOLD_MS - 50 <= held_after_refresh < REUSE_GRACE_MS, held_after_refresh
    assert page.evaluate(LOCKS) == {"held": [], "pending": []}
    assert network.count("POST", REFRESH) == 1


def test_a_tab_that_never_lets_go_of_the_lock_costs_a_try_again_not_the_session(
    page: Page, context: BrowserContext, network: NetworkLog, interpreter: Interpreter
) -> None:
    log_in(page, interpreter)
    refresh_token = storage(page, "refreshToken")
    name = _lock_name(refresh_token)
    hung = context.new_page()  # a tab of the same origin that takes the lock and hangs
    hung.goto("/static/favicon.svg")
    hung.evaluate("name => { navigator.locks.request(name, () => new Promise(() => {})); }", name)
    page.evaluate('localStorage.setItem("token", "sdf")')

    page.get_by_role("button", name="Send 3 requests").click()

    # refresh_gate/_web_lock.py's LOCK_TIMEOUT is 20 s.
    expect(page.locator("#home-message")).to_contain_text("try again", timeout=30_000)
    assert network.count("POST", REFRESH) == 0  # nothing refreshed behind the lock's back
    assert storage(page, "refreshToken") == refresh_token
    assert page.evaluate(LOCKS) == {"held": [name], "pending": []}  # the wait was withdrawn

    hung.close()  # the browser frees a closed tab's locks
    page.get_by_role("button", name="Send 3 requests").click()
    expect_every_slot(page)
    assert network.count("POST", REFRESH, 200) == 1
