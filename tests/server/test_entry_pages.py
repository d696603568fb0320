"""The two entry pages show the same app: only their interpreter and route prefix differ."""

import re
from pathlib import Path

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


def _files(config: str) -> list[str]:
    text = (ROOT / config).read_text()
    return re.findall(r'^"(/app/[^"]+)" = "\./app/[^"]+"$', text[text.index("[files]") :], re.M)


def test_both_configs_ship_every_app_module_but_the_entry_point() -> None:
    modules = sorted(f"/app/{path.name}" for path in (ROOT / "app").glob("*.py"))

    assert sorted(_files("pyscript.toml")) == [m for m in modules if m != "/app/main.py"]
    assert _files("pyodide.toml") == _files("pyscript.toml")
