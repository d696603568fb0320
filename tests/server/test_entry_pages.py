"""The two entry pages show the same app: only their interpreter and route prefix differ."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _body(page: str) -> str:
    html = (ROOT / page).read_text()
    return html[html.index("<body") : html.index("</body>")]


def _normalized(body: str) -> str:
    body = body.replace(' data-base="/pyodide"', "")
    return re.sub(
        r'<script type="m?py" src="/app/main.py" config="[^"]+"></script>', "SCRIPT", body
    )


def test_both_entry_pages_have_the_same_markup_but_for_the_interpreter() -> None:
    micropython, pyodide = _body("index.html"), _body("pyodide.html")

    assert '<script type="mpy" src="/app/main.py" config="/pyscript.toml">' in micropython
    assert '<script type="py" src="/app/main.py" config="/pyodide.toml">' in pyodide
    assert 'data-base="/pyodide"' in pyodide
    assert _normalized(micropython) == _normalized(pyodide)


@pytest.mark.parametrize(
    ("page", "config"), [("index.html", "pyscript.toml"), ("pyodide.html", "pyodide.toml")]
)
def test_both_pages_get_the_app_modules_in_one_download_asked_for_at_once(
    page: str, config: str
) -> None:
    """The tag is here; that it is used, the page's fetch of /app/modules.json taking the
    preloaded download instead of asking again, only a browser shows:
    tests/e2e/test_caching.py::test_a_reload_downloads_none_of_the_runtime_and_revalidates_the_app
    fails on any file fetched twice, on both pages."""
    head = (ROOT / page).read_text().split("<body")[0]

    assert '<script type="module" src="/static/app-start.js"' in head
    assert '<link rel="preload" href="/app/modules.json" as="fetch" crossorigin>' in head
    # A module listed in [files] as well would be fetched again, on its own.
    assert "files" not in tomllib.loads((ROOT / config).read_text())
