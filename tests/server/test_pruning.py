"""Old rows go away: expired refresh tokens and empty sessions are pruned, live ones kept."""

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.config import Config
from server_stub.store import AuthStore

from .support import FakeClock, ServerProcess, count_rows

pytestmark = pytest.mark.both_stores

TTL = 100


def _refresh(client: TestClient | httpx.Client, token: str) -> httpx.Response:
    return client.post("/authorization/refresh", json={"refreshToken": token})


def _rows(db: Path | str) -> dict[str, int]:
    return {table: count_rows(db, table) for table in ("refresh_tokens", "families")}


def test_a_prune_pass_removes_expired_tokens_and_empty_sessions_and_keeps_live_ones(
    make_client: Callable[..., TestClient],
    login: Callable[..., dict],
    clock: FakeClock,
    config: Config,
) -> None:
    client = make_client(refresh_ttl=TTL)
    db = config.db_url or config.db_path
    active = login(client)
    for _ in range(3):
        active = _refresh(client, active["refreshToken"]).json()
    idle = login(client)  # never refreshed: its one token expires with its session
    logged_out = login(client)
    client.post("/authorization/logout", json={"refreshToken": logged_out["refreshToken"]})
    clock.advance(TTL * 0.6)
    active = _refresh(client, active["refreshToken"]).json()  # good for TTL from now
    assert _rows(db) == {"refresh_tokens": 7, "families": 3}
    clock.advance(TTL * 0.5)  # every token but the active one's newest has expired

    pruned = client.app.state.pruner.run_once()

    assert _rows(db) == {"refresh_tokens": 1, "families": 1}
    assert pruned == 6 + 2
    assert _refresh(client, active["refreshToken"]).status_code == 200  # it lives on
    assert _refresh(client, idle["refreshToken"]).status_code == 401


def test_pruning_goes_in_batches_until_nothing_is_left(store: AuthStore, clock: FakeClock) -> None:
    store.add_user("someone", "not a real hash")
    user = store.find_user("someone")
    assert user is not None
    for n in range(25):
        store.start_family(user.id, f"hash-{n}", now=clock(), expires_at=clock() + 1)

    first = store.prune(now=clock() + 2, reuse_grace=5, login_window=60, limit=10)
    rest = [
        store.prune(now=clock() + 2, reuse_grace=5, login_window=60, limit=10) for _ in range(3)
    ]

    assert first == 10 + 10  # ten tokens, then the ten families they leave empty
    assert rest == [20, 10, 0]


def test_the_server_prunes_by_itself_while_it_serves(
    start_server: Callable[..., ServerProcess], login: Callable[..., dict]
) -> None:
    ttl = 6
    server = start_server(None, "--refresh-ttl", str(ttl), "--prune-every", "0.2")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        pair = login(http)
        for _ in range(10):
            pair = _refresh(http, pair["refreshToken"]).json()
        grown = count_rows(server.db, "refresh_tokens")
        # Times taken after the fact: however slow the machine, the first eleven rows have
        # expired by `eleven_issued + ttl` and the newest lives until `newest_issued + ttl`,
        # so the wait below has ttl / 2 however long the login and the refreshes took.
        eleven_issued = time.monotonic()
        time.sleep(ttl / 2)
        newest_issued = time.monotonic()
        pair = _refresh(http, pair["refreshToken"]).json()  # the session is in use
        # In between, one row is left; a second before the end, to refresh with it after.
        while (
            count_rows(server.db, "refresh_tokens") > 1
            and time.monotonic() < newest_issued + ttl - 1
        ):
            time.sleep(0.1)
        left = count_rows(server.db, "refresh_tokens")
        waited = time.monotonic() - eleven_issued
        still_working = _refresh(http, pair["refreshToken"])

    assert grown == 11
    assert left == 1, f"{left} rows {waited:.1f} s after the eleventh was issued"  # the newest
    assert still_working.status_code == 200
