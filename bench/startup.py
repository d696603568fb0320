"""Start-up time, bytes and memory of a page: cold in a new Chromium profile, then warm.

Each measurement gets a profile of its own on disk, as a person's browser has: Playwright's
usual incognito contexts keep their HTTP cache in memory, where an entry as large as
Pyodide's 9.6 MB WebAssembly file is never kept, so a "warm" reload there downloads it
again and says nothing about a returning user.

Besides the figures, each load of a PyScript page notes when each step of its start-up
was done (`STEPS`), from the Resource Timing entries and bench/pyscript_hook.js's marks.
"""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, CDPSession, Page, Playwright

from bench.contest import (
    BROKEN_TOKEN,
    HARNESS_JS,
    HOME_LOADED,
    PYSCRIPT_HOOK_JS,
    READY,
    TokenPair,
    click_once,
)
from server_stub.app_modules import app_modules

REPO_ROOT = Path(__file__).resolve().parent.parent


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
    app: bool = False  # the app's page: window.refreshGateFire, the app's own modules


PAGES = (
    StartupPage("mpy", "/", python=True, demo=True, app=True),
    StartupPage("pyodide", "/pyodide", python=True, demo=True, snapshot=True, app=True),
    StartupPage("bare-mpy", "/bench/bare-micropython/", python=True, demo=False),
    StartupPage("floor-mpy", "/bench/floor-micropython/", python=True, demo=False),
    StartupPage("bare", "/bench/bare/", python=True, demo=False),
    StartupPage("seed", "/bench/seed/", python=False, demo=True),
    StartupPage("aar", "/bench/axios-auth-refresh/", python=False, demo=True),
)
PAGE_OF = {page.key: page for page in PAGES}
# The app's modules but main.py, and the library's, as the page gets them in one download:
# what the start-up breakdown imports first, to time them in place (bench/pyscript_hook.js).
APP_MODULES = [
    path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    for path in app_modules(REPO_ROOT)
    if path.endswith(".py")
]

# The steps of start-up, in ms since navigation start: (name, what it is). Resource
# Timing's responseEnd for a file, a mark of bench/pyscript_hook.js, or the ready mark.
STEPS = (
    ("page answered", "the HTML's last byte in"),
    ("core in", "PyScript's core in: core.bundle.js (core-*.js as published, on the bare page)"),
    ("dom-content-loaded", "the page's module scripts have run: PyScript's core is up"),
    ("config in", "the PyScript config (.toml) in"),
    ("runtime module in", "the interpreter's JavaScript (micropython.mjs, pyodide.asm.mjs) in"),
    ("wasm requested", "the interpreter's .wasm asked for"),
    ("wasm in", "... its last byte in"),
    ("wasm-start", "WebAssembly compile and instantiate started"),
    ("wasm-instantiated", "... done"),
    ("app files in", "the app's modules in (/app/modules.json)"),
    ("interpreter-ready", "PyScript's onReady: interpreter booted, files written"),
    ("pyscript-imported", "PyScript's own `pyscript` package imported (breakdown runs only)"),
    ("imports-done", "the app's modules imported (breakdown runs only)"),
    ("ready", "body[data-ready]: the page's buttons work"),
    ("first request sent", "GET /api/resources left"),
    ("first request answered", "... its answer in"),
)
_STEPS_JS = r"""() => {
    const at = {};
    const resources = performance.getEntriesByType("resource");
    const path = (entry) => new URL(entry.name).pathname;
    const first = (test) => resources.find((entry) => test(path(entry)));
    const last = (test) => resources.filter((entry) => test(path(entry))).at(-1);
    at["page answered"] = performance.getEntriesByType("navigation")[0].responseEnd;
    at["core in"] = first((p) => /\/core-[^/]+\.js$|core\.bundle\.js$/.test(p))?.responseEnd;
    at["config in"] = first((p) => p.endsWith(".toml"))?.responseEnd;
    at["runtime module in"] = first((p) => /(micropython|pyodide\.asm)\.mjs$/.test(p))?.responseEnd;
    const wasm = first((p) => /(micropython|pyodide\.asm)\.wasm$/.test(p));
    at["wasm requested"] = wasm?.startTime;
    at["wasm in"] = wasm?.responseEnd;
    at["app files in"] = last((p) => p.startsWith("/app/") && p !== "/app/main.py")?.responseEnd;
    for (const mark of performance.getEntriesByType("mark")) {
        if (mark.name.startsWith("bench:")) at[mark.name.slice(6)] ??= mark.startTime;
    }
    at["ready"] = window.__bench.readyAt;
    const api = first((p) => p === "/api/resources");
    at["first request sent"] = api?.startTime;
    at["first request answered"] = api?.responseEnd;
    return Object.fromEntries(Object.entries(at).filter(([, ms]) => ms != null));
}"""


