"""A reload takes the runtime from the browser's cache and asks again only for the app's files.

The browser gets a profile on disk, as a person's browser has: Playwright's usual incognito
contexts keep their cache in memory, where Pyodide's WebAssembly file never fits. The two
pages load different runtime files (MicroPython's or Pyodide's, beside PyScript's own);
what a user notices is the same on both: a reload downloads none of them again.
"""

from pathlib import Path

from playwright.sync_api import BrowserType

from tests.e2e.support import (
    INTERPRETERS,
    Interpreter,
    NetworkLog,
    assert_clean,
    wait_ready,
    watch_for_errors,
)

# What the browser fetched for the page, and how many bytes crossed the wire for each.
RESOURCES = """() => performance.getEntriesByType("resource").map(
    (entry) => [new URL(entry.name).pathname, entry.transferSize])"""
# Each interpreter's WebAssembly, the largest file its page loads.
WASM = {"micropython": "micropython.wasm", "pyodide": "pyodide.asm.wasm"}


def test_a_reload_downloads_none_of_the_runtime_and_revalidates_the_app(
    browser_type: BrowserType,
    browser_type_launch_args: dict,
    base_url: str,
    tmp_path: Path,
    interpreter: Interpreter,
) -> None:
    context = browser_type.launch_persistent_context(
        tmp_path / "profile", base_url=base_url, **browser_type_launch_args
    )
    errors = watch_for_errors(context)
    log = NetworkLog()
    context.on("request", log.on_request)
    page = context.pages[0]
    page.goto(interpreter.url("/login"))
    wait_ready(page)
    cold_list = page.evaluate(RESOURCES)
    cold = dict(cold_list)

    page.reload()
    wait_ready(page)
    warm = page.evaluate(RESOURCES)
    assert_clean(context, errors, log)
    context.close()

    runtime = {path: size for path, size in warm if path.startswith("/static/vendor/")}
    app = {path: size for path, size in warm if path.startswith("/app/")}
    wasm = next(path for path in cold if path.endswith("/" + WASM[interpreter.name]))
    # index.html preloads what PyScript fetches later; a preload that doesn't match the later
    # request downloads the file twice. This is the check that the pages' preload of
    # /app/modules.json is used (tests/server/test_entry_pages.py only finds the tag).
    paths = [path for path, _ in cold_list]
    assert len(paths) == len(set(paths)), f"fetched twice: {sorted(paths)}"
    assert wasm.startswith(interpreter.runtime)
    assert cold[wasm] > 0  # the interpreter came over the wire once
    others = [each.runtime for each in INTERPRETERS.values() if each != interpreter]
    assert not [path for path in paths if path.startswith(tuple(others))], "the other runtime"
    assert wasm in runtime, "the reload loaded no interpreter"
    assert set(runtime.values()) == {0}, f"fetched again on reload: {runtime}"
    # The app's own files are asked for again: a 304 costs its headers, never zero bytes.
    assert "/app/modules.json" in app
    assert "/app/main.py" in app
    assert all(size > 0 for size in app.values()), app
    assert all(size < 1_000 for size in app.values()), f"sent in full again: {app}"
