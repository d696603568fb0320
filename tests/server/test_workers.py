"""``--workers N``: N server processes on one port, sharing one store (one SQLite file)."""

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from .support import ServerProcess, assert_exactly_one_successor, race_one_token

pytestmark = pytest.mark.both_stores

WORKERS = 2


def _workers_of(server: ServerProcess) -> list[int]:
    """The worker processes uvicorn spawned for ``server`` (its children running the app)."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def test_two_workers_on_one_store_issue_exactly_one_successor_for_fifty_refreshes(
    start_server: Callable[..., ServerProcess], login: Callable[..., dict]
) -> None:
    server = start_server(None, "--workers", str(WORKERS))
    with httpx.Client(base_url=server.url) as http:
        token = login(http)["refreshToken"]

    responses = race_one_token([server.url], token)

    assert len(_workers_of(server)) == WORKERS
    winner = assert_exactly_one_successor(server.db, token, responses)
    assert Counter(r.status_code for r in responses) == {200: len(responses)}
    again = httpx.post(server.url + "/authorization/refresh", json={"refreshToken": winner})
    assert again.status_code == 200


def test_every_worker_serves_and_they_share_the_login_limit(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(None, "--workers", str(WORKERS))
    wrong = {"userName": "andreyka26_", "password": "wrong"}
    # A new connection each time: the kernel hands connections to the workers in turn.
    statuses = [
        httpx.post(server.url + "/authorization/token", json=wrong, timeout=30).status_code
        for _ in range(11)
    ]
    server.stop()

    assert statuses == [401] * 10 + [429]
    assert server.log().count("Application startup complete.") == WORKERS
