"""`--bench` serves the benchmark's pages under /bench/; without it, nothing of bench/ is served."""

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server_stub.__main__ import parse_args

from .support import INDEX_HTML

CONTESTANT_PAGE = "<!doctype html><title>contestant</title>"


@pytest.fixture
def bench_root(web_root: Path) -> Path:
    """A bench/ folder like the repository's: contestants, copied libraries, and the rest."""
    root = web_root / "bench"
    (root / "contestants" / "seed").mkdir(parents=True)
    (root / "contestants" / "seed" / "index.html").write_text(CONTESTANT_PAGE)
    (root / "contestants" / "seed" / "main.js").write_text("export {};\n")
    (root / "vendor").mkdir()
    (root / "vendor" / "axios.js").write_text("export default {};\n")
    (root / "run.py").write_text("print('the harness, never served')\n")
    return root


def test_bench_mode_serves_the_contestants_and_their_libraries(
    make_client: Callable[..., TestClient], bench_root: Path
) -> None:
    client = make_client(bench_root=bench_root)

    page = client.get("/bench/seed/")
    script = client.get("/bench/seed/main.js")
    library = client.get("/bench/vendor/axios.js")

    assert page.status_code == 200
    assert page.text == CONTESTANT_PAGE
    assert script.headers["content-type"].startswith("text/javascript")
    assert library.text == "export default {};\n"
    assert client.get("/bench/run.py").status_code == 404


def test_without_bench_mode_nothing_under_bench_is_served(
    client: TestClient, bench_root: Path
) -> None:
    assert client.get("/bench/seed/main.js").status_code == 404
    assert client.get("/bench/vendor/axios.js").status_code == 404
    assert client.get("/bench/seed/").text == INDEX_HTML  # just another client route


def test_the_bench_flag_is_off_by_default() -> None:
    assert parse_args([]).bench is False
    assert parse_args(["--bench"]).bench is True