@dataclass
class Startup:
    """One cold load, the demo, one warm reload, 300 requests, ten more demos."""

    cold_ms: float
    warm_ms: float
    cold_bytes: int  # on the wire: DevTools' encodedDataLength, compressed as sent
    warm_bytes: int
    js_heap: int | None = None  # memory after the demo: None when only start-up was timed
    wasm: int | None = None
    python_ready_ms: float | None = None  # PyScript's py:ready, before the page's script runs
    after_300: "Memory | None" = None  # after 300 requests at once with a broken token
    rounds: "list[Memory]" = field(default_factory=list)  # after the first and last round
    snapshot_ms: float | None = None  # start-up snapshot stored, after the cold ready
    cold_decoded: int | None = None  # the same responses' bodies as the page read them
    python_heap: int | None = None  # MicroPython's heap in use after the demo (gc.mem_alloc)
    cold_steps: dict[str, float] = field(default_factory=dict)  # STEPS, ms since navigation
    warm_steps: dict[str, float] = field(default_factory=dict)

    @property
    def memory(self) -> int | None:
        """JS heap plus the runtime's WebAssembly memory, after the demo."""
        return None if self.js_heap is None else self.js_heap + (self.wasm or 0)

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
    python_objects: int | None  # objects Python's collector tracks (Pyodide: gc.get_objects)
    python_heap: int | None = None  # bytes of MicroPython's heap in use (gc.mem_alloc)

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
    playwright: Playwright,
    launch: dict,
    origin: str,
    page_info: StartupPage,
    pair: TokenPair,
    *,
    full: bool = True,
    import_first: bool = False,
) -> Startup:
    """Cold load in a new profile, the demo, memory, a warm reload, then (pages with the
    demo) 300 requests at once and ten more demos, memory after each part.

    Not `full`: the cold load and the warm reload only. With `import_first`, the app's
    modules are imported just before its script runs, between two marks (the breakdown).
    """
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(profile, base_url=origin, **launch)
        try:
            context.add_init_script(HARNESS_JS)
            context.add_init_script(_logged_in_script(origin, pair))
            if page_info.python:
                context.add_init_script(PYSCRIPT_HOOK_JS)
            if import_first:
                context.add_init_script(f"window.__benchImportFirst = {json.dumps(APP_MODULES)};")
            return _measure_in(context, page_info, full)
        finally:
            context.close()


class _Wire:
    """What the page received since the last `start()`: on the wire, and decoded."""

    def __init__(self, cdp: CDPSession) -> None:
        self.encoded = 0
        self.decoded = 0
        cdp.send("Network.enable")
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.dataReceived", self._data)

    def _finished(self, event: dict) -> None:
        self.encoded += int(event["encodedDataLength"])

    def _data(self, event: dict) -> None:
        self.decoded += int(event["dataLength"])

    def start(self) -> None:
        """Count from zero again."""
        self.encoded = self.decoded = 0


