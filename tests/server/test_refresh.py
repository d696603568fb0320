"""POST /authorization/refresh and /logout: rotation, reuse detection, expiry, sessions."""

import hashlib
import sqlite3
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from server_stub.config import Config

from .support import SEED_USER, FakeClock


def _refresh(client: TestClient, token: str) -> httpx.Response:
    return client.post("/authorization/refresh", json={"refreshToken": token})


def _logout(client: TestClient, token: str) -> httpx.Response:
    return client.post("/authorization/logout", json={"refreshToken": token})


def _assert_invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == "invalid_grant"


def test_refresh_returns_a_new_pair_whose_access_token_works(
    client: TestClient, login: Callable[..., dict]
) -> None:
    first = login(client)

    response = _refresh(client, first["refreshToken"])

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert set(second) == {"userId", "authorizationToken", "refreshToken", "expiresIn"}
    assert second["userId"] == first["userId"]
    assert second["refreshToken"] != first["refreshToken"]
    assert second["authorizationToken"] != first["authorizationToken"]
    resources = client.get(
        "/api/resources", headers={"Authorization": f"Bearer {second['authorizationToken']}"}
    )
    assert resources.text == f"protected resources, username: {SEED_USER}"


def test_a_refresh_token_can_be_spent_only_once(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["refreshToken"]
    successor = _refresh(client, token).json()["refreshToken"]

    _assert_invalid_grant(_refresh(client, token))
    # Right after spending, a duplicate is a racing tab, not a thief: the session lives on.
    assert _refresh(client, successor).status_code == 200


def test_replaying_a_spent_token_revokes_its_session_so_the_successor_fails_too(
    client: TestClient, login: Callable[..., dict], clock: FakeClock, config: Config
) -> None:
    token = login(client)["refreshToken"]
    successor = _refresh(client, token).json()["refreshToken"]
    clock.advance(config.reuse_grace + 1)

    replay = _refresh(client, token)

    _assert_invalid_grant(replay)
    assert "reused" in replay.json()["message"]
    _assert_invalid_grant(_refresh(client, successor))


def test_without_a_grace_period_any_replay_revokes_the_session(
    make_client: Callable[..., TestClient], login: Callable[..., dict]
) -> None:
    client = make_client(reuse_grace=0)
    token = login(client)["refreshToken"]
    successor = _refresh(client, token).json()["refreshToken"]

    _assert_invalid_grant(_refresh(client, token))
    _assert_invalid_grant(_refresh(client, successor))


def test_an_unknown_refresh_token_is_an_invalid_grant(client: TestClient) -> None:
    _assert_invalid_grant(_refresh(client, "not-a-token-this-server-issued"))


def test_a_refresh_token_expires_after_refresh_ttl(
    make_client: Callable[..., TestClient], login: Callable[..., dict], clock: FakeClock
) -> None:
    client = make_client(refresh_ttl=60)
    token = login(client)["refreshToken"]
    clock.advance(61)

    response = _refresh(client, token)

    _assert_invalid_grant(response)
    assert "expired" in response.json()["message"]


def test_a_refresh_token_still_works_just_before_it_expires(
    make_client: Callable[..., TestClient], login: Callable[..., dict], clock: FakeClock
) -> None:
    client = make_client(refresh_ttl=60)
    token = login(client)["refreshToken"]
    clock.advance(59)

    assert _refresh(client, token).status_code == 200


def test_logout_answers_204_and_ends_the_session(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["refreshToken"]

    response = _logout(client, token)

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    _assert_invalid_grant(_refresh(client, token))


def test_logout_with_a_spent_token_still_ends_the_whole_session(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["refreshToken"]
    successor = _refresh(client, token).json()["refreshToken"]

    assert _logout(client, token).status_code == 204

    _assert_invalid_grant(_refresh(client, successor))


def test_logout_is_idempotent_and_quiet_about_unknown_tokens(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["refreshToken"]

    assert _logout(client, token).status_code == 204
    assert _logout(client, token).status_code == 204
    assert _logout(client, "never-issued").status_code == 204


def test_a_second_device_logging_in_keeps_the_first_device_logged_in(
    client: TestClient, login: Callable[..., dict]
) -> None:
    laptop = login(client)["refreshToken"]
    phone = login(client)["refreshToken"]

    laptop_next = _refresh(client, laptop)
    assert laptop_next.status_code == 200
    assert _logout(client, phone).status_code == 204

    assert _refresh(client, laptop_next.json()["refreshToken"]).status_code == 200


def test_refresh_tokens_are_stored_only_as_sha256_hashes(
    client: TestClient, login: Callable[..., dict], config: Config
) -> None:
    token = login(client)["refreshToken"]

    with sqlite3.connect(config.db_path) as db:
        hashes = [row[0] for row in db.execute("SELECT hash FROM refresh_tokens")]
    raw = b"".join(
        path.read_bytes()
        for path in config.db_path.parent.iterdir()
        if path.name.startswith("auth.db") and not path.name.endswith(".secret")
    )
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    assert token.encode() not in raw


def test_database_uses_write_ahead_logging(client: TestClient, config: Config) -> None:
    with sqlite3.connect(config.db_path) as db:
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()

    assert mode == "wal"
