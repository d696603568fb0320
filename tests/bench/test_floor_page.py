"""`make bench` compares the MicroPython page with PyScript's floor: the same page with none
of the app's Python. The comparison says something only while the floor page gets PyScript,
the interpreter and the app's files exactly as index.html does."""

from html.parser import HTMLParser
from pathlib import Path

from tests.server.support import REPO_ROOT

APP_SCRIPT = "/app/main.py"
FLOOR_SCRIPT = "/bench/bare-micropython/main.py"


class _Loads(HTMLParser):
    """Every <script> and <link> of a page, in order, as (tag, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link"):
            self.loads.append((tag, dict(attrs)))


def _loads(page: Path) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Loads()
    parser.feed(page.read_text())
    return parser.loads


def test_the_floor_page_loads_what_the_app_page_loads_but_the_apps_python() -> None:
    app = _loads(REPO_ROOT / "index.html")
    floor = _loads(REPO_ROOT / "bench" / "contestants" / "floor-micropython" / "index.html")

    def as_on_the_floor(load: tuple[str, dict[str, str | None]]) -> tuple[str, dict]:
        tag, attrs = load
        swapped = {
            name: FLOOR_SCRIPT if value == APP_SCRIPT else value for name, value in attrs.items()
        }
        return tag, swapped

    assert any(attrs.get("src") == APP_SCRIPT for _, attrs in app)  # the one thing swapped
    assert floor == [as_on_the_floor(load) for load in app]


def test_the_floor_pages_python_imports_nothing_of_the_app() -> None:
    script = (REPO_ROOT / "bench" / "contestants" / "bare-micropython" / "main.py").read_text()

    assert "app" not in {
        line.split()[1].split(".")[0]
        for line in script.splitlines()
        if line.startswith(("import ", "from "))
    }
