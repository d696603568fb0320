"""POST /authorization/refresh and /logout: rotation, reuse detection, expiry, sessions."""

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.config import Config

from .support import SEED_USER, FakeClock, query

pytestmark = pytest.mark.both_stores


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


def _live_tokens(config: Config) -> list[str]:
    """Hashes of the unspent refresh tokens of live sessions."""
    rows = query(
        _db(config),
        "SELECT t.hash FROM refresh_tokens t JOIN families f ON f.id = t.family_id"
        " WHERE t.spent_at IS NULL AND f.revoked_at IS NULL",
    )
    return [row[0] for row in rows]


def _db(config: Config) -> Path | str:
    return config.db_url or config.db_path


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_a_lost_answer_retried_within_the_grace_gets_the_same_pair(
    client: TestClient, login: Callable[..., dict], clock: FakeClock, config: Config
) -> None:
    token = login(client)["refreshToken"]
    first = _refresh(client, token).json()  # the server answered; the client never saw it
    clock.advance(config.reuse_grace - 1)

    retry = _refresh(client, token)

    assert retry.status_code == 200
    assert retry.headers["cache-control"] == "no-store"
    again = retry.json()
    assert again["refreshToken"] == first["refreshToken"]
    assert again["userId"] == first["userId"]
    resources = client.get(
        "/api/resources", headers={"Authorization": f"Bearer {again['authorizationToken']}"}
    )
    assert resources.status_code == 200
    assert _live_tokens(config) == [_sha256(first["refreshToken"])]  # one successor issued
    assert _refresh(client, again["refreshToken"]).status_code == 200


def test_a_lost_answer_retried_after_the_grace_revokes_the_session(
    client: TestClient, login: Callable[..., dict], clock: FakeClock, config: Config
) -> None:
    token = login(client)["refreshToken"]
    successor = _refresh(client, token).json()["refreshToken"]
    clock.advance(config.reuse_grace)

    _assert_invalid_grant(_refresh(client, token))
    _assert_invalid_grant(_refresh(client, successor))
    assert _live_tokens(config) == []


def test_once_the_successor_is_used_the_spent_token_gets_nothing_but_the_session_lives(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["refreshToken"]
    successor = _refresh(client, token).json()["refreshToken"]
    newest = _refresh(client, successor).json()["refreshToken"]

    # Within the grace: a tab that raced the first refresh, not a thief.
    response = _refresh(client, token)

    _assert_invalid_grant(response)
    assert "already used" in response.json()["message"]
    assert _refresh(client, newest).status_code == 200


def test_the_successor_is_kept_only_sealed_and_only_for_the_grace(
    make_client: Callable[..., TestClient],
    login: Callable[..., dict],
    clock: FakeClock,
    config: Config,
) -> None:
    client = make_client()
    token = login(client)["refreshToken"]
    successor = _refresh(client, token).json()["refreshToken"]
    sealed = query(
        _db(config), "SELECT sealed_successor FROM refresh_tokens WHERE hash = ?", _sha256(token)
    )
    assert sealed[0][0] and successor.encode() not in bytes(sealed[0][0])

    clock.advance(config.reuse_grace)
    client.app.state.pruner.run_once()

    assert (
        query(_db(config), "SELECT hash FROM refresh_tokens WHERE sealed_successor IS NOT NULL")
        == []
    )


def test_without_a_grace_period_nothing_is_sealed(
    make_client: Callable[..., TestClient], login: Callable[..., dict], config: Config
) -> None:
    client = make_client(reuse_grace=0)
    token = login(client)["refreshToken"]
    _refresh(client, token)

    assert (
        query(_db(config), "SELECT hash FROM refresh_tokens WHERE sealed_successor IS NOT NULL")
        == []
    )


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
    successor = _refresh(client, token).json()["refreshToken"]

    hashes = {row[0] for row in query(_db(config), "SELECT hash FROM refresh_tokens")}
    if config.db_url:
        stored = "".join(str(row) for row in query(config.db_url, "SELECT * FROM refresh_tokens"))
        raw = stored.encode()
    else:
        raw = b"".join(
            path.read_bytes()
            for path in config.db_path.parent.iterdir()
            if path.name.startswith("auth.db") and path.suffix not in (".secret", ".keys")
        )
    assert hashes == {_sha256(token), _sha256(successor)}
    assert token.encode() not in raw
    assert successor.encode() not in raw


def test_a_sqlite_database_uses_write_ahead_logging(
    client: TestClient, config: Config, store_kind: str
) -> None:
    if store_kind != "sqlite":
        pytest.skip("SQLite only")
    with sqlite3.connect(config.db_path) as db:
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()

    assert mode == "wal"
