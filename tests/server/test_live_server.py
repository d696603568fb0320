"""A real ``python -m server_stub`` process on a real store: races, restarts, raw HTTP."""

import http.client
import subprocess
import sys
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from .support import (
    FORBIDDEN_MARKER,
    INDEX_HTML,
    PARALLEL_REFRESHES,
    REPO_ROOT,
    SEED_PASSWORD,
    ServerProcess,
    assert_exactly_one_successor,
    race_one_token,
)

pytestmark = pytest.mark.both_stores


def test_fifty_parallel_refreshes_with_one_token_issue_exactly_one_successor(
    live_server: ServerProcess, login: Callable[..., dict]
) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        token = login(http)["refreshToken"]

    responses = race_one_token([live_server.url], token)

    winner = assert_exactly_one_successor(live_server.db, token, responses)
    # The callers that lost the race got the winner's pair (graceful rotation): all 200.
    assert Counter(r.status_code for r in responses) == {200: PARALLEL_REFRESHES}
    # The losers were a race, not a theft: the winner's session carries on.
    next_pair = httpx.post(
        live_server.url + "/authorization/refresh", json={"refreshToken": winner}
    )
    assert next_pair.status_code == 200


def test_a_restart_keeps_users_sessions_and_the_signing_secret(
    start_server: Callable[..., ServerProcess], login: Callable[..., dict]
) -> None:
    before = start_server()
    with httpx.Client(base_url=before.url) as http:
        pair = login(http)
    before.stop()

    after = start_server(before.db)
    with httpx.Client(base_url=after.url) as http:
        bearer = {"Authorization": f"Bearer {pair['authorizationToken']}"}
        resources = http.get("/api/resources", headers=bearer)
        old_refresh = {"refreshToken": pair["refreshToken"]}
        first_use = http.post("/authorization/refresh", json=old_refresh)
        successor = {"refreshToken": first_use.json()["refreshToken"]}
        assert http.post("/authorization/refresh", json=successor).status_code == 200
        second_use = http.post("/authorization/refresh", json=old_refresh)
        relogin = login(http)

    assert resources.status_code == 200
    assert first_use.status_code == 200
    assert second_use.status_code == 401
    assert relogin["userId"] == pair["userId"]


def test_raw_traversal_requests_never_reach_files_outside_the_served_folders(
    live_server: ServerProcess,
) -> None:
    # http.client sends the path as written; httpx would normalise the dot segments away.
    paths = [
        "/../pyproject.toml",
        "/../../outside.txt",
        "/static/../pyproject.toml",
        "/static/../../outside.txt",
        "/app/../pyproject.toml",
        "/app/../server_stub/app.py",
        "/app/%2e%2e/pyproject.toml",
        "/static/%2e%2e/%2e%2e/outside.txt",
        "/static/..%2f..%2foutside.txt",
        "/static/..\\..\\outside.txt",
        "/static//etc/passwd",
        "/static/escape.txt",
        "/server_stub/app.py",
        "/pyproject.toml",
        "/./pyproject.toml",
    ]
    answers = {}
    for path in paths:
        connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        answers[path] = (response.status, response.read().decode(errors="replace"))
        connection.close()

    assert {path: status for path, (status, _) in answers.items()} == dict.fromkeys(paths, 404)
    assert not [path for path, (_, body) in answers.items() if FORBIDDEN_MARKER in body]


def test_the_real_server_serves_the_page_for_client_routes(live_server: ServerProcess) -> None:
    response = httpx.get(live_server.url + "/login")

    assert response.status_code == 200
    assert response.text == INDEX_HTML


def test_the_server_announces_its_address_and_never_logs_tokens_or_passwords(
    live_server: ServerProcess, login: Callable[..., dict]
) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        first = login(http)
        second = http.post(
            "/authorization/refresh", json={"refreshToken": first["refreshToken"]}
        ).json()
        for token in (first["refreshToken"], second["authorizationToken"]):
            http.get("/api/resources", headers={"Authorization": f"Bearer {token}"})
        http.post("/authorization/logout", json={"refreshToken": second["refreshToken"]})
        http.post("/authorization/refresh", json={"refreshToken": second["refreshToken"]})
        http.post("/authorization/token", json={"userName": "x", "password": "Wrong-Pass-9"})
    live_server.stop()

    log = live_server.log()
    assert f"serving on http://127.0.0.1:{live_server.port}" in log
    # The access log is on and shows every call, by method and path only.
    for line in (
        'POST /authorization/token HTTP/1.1" 200',
        'POST /authorization/refresh HTTP/1.1" 200',
        'GET /api/resources HTTP/1.1" 200',
        'GET /api/resources HTTP/1.1" 401',
        'POST /authorization/logout HTTP/1.1" 204',
        'POST /authorization/refresh HTTP/1.1" 401',
        'POST /authorization/token HTTP/1.1" 401',
    ):
        assert line in log
    secrets = [value for value in (*first.values(), *second.values()) if isinstance(value, str)]
    for secret in [*secrets, SEED_PASSWORD, "Wrong-Pass-9"]:
        if len(secret) > 6:
            assert secret not in log


def test_the_command_line_documents_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server_stub", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    for option in ("--host", "--port", "--db", "--access-ttl", "--refresh-ttl", "--web-root"):
        assert option in result.stdout
