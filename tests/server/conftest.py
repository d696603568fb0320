"""Fixtures for the backend tests: a tiny web root, apps on temp databases, real servers.

A test module marked ``pytestmark = pytest.mark.both_stores`` runs each of its tests that
use a store once on SQLite and once on PostgreSQL (a throw-away cluster of the tests' own,
tests/server/postgres.py); elsewhere the store is SQLite.
"""

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.app import create_app
from server_stub.config import Config
from server_stub.store import AuthStore, open_store

from .postgres import PostgresCluster, find_bindir
from .support import (
    SEED_PASSWORD,
    SEED_USER,
    FakeClock,
    ServerProcess,
    build_web_root,
    launch_server,
    secret_of,
)

STORES = ("sqlite", "postgresql")
# `make test` sets this: there PostgreSQL was installed, so its absence is a failure.
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_stores: run each test that uses a store on SQLite and on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_stores"
    ):
        metafunc.parametrize("store_kind", STORES, indirect=True)


@pytest.fixture(scope="session")
def store_kind(request: pytest.FixtureRequest) -> str:
    """Which store this test runs on: "sqlite" unless the module asks for both."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The tests' own PostgreSQL server, started on first use and removed at the end."""
    if find_bindir() is None:
        message = "PostgreSQL is not installed (initdb not found); `make test` installs it"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_database(postgres: PostgresCluster) -> str:
    """One database for the whole run; each test gets a schema of its own in it."""
    return postgres.create_database("tests")


@contextmanager
def _fresh_database(
    store_kind: str, request: pytest.FixtureRequest, sqlite_path: Path
) -> Iterator[Path | str]:
    """An empty store: ``sqlite_path``, or a new schema, dropped afterwards."""
    if store_kind == "sqlite":
        yield sqlite_path
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.create_schema(request.getfixturevalue("postgres_database"))
    try:
        yield url
    finally:
        cluster.drop_schema(url)


@pytest.fixture
def database(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Path | str]:
    """This test's own empty store: a SQLite file in tmp_path, or a PostgreSQL schema."""
    with _fresh_database(store_kind, request, tmp_path / "db" / "auth.db") as fresh:
        yield fresh


@pytest.fixture
def store(database: Path | str) -> Iterator[AuthStore]:
    """The store at `database`, opened directly (no app)."""
    opened = open_store(database)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def _no_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use the secret file unless they set AUTH_SECRET themselves."""
    monkeypatch.delenv("AUTH_SECRET", raising=False)


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    """A web root like the repository's, plus files that must never be served."""
    return build_web_root(tmp_path)


@pytest.fixture(scope="session")
def shared_config(
    store_kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Config]:
    """One config for tests that only read, so they share one app (and its Argon2 start-up)."""
    base = tmp_path_factory.mktemp("shared")
    with _fresh_database(store_kind, request, base / "db" / "auth.db") as database:
        yield _config_on(database, base / "db" / "auth.db", web_root=build_web_root(base))


def _config_on(database: Path | str, local_path: Path, **fields: object) -> Config:
    """A config whose store is ``database``; keys files go beside ``local_path``."""
    url = database if isinstance(database, str) else None
    # No background pruning: a test prunes by hand when it means to (app.state.pruner).
    return Config(db_path=local_path, db_url=url, prune_every=0, **fields)  # type: ignore[arg-type]


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
def config(tmp_path: Path, web_root: Path, clock: FakeClock, database: Path | str) -> Config:
    """A config on this test's fresh store, the tiny web root and the fake clock."""
    return _config_on(database, tmp_path / "db" / "auth.db", web_root=web_root, clock=clock)


@pytest.fixture
def make_client(config: Config) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient on `create_app`; keyword arguments override `config` fields.

    Each client is started (the app's lifespan runs) and stopped at the end, which closes
    its store's connections.
    """
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        client = TestClient(create_app(replace(config, **overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


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
def start_server(
    tmp_path: Path, web_root: Path, store_kind: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., ServerProcess]]:
    """Start real server processes; each call returns a `ServerProcess` once it answers.

    ``start(db=None, *extra_args)`` uses this test's own store by default (a SQLite file
    at tmp_path/"live"/"auth.db", or a PostgreSQL schema), so a second call is a restart
    on the same data, or on PostgreSQL another node. All are stopped at the end.
    """
    started: list[ServerProcess] = []
    numbers = itertools.count()  # so that threads may start servers at once
    databases = ExitStack()
    default_db = databases.enter_context(
        _fresh_database(store_kind, request, tmp_path / "live" / "auth.db")
    )

    def start(db: Path | str | None = None, *extra_args: str) -> ServerProcess:
        log_path = tmp_path / f"server-{next(numbers)}.log"
        server = launch_server(db or default_db, log_path, *extra_args, web_root=web_root)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    databases.close()


@pytest.fixture
def live_server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    """One real server process on a fresh database and the tiny web root."""
    return start_server()
