"""Fixtures for the backend tests: a tiny web root, apps on temp databases, real servers."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.app import create_app
from server_stub.config import Config

from .support import (
    SEED_PASSWORD,
    SEED_USER,
    FakeClock,
    ServerProcess,
    build_web_root,
    launch_server,
    secret_of,
)


@pytest.fixture(autouse=True)
def _no_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use the secret file unless they set AUTH_SECRET themselves."""
    monkeypatch.delenv("AUTH_SECRET", raising=False)


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    """A web root like the repository's, plus files that must never be served."""
    return build_web_root(tmp_path)


@pytest.fixture(scope="session")
def shared_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """One config for tests that only read, so they share one app (and its Argon2 start-up)."""
    base = tmp_path_factory.mktemp("shared")
    return Config(db_path=base / "db" / "auth.db", web_root=build_web_root(base))


@pytest.fixture(scope="session")
def shared_client(shared_config: Config) -> Iterator[TestClient]:
    """A TestClient on the shared app; use it only where no test changes what others see."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AUTH_SECRET", raising=False)
        app = create_app(shared_config)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def shared_secret(shared_client: TestClient, shared_config: Config) -> bytes:
    """The key the shared app signs access tokens with."""
    return secret_of(shared_config.db_path)


@pytest.fixture
def clock() -> FakeClock:
    """The clock every app made by `make_client` reads."""
    return FakeClock()


@pytest.fixture
def config(tmp_path: Path, web_root: Path, clock: FakeClock) -> Config:
    """A config on a fresh database in tmp_path, the tiny web root and the fake clock."""
    return Config(db_path=tmp_path / "db" / "auth.db", web_root=web_root, clock=clock)


@pytest.fixture
def make_client(config: Config) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient on `create_app`; keyword arguments override `config` fields."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        client = TestClient(create_app(replace(config, **overrides)))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A TestClient on an app with the default config on a fresh database."""
    return make_client()


@pytest.fixture
def signing_secret(client: TestClient, config: Config) -> bytes:
    """The key the `client` app signs access tokens with (generated at its first start)."""
    return secret_of(config.db_path)


@pytest.fixture
def login() -> Callable[..., dict[str, object]]:
    """Log the seeded user in through the API and return the token pair as JSON."""

    def log_in(
        client: TestClient | httpx.Client,
        user: str = SEED_USER,
        password: str = SEED_PASSWORD,
    ) -> dict[str, object]:
        response = client.post(
            "/authorization/token", json={"userName": user, "password": password}
        )
        assert response.status_code == 200, response.text
        return response.json()

    return log_in


@pytest.fixture
def start_server(tmp_path: Path, web_root: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real server processes; each call returns a `ServerProcess` once it answers.

    ``start(db_path=None, *extra_args)`` uses tmp_path/"live"/"auth.db" by default, so a
    second call with the same path is a restart on the same data. All are stopped at the end.
    """
    started: list[ServerProcess] = []

    def start(db_path: Path | None = None, *extra_args: str) -> ServerProcess:
        log_path = tmp_path / f"server-{len(started)}.log"
        server = launch_server(
            db_path or tmp_path / "live" / "auth.db", log_path, *extra_args, web_root=web_root
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    """One real server process on a fresh database and the tiny web root."""
    return start_server()
