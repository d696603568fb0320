"""DPoP at the token endpoint (RFC 9449 §5): a client that proves a key gets tokens bound to
it, its refresh token refreshes only with that key, and a thief with the pair but not the key
can neither refresh nor burn the owner's session. Clients that send no proof keep getting
Bearer tokens, unless the server requires DPoP."""

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.__main__ import config_from, parse_args

from .dpop_support import TESTSERVER, ProofKey, access_claims
from .support import SEED_PASSWORD, SEED_USER, FakeClock, query, sha256

pytestmark = pytest.mark.both_stores

TOKEN = "/oauth/token"
TOKEN_URL = TESTSERVER + TOKEN
RESOURCE = "/api/resources"
PASSWORD_GRANT = {"grant_type": "password", "username": SEED_USER, "password": SEED_PASSWORD}


def _token(
    client: TestClient, fields: dict, key: ProofKey | None, clock: FakeClock
) -> httpx.Response:
    headers = {"DPoP": key.proof("POST", TOKEN_URL, now=clock.now)} if key else {}
    return client.post(TOKEN, data=fields, headers=headers)


def _log_in(client: TestClient, key: ProofKey | None, clock: FakeClock) -> dict:
    response = _token(client, PASSWORD_GRANT, key, clock)
    assert response.status_code == 200, response.text
    return response.json()


def _refresh(
    client: TestClient, refresh_token: str, key: ProofKey | None, clock: FakeClock
) -> httpx.Response:
    fields = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token(client, fields, key, clock)


def _call(client: TestClient, pair: dict, key: ProofKey | None, clock: FakeClock) -> int:
    token = pair["access_token"]
    if key is None:
        return client.get(RESOURCE, headers={"Authorization": f"Bearer {token}"}).status_code
    proof = key.proof("GET", TESTSERVER + RESOURCE, token, now=clock.now)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
    return client.get(RESOURCE, headers=headers).status_code


def _binding(database: object, refresh_token: str) -> str | None:
    ((jkt,),) = query(
        database, "SELECT jkt FROM refresh_tokens WHERE hash = ?", sha256(refresh_token)
    )  # type: ignore[arg-type]
    return jkt


def _assert_invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"


def test_a_login_with_a_proof_gets_a_dpop_pair_bound_to_the_key(
    client: TestClient, clock: FakeClock, database: object
) -> None:
    key = ProofKey()

    pair = _log_in(client, key, clock)

    assert pair["token_type"] == "DPoP"
    assert access_claims(pair["access_token"])["cnf"] == {"jkt": key.jkt}
    assert _binding(database, pair["refresh_token"]) == key.jkt
    assert _call(client, pair, key, clock) == 200


def test_a_refresh_with_the_key_gets_a_successor_that_keeps_the_binding(
    client: TestClient, clock: FakeClock, database: object
) -> None:
    key = ProofKey()
    pair = _log_in(client, key, clock)

    renewed = _refresh(client, pair["refresh_token"], key, clock)

    assert renewed.status_code == 200, renewed.text
    successor = renewed.json()
    assert successor["token_type"] == "DPoP"
    assert access_claims(successor["access_token"])["cnf"] == {"jkt": key.jkt}
    assert _binding(database, successor["refresh_token"]) == key.jkt
    assert _refresh(client, successor["refresh_token"], key, clock).status_code == 200


@pytest.mark.parametrize("thief_key", [True, False], ids=["another key", "no proof"])
def test_a_refresh_with_another_key_or_none_is_invalid_grant_and_the_owners_next_refresh_works(
    client: TestClient, clock: FakeClock, thief_key: bool
) -> None:
    owner = ProofKey()
    pair = _log_in(client, owner, clock)

    stolen = _refresh(client, pair["refresh_token"], ProofKey() if thief_key else None, clock)
    seed_endpoint = client.post(
        "/authorization/refresh", json={"refreshToken": pair["refresh_token"]}
    )
    owners = _refresh(client, pair["refresh_token"], owner, clock)

    _assert_invalid_grant(stolen)
    assert "another DPoP key" in stolen.json()["error_description"]
    assert seed_endpoint.status_code == 401  # the seed's JSON endpoint is Bearer-only
    assert owners.status_code == 200, owners.text  # nothing was spent
    assert _call(client, owners.json(), owner, clock) == 200


