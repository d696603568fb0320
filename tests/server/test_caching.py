"""Browsers keep the versioned runtime for good and revalidate the app's own files.

A warm reload then fetches nothing of the 13 MB runtime, and an edited app file is never
served stale: its 304 stops matching once the file changes.
"""

import json
import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .support import INDEX_HTML, REPO_ROOT, VENDORED_JS

YEAR = 365 * 24 * 3600
APP_FILES = [
    "/",
    "/index.html",
    "/login",
    "/pyscript.toml",
    "/app/main.py",
    "/app/modules.json",
    "/static/legacy.js",
]


def max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match.group(1)) if match else 0


def test_the_vendored_runtime_is_cached_for_a_year_without_revalidation(
    shared_client: TestClient,
) -> None:
    response = shared_client.get("/static/vendor/runtime/1.2.3/runtime.mjs")

    assert response.status_code == 200
    assert response.text == VENDORED_JS
    cache_control = response.headers["cache-control"]
    assert "immutable" in cache_control
    assert max_age(cache_control) >= YEAR
    assert "no-cache" not in cache_control


@pytest.mark.parametrize("path", APP_FILES)
def test_the_apps_own_files_are_revalidated_on_every_use(
    shared_client: TestClient, path: str
) -> None:
    response = shared_client.get(path)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert "immutable" not in response.headers["cache-control"]
    assert response.headers["etag"]


@pytest.mark.parametrize("path", APP_FILES)
def test_an_unchanged_app_file_revalidates_to_an_empty_304(
    shared_client: TestClient, path: str
) -> None:
    etag = shared_client.get(path).headers["etag"]

    response = shared_client.get(path, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["cache-control"] == "no-cache"


def test_an_edited_app_file_is_sent_again_not_a_304(client: TestClient, web_root: Path) -> None:
    first = client.get("/")
    stat = (web_root / "index.html").stat()
    (web_root / "index.html").write_text(INDEX_HTML + "<p>edited</p>")
    os.utime(web_root / "index.html", (stat.st_atime + 5, stat.st_mtime + 5))

    response = client.get("/", headers={"If-None-Match": first.headers["etag"]})

    assert response.status_code == 200
    assert response.text.endswith("<p>edited</p>")


def test_a_missing_vendored_file_is_a_404(shared_client: TestClient) -> None:
    response = shared_client.get("/static/vendor/runtime/1.2.4/runtime.mjs")

    assert response.status_code == 404
    assert "immutable" not in response.headers.get("cache-control", "")


# Each vendored folder's name under static/vendor/, and the package.json pin it is named for.
RUNTIMES = {
    "pyscript": "@pyscript/core",
    "pyodide": "pyodide",
    "micropython": "@micropython/micropython-webassembly-pyscript",
}
# Where a vendored path may be written: the entry pages, their configs, the modules that
# import the runtime, the example page, and the benchmark's own pages.
NAMING_FILES = [
    "*.html",
    "pyscript.toml",
    "pyodide.toml",
    "examples/*/*.html",
    "examples/*/*.toml",
    "static/*.js",
    "static/*.mjs",
    "bench/*.js",
    "bench/contestants/*/*.html",
    "bench/contestants/*/*.toml",
]
# Every mention of the vendored folder, and the same read as (runtime folder, version): a
# mention the second does not read (no version folder, say) is no pinned path either.
VENDOR_MENTION = re.compile(r"/static/vendor/[^\s\"'`]*")
VENDORED_PATH = re.compile(r"/static/vendor/(\w+)/([^/\s\"'`]+)/")


def _pinned() -> set[tuple[str, str]]:
    pins = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]
    return {(folder, pins[package]) for folder, package in RUNTIMES.items()}


def _vendored_paths_named_in(name: str) -> list[tuple[str, str] | None]:
    """Each mention of /static/vendor/ in the file as (runtime folder, version), or None
    where it names no version folder."""
    mentions = VENDOR_MENTION.findall((REPO_ROOT / name).read_text())
    return [path.groups() if (path := VENDORED_PATH.match(m)) else None for m in mentions]


def _files_naming_the_runtime() -> list[str]:
    """The files of `NAMING_FILES` that mention the vendored folder at all."""
    found = {path for pattern in NAMING_FILES for path in REPO_ROOT.glob(pattern)}
    named = [str(path.relative_to(REPO_ROOT)) for path in found]
    return sorted(name for name in named if _vendored_paths_named_in(name))


@pytest.mark.parametrize("name", _files_naming_the_runtime())
def test_every_runtime_path_names_the_pinned_version(name: str) -> None:
    """A cached-for-good path must change with the version, or browsers keep the old runtime."""
    assert set(_vendored_paths_named_in(name)) <= _pinned()


@pytest.mark.parametrize(
    ("name", "runtime"),
    [
        ("index.html", "pyscript"),
        ("pyscript.toml", "micropython"),
        ("static/no-eval.js", "pyscript"),
        ("static/app-start.js", "pyscript"),
        ("static/pyodide-boot.mjs", "pyodide"),
    ],
)
def test_the_runtimes_entry_points_name_a_vendored_path(name: str, runtime: str) -> None:
    """So that the test above has something to compare in each of them."""
    assert runtime in {path[0] for path in _vendored_paths_named_in(name) if path}


def test_the_files_checked_name_every_pinned_runtime_at_its_version() -> None:
    """So that the version test cannot pass by finding no file to check, or none of a
    runtime's (a pattern of `NAMING_FILES` gone stale, say)."""
    files = _files_naming_the_runtime()
    named = {path for name in files for path in _vendored_paths_named_in(name)}
    assert _pinned() <= named, files
