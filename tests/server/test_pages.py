"""The page and its files are served from web_root, and nothing else from the disk."""

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .support import FORBIDDEN_MARKER, INDEX_HTML

PYODIDE_HTML = "<!doctype html><title>stub Pyodide page</title>"
PYODIDE_TOML = 'name = "stub on Pyodide"\n'


@pytest.mark.parametrize(
    "path", ["/", "/index.html", "/login", "/some/client/route", "/login/", "/docs"]
)
def test_the_page_and_its_client_routes_get_index_html(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == INDEX_HTML


def test_head_of_the_page_answers_without_a_body(shared_client: TestClient) -> None:
    response = shared_client.head("/login")

    assert response.status_code == 200
    assert response.content == b""


def test_pyscript_toml_is_served(shared_client: TestClient) -> None:
    response = shared_client.get("/pyscript.toml")

    assert response.status_code == 200
    assert response.text == 'name = "stub"\n'


def test_python_files_under_app_are_served(shared_client: TestClient) -> None:
    response = shared_client.get("/app/main.py")

    assert response.status_code == 200
    assert response.text == "print('hello from app')\n"


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/static/runtime.mjs", "text/javascript"),
        ("/static/legacy.js", "text/javascript"),
        ("/static/runtime.wasm", "application/wasm"),
    ],
)
def test_runtime_files_carry_the_mime_types_browsers_require(
    shared_client: TestClient, path: str, media_type: str
) -> None:
    response = shared_client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].partition(";")[0] == media_type


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/index.html",
        "/login",
        "/some/client/route",
        "/pyscript.toml",
        "/app/main.py",
        "/static/runtime.mjs",
        "/static/legacy.js",
        "/static/runtime.wasm",
        "/static/vendor/runtime/1.2.3/runtime.mjs",
    ],
)
def test_page_responses_are_not_marked_no_store(shared_client: TestClient, path: str) -> None:
    """Only the API is no-store; the page and its files may be cached (and revalidated)."""
    response = shared_client.get(path)
    directives = {
        part.strip().partition("=")[0].lower()
        for part in response.headers.get("cache-control", "").split(",")
    }

    assert response.status_code == 200
    assert "no-store" not in directives


@pytest.mark.parametrize(
    "path",
    [
        "/static/missing.js",
        "/app/missing.py",
        "/favicon.ico",
        "/app",
        "/static",
        "/static/",
        "/pyproject.toml",
        "/server_stub/app.py",
        "/app/%2e%2e/pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/%2E%2E/%2E%2E/outside.txt",
        "/static/..%2fpyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2foutside.txt",
        "/%2e%2e/pyproject.toml",
        "/static/escape.txt",
        "/static/%00",
        "/static/" + "a" * 5000,
    ],
)
def test_anything_else_on_disk_is_a_404(shared_client: TestClient, path: str) -> None:
    response = shared_client.get(path)

    assert response.status_code == 404
    assert FORBIDDEN_MARKER not in response.text
    assert set(response.json()) == {"error", "message"}


def test_a_missing_index_html_is_a_404_not_an_error(client: TestClient, web_root: Path) -> None:
    (web_root / "index.html").unlink()

    assert client.get("/login").status_code == 404
    assert client.get("/").status_code == 404


def test_a_missing_static_folder_is_a_404_not_an_error(client: TestClient, web_root: Path) -> None:
    shutil.rmtree(web_root / "static")

    assert client.get("/static/runtime.mjs").status_code == 404


@pytest.mark.parametrize("path", ["/", "/login", "/static/runtime.mjs"])
def test_posting_to_the_page_is_a_405(client: TestClient, path: str) -> None:
    response = client.post(path)

    assert response.status_code == 405
    assert set(response.json()) == {"error", "message"}


@pytest.fixture
def pyodide_page(web_root: Path) -> Path:
    """The web root with the second entry page, pyodide.html, and its config."""
    (web_root / "pyodide.html").write_text(PYODIDE_HTML)
    (web_root / "pyodide.toml").write_text(PYODIDE_TOML)
    return web_root


@pytest.mark.parametrize(
    "path", ["/pyodide", "/pyodide/", "/pyodide/login", "/pyodide/some/client/route"]
)
def test_the_pyodide_page_and_its_client_routes_get_pyodide_html(
    client: TestClient, pyodide_page: Path, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == PYODIDE_HTML


def test_pyodide_toml_is_served(client: TestClient, pyodide_page: Path) -> None:
    response = client.get("/pyodide.toml")

    assert response.status_code == 200
    assert response.text == PYODIDE_TOML


@pytest.mark.parametrize(
    ("path", "like"),
    [("/pyodide", "/"), ("/pyodide/login", "/login"), ("/pyodide.toml", "/pyscript.toml")],
)
def test_the_pyodide_page_is_cached_and_revalidated_like_the_default_one(
    client: TestClient, pyodide_page: Path, path: str, like: str
) -> None:
    response = client.get(path)
    revalidated = client.get(path, headers={"If-None-Match": response.headers["etag"]})

    assert response.headers["cache-control"] == client.get(like).headers["cache-control"]
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["cache-control"] == response.headers["cache-control"]


def test_head_of_the_pyodide_page_answers_without_a_body(
    client: TestClient, pyodide_page: Path
) -> None:
    response = client.head("/pyodide/login")

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/pyodide.html",
        "/pyodide/index.html",
        "/pyodide/pyodide.toml",
        "/pyodide/app",
        "/pyodide/static/app.css",
        "/pyodide/app/main.py",
        "/pyodide/%2e%2e/pyproject.toml",
    ],
)
def test_nothing_else_is_served_below_or_beside_the_pyodide_page(
    client: TestClient, pyodide_page: Path, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert set(response.json()) == {"error", "message"}


def test_a_missing_pyodide_html_is_a_404_not_the_default_page(client: TestClient) -> None:
    assert client.get("/pyodide").status_code == 404
    assert client.get("/pyodide/login").status_code == 404
    assert client.get("/pyodide.toml").status_code == 404


def test_posting_to_the_pyodide_page_is_a_405(client: TestClient, pyodide_page: Path) -> None:
    assert client.post("/pyodide/login").status_code == 405


def test_the_librarys_wheel_is_served_from_dist_and_revalidated(
    client: TestClient, web_root: Path
) -> None:
    (web_root / "dist").mkdir()
    wheel = b"PK\x05\x06" + bytes(18)  # an empty zip archive stands in for the wheel
    (web_root / "dist" / "refresh_gate-9.9.9-py3-none-any.whl").write_bytes(wheel)

    response = client.get("/dist/refresh_gate-9.9.9-py3-none-any.whl")
    again = client.get(
        "/dist/refresh_gate-9.9.9-py3-none-any.whl",
        headers={"If-None-Match": response.headers["etag"]},
    )

    assert response.status_code == 200
    assert response.content == wheel
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-cache"  # rebuilt under one name
    assert again.status_code == 304
    assert client.get("/dist/refresh_gate-0.0.0-py3-none-any.whl").status_code == 404
    assert client.get("/dist").status_code == 404  # a served folder, not a client route
