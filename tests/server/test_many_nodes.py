"""Three server processes on three ports, one PostgreSQL: the rules hold across all of them.

Each node is a real ``python -m server_stub --db postgresql://...`` process, as on three
machines behind a load balancer; they share nothing but the database and the signing key.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest

from .support import (
    SEED_PASSWORD,
    SEED_USER,
    ServerProcess,
    assert_exactly_one_successor,
    query,
    race_one_token,
)

pytestmark = pytest.mark.parametrize("store_kind", ["postgresql"], indirect=True)

NODES = 3
REFRESH = "/authorization/refresh"
TOKEN = "/authorization/token"


def _start_nodes(start_server: Callable[..., ServerProcess], *args: str) -> list[ServerProcess]:
    first = start_server(None, *args)  # creates the schema and seeds the user
    with ThreadPoolExecutor(NODES - 1) as pool:
        others = list(pool.map(lambda _: start_server(first.db, *args), range(NODES - 1)))
    return [first, *others]


def _log_in(url: str) -> dict:
    credentials = {"userName": SEED_USER, "password": SEED_PASSWORD}
    response = httpx.post(url + TOKEN, json=credentials, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _refresh(url: str, token: str) -> httpx.Response:
    return httpx.post(url + REFRESH, json={"refreshToken": token}, timeout=30)


def test_fifty_refreshes_of_one_token_over_three_nodes_issue_exactly_one_successor(
    start_server: Callable[..., ServerProcess],
) -> None:
    nodes = _start_nodes(start_server)
    token = _log_in(nodes[0].url)["refreshToken"]

    responses = race_one_token([node.url for node in nodes], token)

    winner = assert_exactly_one_successor(nodes[0].db, token, responses)
    # Every node answered, and every caller got the one pair (graceful rotation).
    assert Counter(r.status_code for r in responses) == {200: len(responses)}
    assert {r.url.port for r in responses} == {node.port for node in nodes}
    for node in nodes:  # and each node takes the successor's holder for who it is
        bearer = {"Authorization": f"Bearer {responses[0].json()['authorizationToken']}"}
        assert httpx.get(node.url + "/api/resources", headers=bearer).status_code == 200
    assert _refresh(nodes[2].url, winner).status_code == 200


def test_a_token_spent_on_one_node_and_replayed_on_another_after_the_grace_revokes_it_everywhere(
    start_server: Callable[..., ServerProcess],
) -> None:
    grace = 1.0
    node_a, node_b, node_c = _start_nodes(start_server, "--reuse-grace", str(grace))
    token = _log_in(node_a.url)["refreshToken"]
    successor = _refresh(node_a.url, token).json()["refreshToken"]
    time.sleep(grace + 0.2)

    replay = _refresh(node_b.url, token)

    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_grant"
    assert "revoked" in replay.json()["message"]
    for node in (node_a, node_b, node_c):
        refused = _refresh(node.url, successor)
        assert refused.status_code == 401, node.url
        assert refused.json()["error"] == "invalid_grant"
    assert query(node_a.db, "SELECT COUNT(*) FROM families WHERE revoked_at IS NULL") == [(0,)]


def test_failed_logins_spread_over_three_nodes_hit_the_limit_on_whichever_node(
    start_server: Callable[..., ServerProcess],
) -> None:
    nodes = _start_nodes(start_server)
    wrong = {"userName": SEED_USER, "password": "wrong"}

    statuses = [
        httpx.post(nodes[n % NODES].url + TOKEN, json=wrong, timeout=30).status_code
        for n in range(10)
    ]
    eleventh = httpx.post(nodes[10 % NODES].url + TOKEN, json=wrong, timeout=30)
    each_node = [
        httpx.post(node.url + TOKEN, json={**wrong, "password": SEED_PASSWORD}, timeout=30)
        for node in nodes
    ]

    assert statuses == [401] * 10
    assert eleventh.status_code == 429
    assert int(eleventh.headers["retry-after"]) > 0
    assert [response.status_code for response in each_node] == [429] * NODES


@dataclass
class StormClient:
    """One session's client: it refreshes through one node, and moves on if that node dies."""

    token: str
    node: int
    answers: Counter[str] = field(default_factory=Counter)  # "<port> <status>"
    moved: int = 0


def test_a_node_killed_in_a_refresh_storm_loses_nothing_and_the_others_keep_answering(
    start_server: Callable[..., ServerProcess],
) -> None:
    sessions, rounds_after_kill = 30, 5
    nodes = _start_nodes(start_server)
    with ThreadPoolExecutor(4) as pool:
        pairs = list(pool.map(lambda n: _log_in(nodes[n % NODES].url), range(sessions)))
    clients = [StormClient(pair["refreshToken"], n % NODES) for n, pair in enumerate(pairs)]
    killed = threading.Event()
    answered_before_kill = threading.Semaphore(0)

    def storm(client: StormClient) -> None:
        """Refresh with the newest token; on a dead node, retry the same token elsewhere."""
        after_kill = 0
        with httpx.Client(timeout=10) as http:
            while after_kill < rounds_after_kill:
                url = nodes[client.node].url
                try:
                    response = http.post(url + REFRESH, json={"refreshToken": client.token})
                except httpx.TransportError:
                    client.node = (client.node + 1) % NODES  # what a load balancer does
                    client.moved += 1
                    continue
                client.answers[f"{nodes[client.node].port} {response.status_code}"] += 1
                if response.status_code != 200:
                    return
                client.token = response.json()["refreshToken"]
                answered_before_kill.release()
                if killed.is_set():
                    after_kill += 1

    with ThreadPoolExecutor(sessions) as pool:
        storms = [pool.submit(storm, client) for client in clients]
        for _ in range(200):  # refreshes answered before the kill; many more are in flight
            assert answered_before_kill.acquire(timeout=60)
        nodes[0].kill()
        killed.set()
        for done in storms:
            done.result(timeout=120)

    answers = sum((client.answers for client in clients), Counter())
    statuses = Counter(key.split()[1] for key in answers.elements())
    print(f"storm: {dict(answers)}; moved {sum(c.moved for c in clients)}")  # pytest -s
    assert statuses == {"200": statuses["200"]}, statuses  # no session lost, not one
    assert all(client.node != 0 for client in clients)
    survivors = {f"{node.port} 200" for node in nodes[1:]}
    assert survivors <= set(answers)  # the other nodes kept answering
    doubled = query(
        nodes[1].db,
        "SELECT COUNT(*) FROM (SELECT family_id FROM refresh_tokens WHERE spent_at IS NULL"
        " GROUP BY family_id HAVING COUNT(*) > 1) AS doubled",
    )
    assert doubled == [(0,)]
    assert query(nodes[1].db, "SELECT COUNT(*) FROM families") == [(sessions,)]
    for client in clients:  # and each goes on with the token it holds
        assert _refresh(nodes[1].url, client.token).status_code == 200
