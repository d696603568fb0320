"""``--workers N``: N server processes on one port, sharing one store (one SQLite file)."""

import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

import httpx
import pytest

from .support import ServerProcess, assert_exactly_one_successor, race_one_token

pytestmark = pytest.mark.both_stores

WORKERS = 2
STARTUP_SECONDS = 30
BURST = 16  # connections opened at once, in search of every worker


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


def _worker_answering(server: ServerProcess, connection: HTTPConnection) -> int:
    """The worker that answered the last request on ``connection``: with several workers,
    each line of the server's log starts with the id of the process that wrote it, and an
    access-log line names the connection by its client port."""
    port = connection.sock.getsockname()[1]
    answers = re.findall(rf"\[(\d+)\] 127\.0\.0\.1:{port} - ", server.log())
    return int(answers[-1])


def _send(connection: HTTPConnection, method: str, path: str, body: dict | None = None) -> int:
    payload = None if body is None else json.dumps(body)
    connection.request(method, path, payload, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return response.status


def _one_connection_to_each_worker(server: ServerProcess) -> dict[int, HTTPConnection]:
    """Keep-alive connections, one a worker. The kernel hands a new connection to whichever
    worker accepts first, and one after another they can all land on the same worker (seen
    in a fresh clone's run: 100 of 100), so they are opened in bursts, each connection
    sending its request at once from a thread of its own: while one worker reads a request,
    the other accepts the next connection."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while server.log().count("Application startup complete.") < WORKERS:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    connections: dict[int, HTTPConnection] = {}

    def connect(_: int) -> HTTPConnection:
        connection = HTTPConnection("127.0.0.1", server.port, timeout=30)
        assert _send(connection, "GET", "/api/resources") == 401
        return connection

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        for _ in range(20):
            for connection in pool.map(connect, range(BURST)):
                worker = _worker_answering(server, connection)
                if worker in connections:
                    connection.close()
                else:
                    connections[worker] = connection
            if len(connections) == WORKERS:
                break
    return connections


def test_every_worker_serves_and_they_share_the_login_limit(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(None, "--workers", str(WORKERS))
    workers = _workers_of(server)
    connections = list(_one_connection_to_each_worker(server).values())
    wrong = {"userName": "andreyka26_", "password": "wrong"}
    # The workers take the failed logins in turn: neither sees ten of its own, so the 11th
    # is refused only if they count into one limit.
    statuses, answered_by = [], []
    for attempt in range(11):
        connection = connections[attempt % len(connections)]
        statuses.append(_send(connection, "POST", "/authorization/token", wrong))
        answered_by.append(_worker_answering(server, connection))
    for connection in connections:
        connection.close()
    server.stop()

    assert statuses == [401] * 10 + [429]
    assert sorted(set(answered_by)) == sorted(workers)
    assert all(a != b for a, b in itertools.pairwise(answered_by)), answered_by
    assert server.log().count("Application startup complete.") == WORKERS
