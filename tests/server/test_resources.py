"""GET /api/resources: only a valid access token from this server gets through."""

import base64
import json
import time
from collections.abc import Callable

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from .support import SEED_USER, FakeClock

pytestmark = pytest.mark.both_stores

AUDIENCE = "pyscript-refresh-gate-api"
ISSUER = "pyscript-refresh-gate"


def _claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "user-1",
        "name": SEED_USER,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": "jti-1",
        "token_use": "access",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(key: bytes, claims: dict[str, object], **header: str) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"typ": "at+jwt", **header})


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _get(client: TestClient, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.get("/api/resources", headers=headers)


def _assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == "invalid_token"


def test_valid_access_token_reads_the_protected_resource(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["authorizationToken"]

    response = _get(client, f"Bearer {token}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    assert response.text == f"protected resources, username: {SEED_USER}"


def test_bearer_scheme_name_is_case_insensitive(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["authorizationToken"]

    assert _get(client, f"bearer {token}").status_code == 200


def test_a_token_signed_here_with_all_claims_is_accepted(
    shared_client: TestClient, shared_secret: bytes
) -> None:
    # Guards the forgery tests below: each differs from this token in one way only.
    assert _get(shared_client, f"Bearer {_sign(shared_secret, _claims())}").status_code == 200


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("expired", {"iat": int(time.time()) - 400, "exp": int(time.time()) - 60}),
        ("not yet valid", {"nbf": int(time.time()) + 3600}),
        ("issued in the future", {"iat": int(time.time()) + 3600}),
        ("wrong audience", {"aud": "someone-else"}),
        ("wrong issuer", {"iss": "https://evil.example"}),
        ("no token_use", {"token_use": None}),
        ("refresh token_use", {"token_use": "refresh"}),
        ("no jti", {"jti": None}),
        ("no exp", {"exp": None}),
        ("no nbf", {"nbf": None}),
        ("no sub", {"sub": None}),
        ("numeric sub", {"sub": 7}),
        ("no name", {"name": None}),
    ],
)
def test_a_token_with_a_bad_claim_is_refused(
    shared_client: TestClient, shared_secret: bytes, case: str, changes: dict[str, object]
) -> None:
    token = _sign(shared_secret, _claims(**changes))

    _assert_invalid_token(_get(shared_client, f"Bearer {token}"))


def test_a_token_with_a_plain_jwt_type_header_is_refused(
    shared_client: TestClient, shared_secret: bytes
) -> None:
    token = _sign(shared_secret, _claims(), typ="JWT")

    _assert_invalid_token(_get(shared_client, f"Bearer {token}"))


def test_a_token_signed_with_another_key_is_refused(shared_client: TestClient) -> None:
    token = _sign(b"k" * 32, _claims())

    _assert_invalid_token(_get(shared_client, f"Bearer {token}"))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_signed_with_another_hmac_algorithm_is_refused(
    shared_client: TestClient, shared_secret: bytes
) -> None:
    token = jwt.encode(_claims(), shared_secret, algorithm="HS512", headers={"typ": "at+jwt"})

    _assert_invalid_token(_get(shared_client, f"Bearer {token}"))


def test_an_unsigned_alg_none_token_is_refused(shared_client: TestClient) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(_claims())}."

    _assert_invalid_token(_get(shared_client, f"Bearer {token}"))


def test_a_tampered_payload_is_refused(client: TestClient, login: Callable[..., dict]) -> None:
    header, payload, signature = login(client)["authorizationToken"].split(".")
    middle = len(payload) // 2
    flipped = "A" if payload[middle] != "A" else "B"
    tampered = payload[:middle] + flipped + payload[middle + 1 :]

    _assert_invalid_token(_get(client, f"Bearer {header}.{tampered}.{signature}"))


def test_an_access_token_issued_long_ago_has_expired(
    client: TestClient, login: Callable[..., dict], clock: FakeClock
) -> None:
    clock.advance(-301 - 5)
    token = login(client)["authorizationToken"]

    response = _get(client, f"Bearer {token}")

    _assert_invalid_token(response)
    assert "expired" in response.json()["message"]


def test_an_access_token_from_the_future_is_not_valid_yet(
    client: TestClient, login: Callable[..., dict], clock: FakeClock
) -> None:
    clock.advance(60)
    token = login(client)["authorizationToken"]

    _assert_invalid_token(_get(client, f"Bearer {token}"))


def test_a_refresh_token_is_not_an_access_token(
    client: TestClient, login: Callable[..., dict]
) -> None:
    refresh_token = login(client)["refreshToken"]

    _assert_invalid_token(_get(client, f"Bearer {refresh_token}"))


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer ...",
        "Bearer " + "x" * 20000,
        "Basic YW5kcmV5a2EyNl86TXlwYXNzMSo=",
        "Token abc",
    ],
    ids=[
        "missing",
        "empty",
        "scheme only",
        "scheme and space",
        "garbage",
        "three junk parts",
        "dots only",
        "huge",
        "basic",
        "other scheme",
    ],
)
def test_a_missing_or_malformed_authorization_header_is_refused(
    shared_client: TestClient, authorization: str | None
) -> None:
    _assert_invalid_token(_get(shared_client, authorization))
