"""Every response, page or API, success or error, carries the security headers."""

import base64
import hashlib
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.headers import CONTENT_SECURITY_POLICY

from .support import REPO_ROOT, SEED_PASSWORD, SEED_USER

pytestmark = pytest.mark.both_stores

JSON = {"Content-Type": "application/json"}
CREDENTIALS = {"userName": SEED_USER, "password": SEED_PASSWORD}

# (method, path, keyword arguments for the request, the status it must get)
REQUESTS = {
    "page": ("GET", "/", {}, 200),
    "client route": ("GET", "/login", {}, 200),
    "page head": ("HEAD", "/", {}, 200),
    "pyscript.toml": ("GET", "/pyscript.toml", {}, 200),
    "app file": ("GET", "/app/main.py", {}, 200),
    "static file": ("GET", "/static/runtime.mjs", {}, 200),
    "missing static file": ("GET", "/static/nothing.js", {}, 404),
    "schema": ("GET", "/openapi.json", {}, 200),
    "login": ("POST", "/authorization/token", {"json": CREDENTIALS}, 200),
    "no token": ("GET", "/api/resources", {}, 401),
    "unknown api path": ("GET", "/api/nothing", {}, 404),
    "wrong method": ("GET", "/authorization/token", {}, 405),
    "too large": ("POST", "/authorization/token", {"content": b"x" * 20_000, "headers": JSON}, 413),
    "not json": ("POST", "/authorization/token", {"data": {"userName": "a"}}, 415),
    "missing field": ("POST", "/authorization/refresh", {"json": {}}, 422),
}


def _assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), REQUESTS.values(), ids=REQUESTS)
def test_every_kind_of_response_carries_the_security_headers(
    shared_client: TestClient, method: str, path: str, kwargs: dict, status: int
) -> None:
    response = shared_client.request(method, path, **kwargs)

    assert response.status_code == status
    _assert_security_headers(response)


def test_a_refused_login_carries_them_too(make_client: Callable[..., TestClient]) -> None:
    client = make_client(login_attempts=1)
    client.post("/authorization/token", json={**CREDENTIALS, "password": "wrong"})

    response = client.post("/authorization/token", json=CREDENTIALS)

    assert response.status_code == 429
    _assert_security_headers(response)


def test_an_unexpected_server_error_carries_them_too(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    app = client.app

    @app.get("/api/crash")
    def crash() -> None:
        raise RuntimeError("boom")

    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the page's catch-all
    client = TestClient(app, raise_server_exceptions=False)

    response = client.get("/api/crash")

    assert response.status_code == 500
    assert response.json() == {"error": "server_error", "message": "unexpected server error"}
    _assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_the_policy_forbids_inline_code_other_origins_and_framing() -> None:
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in CONTENT_SECURITY_POLICY.split("; ")
    )

    assert directives["default-src"] == ["'self'"]
    # One inline script: the library's JavaScript half, by its hash.
    library_half = (REPO_ROOT / "refresh-gate/refresh_gate/browser_calls.js").read_bytes()
    digest = base64.b64encode(hashlib.sha256(library_half).digest()).decode()
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'", f"'sha256-{digest}'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    every_source = [source for sources in directives.values() for source in sources]
    assert not [s for s in every_source if s in ("'unsafe-inline'", "'unsafe-eval'", "*")]
    assert not [s for s in every_source if "://" in s or s in ("http:", "https:", "data:")]


def test_the_schema_is_served_but_the_interactive_docs_are_not(shared_client: TestClient) -> None:
    schema = shared_client.get("/openapi.json").json()
    docs = shared_client.get("/docs")
    redoc = shared_client.get("/redoc")

    assert set(schema["paths"]) == {
        "/authorization/token",
        "/authorization/refresh",
        "/authorization/logout",
        "/api/resources",
        "/oauth/token",
        "/oauth/revoke",
    }
    for page in (docs, redoc):  # no Swagger UI: just the app's own page for a client route
        assert "swagger" not in page.text.lower() and "redoc" not in page.text.lower()
