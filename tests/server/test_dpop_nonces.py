"""Server nonces (`--dpop-nonce`, RFC 9449 §8, §9): a proof without the server's nonce is
answered `use_dpop_nonce` with the nonce in `DPoP-Nonce`, once retried it goes through; the
nonce changes every slot, the previous one still works for a slot and the answer then
brings the new one; every node works out the same nonce."""

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from .dpop_support import TESTSERVER, ProofKey
from .support import SEED_PASSWORD, SEED_USER, FakeClock

TOKEN = "/oauth/token"
TOKEN_URL = TESTSERVER + TOKEN
RESOURCE = "/api/resources"
RESOURCE_URL = TESTSERVER + RESOURCE
PASSWORD_GRANT = {"grant_type": "password", "username": SEED_USER, "password": SEED_PASSWORD}
SLOT = 30.0


@pytest.fixture
def nonce_client(make_client: Callable[..., TestClient], clock: FakeClock) -> TestClient:
    # The start of the slot: a few seconds back, as PyJWT checks the tokens' times against
    # the real clock.
    clock.now = SLOT * int(clock.now // SLOT)
    return make_client(dpop_nonce=True, dpop_nonce_every=SLOT)


def _log_in(
    client: TestClient, key: ProofKey, clock: FakeClock, nonce: str | None
) -> httpx.Response:
    proof = key.proof("POST", TOKEN_URL, now=clock.now, nonce=nonce)
    return client.post(TOKEN, data=PASSWORD_GRANT, headers={"DPoP": proof})


def _call(
    client: TestClient, token: str, key: ProofKey, clock: FakeClock, nonce: str | None
) -> httpx.Response:
    proof = key.proof("GET", RESOURCE_URL, token, now=clock.now, nonce=nonce)
    return client.get(RESOURCE, headers={"Authorization": f"DPoP {token}", "DPoP": proof})


def _signed_in(client: TestClient, key: ProofKey, clock: FakeClock) -> tuple[str, str]:
    nonce = _log_in(client, key, clock, None).headers["dpop-nonce"]
    return _log_in(client, key, clock, nonce).json()["access_token"], nonce


def test_the_token_endpoint_asks_for_its_nonce_and_takes_the_retry(
    nonce_client: TestClient, clock: FakeClock
) -> None:
    key = ProofKey()

    asked = _log_in(nonce_client, key, clock, None)
    retried = _log_in(nonce_client, key, clock, asked.headers["dpop-nonce"])

    assert asked.status_code == 400
    assert asked.json()["error"] == "use_dpop_nonce"
    assert asked.headers["cache-control"] == "no-store"
    assert retried.status_code == 200, retried.text
    assert retried.json()["token_type"] == "DPoP"
    assert "dpop-nonce" not in retried.headers  # it was the current one


def test_the_api_asks_for_its_nonce_with_a_dpop_challenge_and_takes_the_retry(
    nonce_client: TestClient, clock: FakeClock
) -> None:
    key = ProofKey()
    token, nonce = _signed_in(nonce_client, key, clock)

    asked = _call(nonce_client, token, key, clock, None)
    retried = _call(nonce_client, token, key, clock, asked.headers["dpop-nonce"])

    assert asked.status_code == 401
    assert asked.headers["www-authenticate"].startswith('DPoP error="use_dpop_nonce"')
    assert asked.headers["dpop-nonce"] == nonce
    assert retried.status_code == 200, retried.text


@pytest.mark.parametrize("nonce", ["made-up-nonce", ""])
def test_a_nonce_the_server_never_gave_is_answered_with_the_real_one(
    nonce_client: TestClient, clock: FakeClock, nonce: str
) -> None:
    key = ProofKey()
    token, real = _signed_in(nonce_client, key, clock)

    answer = _call(nonce_client, token, key, clock, nonce)

    assert answer.status_code == 401
    assert answer.headers["dpop-nonce"] == real


def test_the_nonce_changes_each_slot_the_previous_one_still_works_and_brings_the_new_one(
    nonce_client: TestClient, clock: FakeClock
) -> None:
    key = ProofKey()
    token, first = _signed_in(nonce_client, key, clock)

    clock.advance(SLOT)
    previous_slot = _call(nonce_client, token, key, clock, first)
    second = previous_slot.headers["dpop-nonce"]
    clock.advance(SLOT)
    two_slots_late = _call(nonce_client, token, key, clock, first)

    assert previous_slot.status_code == 200
    assert second != first
    assert two_slots_late.status_code == 401
    assert two_slots_late.json()["error"] == "use_dpop_nonce"
    assert two_slots_late.headers["dpop-nonce"] not in (first, second)
    assert _call(nonce_client, token, key, clock, second).status_code == 200


def test_two_nodes_with_the_same_keys_agree_on_the_nonce(
    make_client: Callable[..., TestClient], nonce_client: TestClient, clock: FakeClock
) -> None:
    other_node = make_client(dpop_nonce=True, dpop_nonce_every=SLOT)
    key = ProofKey()
    token, nonce = _signed_in(nonce_client, key, clock)

    assert _call(other_node, token, key, clock, nonce).status_code == 200


def test_a_proof_with_the_right_nonce_is_still_checked_in_full(
    nonce_client: TestClient, clock: FakeClock
) -> None:
    key = ProofKey()
    token, nonce = _signed_in(nonce_client, key, clock)
    proof = key.proof("GET", RESOURCE_URL, token, now=clock.now, nonce=nonce)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}

    assert nonce_client.get(RESOURCE, headers=headers).status_code == 200
    replay = nonce_client.get(RESOURCE, headers=headers)

    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_dpop_proof"


def test_without_the_option_a_proof_needs_no_nonce_and_no_nonce_is_sent(
    client: TestClient, clock: FakeClock
) -> None:
    login = _log_in(client, ProofKey(), clock, None)

    assert login.status_code == 200
    assert "dpop-nonce" not in login.headers
