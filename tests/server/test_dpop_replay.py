"""A DPoP proof replayed to another worker or another node is refused: the replay cache is
the store that all of them share. Real server processes, as in test_workers.py and
test_many_nodes.py."""

from collections.abc import Callable

import httpx
import pytest

from .dpop_support import ProofKey
from .support import SEED_PASSWORD, SEED_USER, ServerProcess
from .workers import WORKERS, one_connection_to_each_worker, send

RESOURCE = "/api/resources"
PASSWORD_GRANT = {"grant_type": "password", "username": SEED_USER, "password": SEED_PASSWORD}


def _bound_token(server: ServerProcess, key: ProofKey) -> str:
    proof = key.proof("POST", server.url + "/oauth/token")
    answer = httpx.post(
        server.url + "/oauth/token", data=PASSWORD_GRANT, headers={"DPoP": proof}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.mark.both_stores
def test_a_proof_replayed_to_the_other_worker_is_refused(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(None, "--workers", str(WORKERS))
    connections = list(one_connection_to_each_worker(server).values())
    key = ProofKey()
    token = _bound_token(server, key)
    # The Host these connections send is 127.0.0.1:port: the URL the proof names.
    proof = key.proof("GET", server.url + RESOURCE, token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}

    statuses = [send(connection, "GET", RESOURCE, headers=headers) for connection in connections]
    fresh = key.proof("GET", server.url + RESOURCE, token)
    again = send(connections[1], "GET", RESOURCE, headers={**headers, "DPoP": fresh})

    assert len(connections) == WORKERS
    assert statuses == [200, 401]
    assert again == 200


@pytest.mark.parametrize("store_kind", ["postgresql"], indirect=True)
def test_a_proof_replayed_to_another_node_is_refused(
    start_server: Callable[..., ServerProcess],
) -> None:
    first = start_server()
    second = start_server(first.db)
    key = ProofKey()
    token = _bound_token(first, key)
    # Behind a load balancer both nodes answer one public URL; here the nodes' own URLs
    # differ, so the proof names the URL of the node it is sent to, and the replay too.
    proof = key.proof("GET", first.url + RESOURCE, token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof, "Host": f"127.0.0.1:{first.port}"}

    answers = [httpx.get(node.url + RESOURCE, headers=headers) for node in (first, second)]

    assert [answer.status_code for answer in answers] == [200, 401]
    assert answers[1].json()["error"] == "invalid_dpop_proof"
    assert "used before" in answers[1].json()["message"]
