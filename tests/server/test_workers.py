"""``--workers N``: N server processes on one port, sharing one store (one SQLite file)."""

import itertools
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from .support import ServerProcess, assert_exactly_one_successor, race_one_token
from .workers import WORKERS, one_connection_to_each_worker, send, worker_answering, workers_of

pytestmark = pytest.mark.both_stores


def test_two_workers_on_one_store_issue_exactly_one_successor_for_fifty_refreshes(
    start_server: Callable[..., ServerProcess], login: Callable[..., dict]
) -> None:
    server = start_server(None, "--workers", str(WORKERS))
    with httpx.Client(base_url=server.url) as http:
        token = login(http)["refreshToken"]

    responses = race_one_token([server.url], token)

    assert len(workers_of(server)) == WORKERS
    winner = assert_exactly_one_successor(server.db, token, responses)
    assert Counter(r.status_code for r in responses) == {200: len(responses)}
    again = httpx.post(server.url + "/authorization/refresh", json={"refreshToken": winner})
    assert again.status_code == 200


def test_every_worker_serves_and_they_share_the_login_limit(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(None, "--workers", str(WORKERS))
    workers = workers_of(server)
    connections = list(one_connection_to_each_worker(server).values())
    wrong = {"userName": "andreyka26_", "password": "wrong"}
    # The workers take the failed logins in turn: neither sees ten of its own, so the 11th
    # is refused only if they count into one limit.
    statuses, answered_by = [], []
    for attempt in range(11):
        connection = connections[attempt % len(connections)]
        statuses.append(send(connection, "POST", "/authorization/token", wrong))
        answered_by.append(worker_answering(server, connection))
    for connection in connections:
        connection.close()
    server.stop()

    assert statuses == [401] * 10 + [429]
    assert sorted(set(answered_by)) == sorted(workers)
    assert all(a != b for a, b in itertools.pairwise(answered_by)), answered_by
    assert server.log().count("Application startup complete.") == WORKERS
