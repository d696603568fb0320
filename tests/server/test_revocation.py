"""POST /oauth/revoke, RFC 7009: a refresh token revoked ends its session, whatever else
the client sends the answer tells nothing about tokens, and access tokens are not revoked."""

import httpx
import pytest
from fastapi.testclient import TestClient

from .support import SEED_PASSWORD, SEED_USER

pytestmark = pytest.mark.both_stores

TOKEN, REVOKE = "/oauth/token", "/oauth/revoke"
PASSWORD_GRANT = {"grant_type": "password", "username": SEED_USER, "password": SEED_PASSWORD}


def _log_in(client: TestClient) -> dict:
    response = client.post(TOKEN, data={**PASSWORD_GRANT, "client_id": "page"})
    assert response.status_code == 200, response.text
    return response.json()


def _refresh(client: TestClient, refresh_token: str) -> httpx.Response:
    return client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def _revoke(client: TestClient, **fields: str) -> httpx.Response:
    return client.post(REVOKE, data=fields)


def test_a_revoked_refresh_token_and_every_token_of_its_session_stop_working(
    client: TestClient,
) -> None:
    first = _log_in(client)
    second = _refresh(client, first["refresh_token"]).json()  # the session's live token

    answer = _revoke(client, token=first["refresh_token"], client_id="page")

    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["cache-control"] == "no-store"
    assert _refresh(client, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_with_the_hint_refresh_token_or_none_is_the_same(client: TestClient) -> None:
    hinted, plain = _log_in(client), _log_in(client)

    assert (
        _revoke(client, token=hinted["refresh_token"], token_type_hint="refresh_token").status_code
        == 200
    )
    assert _revoke(client, token=plain["refresh_token"]).status_code == 200
    for session in (hinted, plain):
        assert _refresh(client, session["refresh_token"]).status_code == 400


def test_another_session_of_the_same_user_is_left_alone(client: TestClient) -> None:
    revoked, kept = _log_in(client), _log_in(client)

    _revoke(client, token=revoked["refresh_token"])

    assert _refresh(client, kept["refresh_token"]).status_code == 200


@pytest.mark.parametrize("token", ["never-issued", "x" * 4096])
def test_a_token_the_server_does_not_know_gets_the_same_empty_200(
    client: TestClient, token: str
) -> None:
    answer = _revoke(client, token=token)

    assert (answer.status_code, answer.content) == (200, b"")


def test_an_access_token_hint_is_unsupported_token_type_and_revokes_nothing(
    client: TestClient,
) -> None:
    session = _log_in(client)

    answer = _revoke(client, token=session["access_token"], token_type_hint="access_token")

    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_token_type"
    assert _refresh(client, session["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("fields", "headers", "status", "error"),
    [
        ({}, {}, 400, "invalid_request"),
        ({"token_type_hint": "refresh_token"}, {}, 400, "invalid_request"),
        ({"token": "t", "client_secret": "s"}, {}, 400, "invalid_client"),
        ({"token": "t"}, {"Authorization": "Basic cGFnZTpz"}, 401, "invalid_client"),
    ],
    ids=["no token", "only a hint", "a client secret", "client authentication"],
)
def test_a_malformed_revocation_is_an_error_of_rfc_6749(
    client: TestClient, fields: dict, headers: dict, status: int, error: str
) -> None:
    answer = client.post(REVOKE, data=fields, headers=headers)

    assert answer.status_code == status
    assert answer.json()["error"] == error


def test_a_revocation_as_json_is_refused(client: TestClient) -> None:
    session = _log_in(client)

    answer = client.post(REVOKE, json={"token": session["refresh_token"]})

    assert answer.json()["error"] == "invalid_request"
    assert _refresh(client, session["refresh_token"]).status_code == 200
