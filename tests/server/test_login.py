"""POST /authorization/token: the seeded user logs in; wrong credentials are refused alike."""

from collections.abc import Callable

import jwt
import pytest
from fastapi.testclient import TestClient

from .support import SEED_PASSWORD, SEED_USER

pytestmark = pytest.mark.both_stores


def test_seeded_user_logs_in_and_gets_a_token_pair(client: TestClient) -> None:
    response = client.post(
        "/authorization/token", json={"userName": SEED_USER, "password": SEED_PASSWORD}
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"userId", "authorizationToken", "refreshToken", "expiresIn"}
    assert body["expiresIn"] == 300
    assert all(isinstance(body[key], str) and body[key] for key in body if key != "expiresIn")


def test_access_token_is_a_typed_hs256_jwt_with_every_required_claim(
    client: TestClient, login: Callable[..., dict], signing_secret: bytes
) -> None:
    token = login(client)["authorizationToken"]

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(
        token,
        signing_secret,
        algorithms=["HS256"],
        audience="pyscript-refresh-gate-api",
        issuer="pyscript-refresh-gate",
    )
    assert header["alg"] == "HS256"
    assert header["typ"] == "at+jwt"
    assert claims["token_use"] == "access"
    assert claims["name"] == SEED_USER
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] == claims["iat"]
    assert {"sub", "jti"} <= set(claims)


def test_access_ttl_sets_expires_in_and_the_token_lifetime(
    make_client: Callable[..., TestClient], login: Callable[..., dict]
) -> None:
    pair = login(make_client(access_ttl=42))

    claims = jwt.decode(pair["authorizationToken"], options={"verify_signature": False})
    assert pair["expiresIn"] == 42
    assert claims["exp"] - claims["iat"] == 42


def test_wrong_password_is_refused_as_invalid_credentials(client: TestClient) -> None:
    response = client.post(
        "/authorization/token", json={"userName": SEED_USER, "password": "Mypass1"}
    )

    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == "invalid_credentials"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client: TestClient) -> None:
    unknown = client.post(
        "/authorization/token", json={"userName": "nobody", "password": SEED_PASSWORD}
    )
    wrong = client.post("/authorization/token", json={"userName": SEED_USER, "password": "nope"})

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_user_name_is_case_sensitive(client: TestClient) -> None:
    response = client.post(
        "/authorization/token",
        json={"userName": SEED_USER.upper(), "password": SEED_PASSWORD},
    )

    assert response.status_code == 401


def test_seeded_user_is_created_once_and_kept_across_restarts(
    make_client: Callable[..., TestClient], login: Callable[..., dict]
) -> None:
    first = login(make_client())["userId"]
    second = login(make_client())["userId"]

    assert first == second
