"""A reload takes the runtime from the browser's cache and asks again only for the app's files.

The browser gets a profile on disk, as a person's browser has: Playwright's usual incognito
contexts keep their cache in memory, where Pyodide's 9.6 MB WebAssembly file never fits.
"""

from pathlib import Path

from playwright.sync_api import BrowserType

from .support import wait_ready

# What the browser fetched for the page, and how many bytes crossed the wire for each.
RESOURCES = """() => performance.getEntriesByType("resource").map(
    (entry) => [new URL(entry.name).pathname, entry.transferSize])"""


def test_a_reload_downloads_none_of_the_runtime_and_revalidates_the_app(
    browser_type: BrowserType, browser_type_launch_args: dict, base_url: str, tmp_path: Path
) -> None:
    context = browser_type.launch_persistent_context(
        tmp_path / "profile", base_url=base_url, **browser_type_launch_args
    )
    page = context.pages[0]
    page.goto("/login")
    wait_ready(page)
    cold_list = page.evaluate(RESOURCES)
    cold = dict(cold_list)

    page.reload()
    wait_ready(page)
    warm = page.evaluate(RESOURCES)
    context.close()

    runtime = {path: size for path, size in warm if path.startswith("/static/vendor/")}
    app = {path: size for path, size in warm if path.startswith("/app/")}
    # index.html preloads what PyScript fetches later; a preload that doesn't match the later
    # request downloads the file twice.
    paths = [path for path, _ in cold_list]
    assert len(paths) == len(set(paths)), f"fetched twice: {sorted(paths)}"
    assert sum(cold[path] for path in runtime) > 5_000_000  # the runtime was on the wire once
    assert runtime, "the reload loaded no runtime file"
    assert set(runtime.values()) == {0}, f"fetched again on reload: {runtime}"
    # The app's own files are asked for again: a 304 costs its headers, never zero bytes.
    assert "/app/gate.py" in app
    assert all(size > 0 for size in app.values()), app
    assert all(size < 1_000 for size in app.values()), f"sent in full again: {app}"
