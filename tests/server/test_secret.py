"""The single signing secret: owner-only, named by a stable kid, and movable into a keys file."""

import stat
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from server_stub.app import create_app
from server_stub.config import Config
from server_stub.keys import kid_of_secret
from server_stub.secret import (
    add_key,
    keys_path_for,
    load_signing_secret,
    read_keys_file,
    retire_key,
    secret_path_for,
)

from .support import FakeClock, secret_of


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_generated_secret_file_is_owner_only(client: TestClient, config: Config) -> None:
    secret_file = secret_path_for(config.db_path)

    assert secret_file.name == "auth.db.secret"
    assert _mode(secret_file) == 0o600
    assert len(bytes.fromhex(secret_file.read_text())) == 32


def test_the_database_file_is_owner_only(client: TestClient, config: Config) -> None:
    assert _mode(config.db_path) == 0o600


def test_the_secret_is_kept_across_restarts_so_old_tokens_still_verify(
    make_client: Callable[..., TestClient], login: Callable[..., dict]
) -> None:
    token = login(make_client())["authorizationToken"]

    response = make_client().get("/api/resources", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


def test_a_loosened_secret_file_is_tightened_again(client: TestClient, config: Config) -> None:
    secret_file = secret_path_for(config.db_path)
    secret_file.chmod(0o644)

    load_signing_secret(config.db_path, environ={})

    assert _mode(secret_file) == 0o600


def test_auth_secret_from_the_environment_is_used_and_no_file_is_written(
    tmp_path: Path, login: Callable[..., dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_SECRET", "e" * 40)
    db_path = tmp_path / "env" / "auth.db"
    token = login(TestClient(create_app(Config(db_path=db_path))))["authorizationToken"]

    restarted = TestClient(create_app(Config(db_path=db_path)))
    response = restarted.get("/api/resources", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert not secret_path_for(db_path).exists()
    monkeypatch.delenv("AUTH_SECRET")
    other_key = TestClient(create_app(Config(db_path=db_path)))
    assert (
        other_key.get("/api/resources", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_a_short_auth_secret_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        load_signing_secret(tmp_path / "auth.db", environ={"AUTH_SECRET": "short"})


def test_a_corrupt_secret_file_is_refused_at_start(tmp_path: Path) -> None:
    secret_path_for(tmp_path / "auth.db").write_text("not hex")

    with pytest.raises(ValueError, match="not a hex-encoded secret"):
        load_signing_secret(tmp_path / "auth.db", environ={})


def _token_kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def _status(client: TestClient, token: str) -> int:
    return client.get("/api/resources", headers={"Authorization": f"Bearer {token}"}).status_code


def _without_kid(token: str, secret: bytes) -> str:
    """The same token as servers signed them before tokens named their key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "at+jwt"})


def test_the_secret_file_key_gets_a_stable_kid(
    make_client: Callable[..., TestClient], login: Callable[..., dict], config: Config
) -> None:
    first = login(make_client())["authorizationToken"]
    second = login(make_client())["authorizationToken"]

    secret = secret_of(config.db_path)
    assert _token_kid(first) == _token_kid(second) == kid_of_secret(secret)


def test_auth_secret_names_its_key_as_the_same_secret_in_a_file_would(
    tmp_path: Path, login: Callable[..., dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_SECRET", "e" * 40)

    token = login(TestClient(create_app(Config(db_path=tmp_path / "auth.db"))))

    assert _token_kid(token["authorizationToken"]) == kid_of_secret(b"e" * 40)


def test_a_token_from_before_tokens_named_their_key_still_verifies(
    client: TestClient, config: Config, login: Callable[..., dict]
) -> None:
    secret = secret_of(config.db_path)
    token = _without_kid(login(client)["authorizationToken"], secret)

    assert _status(client, token) == 200


def test_adding_a_key_moves_the_secret_file_into_a_keys_file_and_logs_nobody_out(
    make_client: Callable[..., TestClient],
    login: Callable[..., dict],
    config: Config,
    clock: FakeClock,
) -> None:
    old_token = login(make_client())["authorizationToken"]
    secret = secret_of(config.db_path)

    new_key, path = add_key(None, config.db_path, now=clock(), environ={})
    client = make_client()

    assert path == keys_path_for(config.db_path)
    assert _mode(path) == 0o600
    assert not secret_path_for(config.db_path).exists()
    assert [key.kid for key in read_keys_file(path)] == [kid_of_secret(secret), new_key.kid]
    assert _token_kid(login(client)["authorizationToken"]) == new_key.kid
    for token in (old_token, _without_kid(old_token, secret)):
        assert _status(client, token) == 200


def test_once_the_secret_file_key_is_retired_past_its_tokens_lifetime_its_tokens_are_refused(
    make_client: Callable[..., TestClient],
    login: Callable[..., dict],
    config: Config,
    clock: FakeClock,
) -> None:
    old_token = login(make_client())["authorizationToken"]
    secret = secret_of(config.db_path)
    add_key(None, config.db_path, now=clock(), environ={})
    retire_key(None, config.db_path, kid_of_secret(secret), now=clock())
    client = make_client()

    # Its lifetime and the 5 s of leeway, by the server's clock (the JWT library reads the
    # real one, by which the tokens are still fresh).
    clock.advance(config.access_ttl + 6)

    for token in (old_token, _without_kid(old_token, secret)):
        assert _status(client, token) == 401


def test_adding_a_key_carries_auth_secret_over_into_the_keys_file(
    make_client: Callable[..., TestClient],
    login: Callable[..., dict],
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTH_SECRET", "e" * 40)
    old_token = login(make_client())["authorizationToken"]
    keys_file = tmp_path / "shared.keys"
    add_key(keys_file, None, now=clock())

    with pytest.raises(ValueError, match="unset AUTH_SECRET"):
        make_client(keys_path=keys_file)
    monkeypatch.delenv("AUTH_SECRET")
    client = make_client(keys_path=keys_file)

    assert _status(client, old_token) == 200
