"""Start-up time, bytes and memory of a page: cold in a new Chromium profile, then warm.

Each measurement gets a profile of its own on disk, as a person's browser has: Playwright's
usual incognito contexts keep their HTTP cache in memory, where an entry as large as
Pyodide's 9.6 MB WebAssembly file is never kept, so a "warm" reload there downloads it
again and says nothing about a returning user.
"""

import json
import tempfile
from dataclasses import dataclass, field

from playwright.sync_api import BrowserContext, CDPSession, Page, Playwright

from bench.contest import (
    BROKEN_TOKEN,
    HARNESS_JS,
    HOME_LOADED,
    PYSCRIPT_HOOK_JS,
    READY,
    TokenPair,
    click_once,
    install_fire,
)


@dataclass(frozen=True)
class StartupPage:
    """A page whose start-up is measured."""

    key: str
    path: str
    python: bool
    demo: bool  # has the Send 3 requests button: run the demo before measuring memory
    # Stores a start-up snapshot for the next load once it is up (static/pyodide-boot.mjs):
    # the warm reload waits for it, as a visitor who comes back later would find it.
    snapshot: bool = False


PAGES = (
    StartupPage("page", "/", python=True, demo=True, snapshot=True),
    StartupPage("bare", "/bench/bare/", python=True, demo=False),
    StartupPage("seed", "/bench/seed/", python=False, demo=True),
    StartupPage("aar", "/bench/axios-auth-refresh/", python=False, demo=True),
)


@dataclass
class Startup:
    """One cold load, the demo, one warm reload, 300 requests, ten more demos."""

    cold_ms: float
    warm_ms: float
    cold_bytes: int
    warm_bytes: int
    js_heap: int
    wasm: int | None
    python_ready_ms: float | None = None  # PyScript's py:ready, before the page's script runs
    after_300: "Memory | None" = None  # after 300 requests at once with a broken token
    rounds: "list[Memory]" = field(default_factory=list)  # after the first and last round
    snapshot_ms: float | None = None  # start-up snapshot stored, after the cold ready

    @property
    def memory(self) -> int:
        """JS heap plus the runtime's WebAssembly memory."""
        return self.js_heap + (self.wasm or 0)

    @classmethod
    def from_dict(cls, raw: dict) -> "Startup":
        """What dataclasses.asdict made of one."""
        after_300 = raw.get("after_300")
        return cls(
            **{
                **raw,
                "after_300": Memory(**after_300) if after_300 else None,
                "rounds": [Memory(**memory) for memory in raw.get("rounds", [])],
            }
        )


@dataclass
class Memory:
    """What a page holds at one moment, after a forced garbage collection."""

    js_heap: int
    wasm: int | None
    python_objects: int | None  # objects Python's collector tracks (PyScript pages)

    @property
    def total(self) -> int:
        """JS heap plus the runtime's WebAssembly memory."""
        return self.js_heap + (self.wasm or 0)


ROUNDS = 10  # demo rounds after the 300 requests, for growth
# Before measuring the first round and the last: longer than anything the app keeps on
# purpose for a while (the Web Lock of a refresh token it exchanged, 2 s), so that what is
# left is what a request leaves behind for good.
SETTLE_MS = 3000


def _logged_in_script(origin: str, pair: TokenPair) -> str:
    """An init script that stores the pair once, as if the user had logged in earlier."""
    tokens = json.dumps({"token": pair.access, "refreshToken": pair.refresh})
    return f"""if (location.origin === {json.dumps(origin)} && !localStorage.getItem("token")) {{
        for (const [key, value] of Object.entries({tokens})) localStorage.setItem(key, value);
    }}"""


def measure(
    playwright: Playwright, launch: dict, origin: str, page_info: StartupPage, pair: TokenPair
) -> Startup:
    """Cold load in a new profile, the demo, memory, a warm reload, then (pages with the
    demo) 300 requests at once and ten more demos, memory after each part."""
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
        _demo(page)
    else:
        page.wait_for_function("() => window.__benchPython !== undefined")
    after_demo = _memory(page, cdp)
    snapshot_ms = None
    if page_info.snapshot:
        page.wait_for_function(SNAPSHOT_STORED, timeout=60_000)
        snapshot_ms = page.evaluate(SNAPSHOT_STORED) - cold_ms

    received[0] = 0
    page.reload()
    page.wait_for_selector(READY, state="attached", timeout=60_000)
    warm_ms = page.evaluate("() => window.__bench.readyAt")
    page.wait_for_timeout(200)  # let the last loadingFinished events arrive
    warm_bytes = received[0]

    after_300 = None
    rounds = []
    if page_info.demo:  # on the reloaded page: a reload after all this would time the rest
        if page_info.python:
            page.wait_for_function(HOME_LOADED)
            install_fire(page)
        _demo(page, fire=300)
        after_300 = _memory(page, cdp)
        for round_number in range(1, ROUNDS + 1):
            _demo(page)
            if round_number in (1, ROUNDS):
                page.wait_for_timeout(SETTLE_MS)
                rounds.append(_memory(page, cdp))
    return Startup(
        cold_ms,
        warm_ms,
        cold_bytes,
        warm_bytes,
        after_demo.js_heap,
        after_demo.wasm,
        python_ready_ms,
        after_300,
        rounds,
        snapshot_ms,
    )


# When the page's worker stored its start-up snapshot (ms since navigation), else null.
SNAPSHOT_STORED = "() => performance.getEntriesByName('pyodide-snapshot')[0]?.startTime ?? null"


def _demo(page: Page, fire: int = 0) -> None:
    """Break the token, then one click on Send 3 requests (or `fire` requests at once)."""
    page.evaluate("token => localStorage.setItem('token', token)", BROKEN_TOKEN)
    click_once(page, fire)


# Run in the page's interpreter: collect, then count what Python still holds.
_PYTHON_OBJECTS = "import gc; gc.collect(); len(gc.get_objects())"


def _memory(page: Page, cdp: CDPSession) -> Memory:
    """JS heap, WebAssembly memory and Python objects, after a forced collection."""
    python_objects = page.evaluate(
        """code => {
            const python = window.__benchPython;
            if (!python) return null;
            const namespace = python.globals.get("dict")();  // leaves the page's own untouched
            try {
                return python.runPython(code, { globals: namespace });
            } finally {
                namespace.destroy();
            }
        }""",
        _PYTHON_OBJECTS,
    )
    cdp.send("HeapProfiler.collectGarbage")
    return Memory(
        js_heap=int(cdp.send("Runtime.getHeapUsage")["usedSize"]),
        wasm=page.evaluate(
            "() => window.__benchPython ? window.__benchPython._module.HEAP8.length : null"
        ),
        python_objects=python_objects,
    )
