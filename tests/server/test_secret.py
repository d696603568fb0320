"""The signing secret and the database file are private to the server's user."""

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server_stub.app import create_app
from server_stub.config import Config
from server_stub.secret import load_signing_secret, secret_path_for


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