def test_a_thief_replaying_a_spent_bound_token_after_the_grace_does_not_end_the_session(
    client: TestClient, clock: FakeClock
) -> None:
    owner = ProofKey()
    first = _log_in(client, owner, clock)
    second = _refresh(client, first["refresh_token"], owner, clock).json()
    clock.advance(60)  # well past the reuse grace: a replay would revoke an unbound family

    replayed = _refresh(client, first["refresh_token"], ProofKey(), clock)
    owners = _refresh(client, second["refresh_token"], owner, clock)

    _assert_invalid_grant(replayed)
    assert owners.status_code == 200, owners.text


def test_tabs_racing_one_bound_refresh_within_the_grace_share_one_bound_successor(
    client: TestClient, clock: FakeClock, database: object
) -> None:
    owner = ProofKey()
    pair = _log_in(client, owner, clock)

    first = _refresh(client, pair["refresh_token"], owner, clock)
    resent = _refresh(client, pair["refresh_token"], owner, clock)
    other_key = _refresh(client, pair["refresh_token"], ProofKey(), clock)

    assert first.status_code == resent.status_code == 200
    assert resent.json()["refresh_token"] == first.json()["refresh_token"]
    assert resent.json()["token_type"] == "DPoP"
    assert access_claims(resent.json()["access_token"])["cnf"] == {"jkt": owner.jkt}
    _assert_invalid_grant(other_key)
    assert _binding(database, first.json()["refresh_token"]) == owner.jkt


def test_a_racer_without_the_key_gets_nothing_from_a_session_just_bound_to_a_key(
    client: TestClient, clock: FakeClock
) -> None:
    key = ProofKey()
    pair = _log_in(client, None, clock)  # a Bearer session, then the first refresh with a key
    upgraded = _refresh(client, pair["refresh_token"], key, clock)

    racer = _refresh(client, pair["refresh_token"], None, clock)  # within the grace

    assert upgraded.status_code == 200
    _assert_invalid_grant(racer)  # no unbound access token, no bound refresh token
    assert _refresh(client, pair["refresh_token"], key, clock).status_code == 200


def test_a_bad_proof_at_the_token_endpoint_spends_nothing(
    client: TestClient, clock: FakeClock
) -> None:
    owner = ProofKey()
    pair = _log_in(client, owner, clock)
    fields = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    stale = owner.proof("POST", TOKEN_URL, now=clock.now - 600)

    refused = client.post(TOKEN, data=fields, headers={"DPoP": stale})

    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_dpop_proof"
    assert _refresh(client, pair["refresh_token"], owner, clock).status_code == 200


def test_clients_that_send_no_proof_keep_getting_bearer_tokens(
    client: TestClient, clock: FakeClock, database: object
) -> None:
    pair = _log_in(client, None, clock)
    renewed = _refresh(client, pair["refresh_token"], None, clock)

    assert pair["token_type"] == renewed.json()["token_type"] == "Bearer"
    assert "cnf" not in access_claims(renewed.json()["access_token"])
    assert _binding(database, renewed.json()["refresh_token"]) is None
    assert _call(client, renewed.json(), None, clock) == 200


def test_an_unbound_session_refreshed_with_a_proof_is_bound_from_then_on(
    client: TestClient, clock: FakeClock
) -> None:
    key = ProofKey()
    pair = _log_in(client, None, clock)

    upgraded = _refresh(client, pair["refresh_token"], key, clock).json()

    assert upgraded["token_type"] == "DPoP"
    _assert_invalid_grant(_refresh(client, upgraded["refresh_token"], None, clock))
    assert _refresh(client, upgraded["refresh_token"], key, clock).status_code == 200


def test_with_require_dpop_a_client_without_a_proof_is_refused_everywhere(
    make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    bearer = _log_in(make_client(), None, clock)  # issued before DPoP became required
    strict = make_client(require_dpop=True)
    key = ProofKey()

    no_proof = _token(strict, PASSWORD_GRANT, None, clock)
    bearer_call = strict.get(
        RESOURCE, headers={"Authorization": f"Bearer {bearer['access_token']}"}
    )
    with_proof = _log_in(strict, key, clock)

    assert no_proof.status_code == 400
    assert no_proof.json()["error"] == "invalid_dpop_proof"
    assert bearer_call.status_code == 401
    assert bearer_call.headers["www-authenticate"].startswith('DPoP error="invalid_token"')
    assert _call(strict, with_proof, key, clock) == 200


def test_the_dpop_options_reach_the_configuration() -> None:
    args = parse_args(["--require-dpop", "--dpop-nonce", "--dpop-nonce-every", "30"])

    config = config_from(args)

    assert (config.require_dpop, config.dpop_nonce, config.dpop_nonce_every) == (True, True, 30)
    assert not config_from(parse_args([])).require_dpop
