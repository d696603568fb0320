"""Start-up time, bytes and memory of a page: cold in a new Chromium profile, then warm.

Each measurement gets a profile of its own on disk, as a person's browser has: Playwright's
usual incognito contexts keep their HTTP cache in memory, where an entry as large as
Pyodide's 9.6 MB WebAssembly file is never kept, so a "warm" reload there downloads it
again and says nothing about a returning user.
"""

import json
import tempfile
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Playwright

from bench.contest import (
    BROKEN_TOKEN,
    HARNESS_JS,
    HOME_LOADED,
    PYSCRIPT_HOOK_JS,
    READY,
    TokenPair,
)


@dataclass(frozen=True)
class StartupPage:
    """A page whose start-up is measured."""

    key: str
    path: str
    python: bool
    demo: bool  # has the Send 3 requests button: run the demo before measuring memory


PAGES = (
    StartupPage("page", "/", python=True, demo=True),
    StartupPage("bare", "/bench/bare/", python=True, demo=False),
    StartupPage("seed", "/bench/seed/", python=False, demo=True),
    StartupPage("aar", "/bench/axios-auth-refresh/", python=False, demo=True),
)


@dataclass
class Startup:
    """One cold load, the demo, one warm reload."""

    cold_ms: float
    warm_ms: float
    cold_bytes: int
    warm_bytes: int
    js_heap: int
    wasm: int | None
    python_ready_ms: float | None = None  # PyScript's py:ready, before the page's script runs

    @property
    def memory(self) -> int:
        """JS heap plus the runtime's WebAssembly memory."""
        return self.js_heap + (self.wasm or 0)


def _logged_in_script(origin: str, pair: TokenPair) -> str:
    """An init script that stores the pair once, as if the user had logged in earlier."""
    tokens = json.dumps({"token": pair.access, "refreshToken": pair.refresh})
    return f"""if (location.origin === {json.dumps(origin)} && !localStorage.getItem("token")) {{
        for (const [key, value] of Object.entries({tokens})) localStorage.setItem(key, value);
    }}"""


def measure(
    playwright: Playwright, launch: dict, origin: str, page_info: StartupPage, pair: TokenPair
) -> Startup:
    """Cold load in a new profile, the demo, memory, then a warm reload."""
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(profile, base_url=origin, **launch)
        try:
            return _measure_in(context, origin, page_info, pair)
        finally:
            context.close()


def _measure_in(
    context: BrowserContext, origin: str, page_info: StartupPage, pair: TokenPair
) -> Startup:
    context.add_init_script(HARNESS_JS)
    context.add_init_script(_logged_in_script(origin, pair))
    if page_info.python:
        context.add_init_script(PYSCRIPT_HOOK_JS)
    page = context.pages[0] if context.pages else context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    received = [0]
    cdp.on(
        "Network.loadingFinished",
        lambda event: received.__setitem__(0, received[0] + int(event["encodedDataLength"])),
    )

    page.goto(page_info.path)
    page.wait_for_selector(READY, state="attached", timeout=60_000)
    cold_ms = page.evaluate("() => window.__bench.readyAt")
    python_ready_ms = page.evaluate("() => window.__bench.pythonReadyAt")
    page.wait_for_timeout(200)  # let the last loadingFinished events arrive
    cold_bytes = received[0]
    if page_info.demo:
        if page_info.python:
            page.wait_for_function(HOME_LOADED)
        page.evaluate("token => localStorage.setItem('token', token)", BROKEN_TOKEN)
        page.evaluate("() => window.__bench.arm({ at: 0, clicks: 1, gap: 0, fire: 0 })")
        page.evaluate("() => window.__bench.collect()")
    else:
        page.wait_for_function("() => window.__benchPython !== undefined")
    cdp.send("HeapProfiler.collectGarbage")
    js_heap = int(cdp.send("Runtime.getHeapUsage")["usedSize"])
    wasm = page.evaluate(
        "() => window.__benchPython ? window.__benchPython._module.HEAP8.length : null"
    )

    received[0] = 0
    page.reload()
    page.wait_for_selector(READY, state="attached", timeout=60_000)
    warm_ms = page.evaluate("() => window.__bench.readyAt")
    page.wait_for_timeout(200)  # let the last loadingFinished events arrive
    return Startup(cold_ms, warm_ms, cold_bytes, received[0], js_heap, wasm, python_ready_ms)