def _load(page: Page, page_info: StartupPage, *, reload: bool) -> tuple[float, dict]:
    """(Re)load the page until it is ready: when it was (ms since navigation), its steps."""
    if reload:
        page.reload()
    else:
        page.goto(page_info.path)
    page.wait_for_selector(READY, state="attached", timeout=120_000)
    if page_info.app:
        page.wait_for_function(HOME_LOADED, timeout=60_000)  # the first request is answered
    page.wait_for_timeout(200)  # let the last loadingFinished events arrive
    steps = page.evaluate(_STEPS_JS) if page_info.python else {}
    return page.evaluate("() => window.__bench.readyAt"), steps


def _measure_in(context: BrowserContext, page_info: StartupPage, full: bool) -> Startup:
    page = context.pages[0] if context.pages else context.new_page()
    cdp = context.new_cdp_session(page)
    wire = _Wire(cdp)

    cold_ms, cold_steps = _load(page, page_info, reload=False)
    got = Startup(cold_ms, 0, wire.encoded, 0, cold_decoded=wire.decoded, cold_steps=cold_steps)
    got.python_ready_ms = page.evaluate("() => window.__bench.pythonReadyAt")
    if full:
        if page_info.demo:
            _demo(page)
        else:
            page.wait_for_function("() => window.__benchPython !== undefined")
        after_demo = _memory(page, cdp)
        got.js_heap, got.wasm = after_demo.js_heap, after_demo.wasm
        got.python_heap = after_demo.python_heap
    if page_info.snapshot:
        page.wait_for_function(SNAPSHOT_STORED, timeout=120_000)
        got.snapshot_ms = page.evaluate(SNAPSHOT_STORED) - cold_ms

    wire.start()
    got.warm_ms, got.warm_steps = _load(page, page_info, reload=True)
    got.warm_bytes = wire.encoded

    if full and page_info.demo:  # on the reloaded page: a reload after all this would time it
        _demo(page, fire=300)
        got.after_300 = _memory(page, cdp)
        for round_number in range(1, ROUNDS + 1):
            _demo(page)
            if round_number in (1, ROUNDS):
                page.wait_for_timeout(SETTLE_MS)
                got.rounds.append(_memory(page, cdp))
    return got


# When the page's worker stored its start-up snapshot (ms since navigation), else null.
SNAPSHOT_STORED = "() => performance.getEntriesByName('pyodide-snapshot')[0]?.startTime ?? null"


def _demo(page: Page, fire: int = 0) -> None:
    """Break the token, then one click on Send 3 requests (or `fire` requests at once)."""
    page.evaluate("token => localStorage.setItem('token', token)", BROKEN_TOKEN)
    click_once(page, fire)


# What Python holds, after a collection: on Pyodide the objects its collector tracks (run in
# a namespace of its own, which leaves the page's untouched); MicroPython has no
# gc.get_objects, but tells the bytes its heap has in use.
_PYTHON_HELD = """code => {
    const python = window.__benchPython;
    if (!python) return [null, null];
    if (python.loadPackage) {  // Pyodide
        const namespace = python.globals.get("dict")();
        try {
            return [python.runPython(code, { globals: namespace }), null];
        } finally {
            namespace.destroy();
        }
    }
    const gc = python.pyimport("gc");
    gc.collect();
    return [null, gc.mem_alloc()];
}"""
_PYODIDE_OBJECTS = "import gc; gc.collect(); len(gc.get_objects())"


def _memory(page: Page, cdp: CDPSession) -> Memory:
    """JS heap, WebAssembly memory and what Python holds, after a forced collection."""
    objects, heap = page.evaluate(_PYTHON_HELD, _PYODIDE_OBJECTS)
    cdp.send("HeapProfiler.collectGarbage")
    return Memory(
        js_heap=int(cdp.send("Runtime.getHeapUsage")["usedSize"]),
        wasm=page.evaluate("() => window.__benchWasmBytes ? window.__benchWasmBytes() : null"),
        python_objects=objects,
        python_heap=heap,
    )
