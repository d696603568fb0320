"""Every check of RFC 9449 §4.3 on a DPoP proof fails the request when it is broken: at the
API (401, `WWW-Authenticate: DPoP error="invalid_dpop_proof"`) and at the token endpoint
(400 `invalid_dpop_proof`). A good proof, and one whose htu differs only in how it is
written, open the resource."""

import hashlib
import hmac
import json
from collections.abc import Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from fastapi.testclient import TestClient

from .dpop_support import TESTSERVER, ProofKey, access_claims, b64url, unsigned
from .support import SEED_PASSWORD, SEED_USER, FakeClock, count_rows

RESOURCE = "/api/resources"
TOKEN = "/oauth/token"
RESOURCE_URL = TESTSERVER + RESOURCE
TOKEN_URL = TESTSERVER + TOKEN
PASSWORD_GRANT = {"grant_type": "password", "username": SEED_USER, "password": SEED_PASSWORD}
DATA = f"protected resources, username: {SEED_USER}"


@pytest.fixture
def key() -> ProofKey:
    return ProofKey()


@pytest.fixture
def bound_token(client: TestClient, key: ProofKey, clock: FakeClock) -> str:
    """An access token bound to `key`, from a login with its proof."""
    response = client.post(
        TOKEN, data=PASSWORD_GRANT, headers={"DPoP": key.proof("POST", TOKEN_URL, now=clock.now)}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    return response.json()["access_token"]


def _call(client: TestClient, token: str, *proofs: str, scheme: str = "DPoP") -> httpx.Response:
    headers = [("Authorization", f"{scheme} {token}"), *(("DPoP", proof) for proof in proofs)]
    return client.get(RESOURCE, headers=headers)


def _assert_refused(response: httpx.Response, error: str = "invalid_dpop_proof") -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == error
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(f'DPoP error="{error}"'), challenge
    assert 'algs="ES256 PS256 RS256 EdDSA"' in challenge


# Each breaks one check of §4.3; called with (key, method, url, access token, now), it
# returns the DPoP header values to send.
Break = Callable[[ProofKey, str, str, str | None, float], list[str]]


def _mac_signed(key: ProofKey, method: str, url: str, token: str | None, now: float) -> str:
    """HS256 keyed with the public key's x: a "signature" anyone could make."""
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk}
    claims = {"jti": "mac", "htm": method, "htu": url, "iat": int(now)}
    if token is not None:
        claims["ath"] = _ath(token)
    signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, claims))
    mac = hmac.new(key.jwk["x"].encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def _ath(token: str) -> str:
    return b64url(hashlib.sha256(token.encode()).digest())


def _p384_as_es256(method: str, url: str, token: str | None, now: float) -> str:
    """A valid ECDSA signature with SHA-256, but on P-384: not what ES256 names."""
    other = ProofKey("ES384")
    claims = {"jti": "p384", "htm": method, "htu": url, "iat": int(now)}
    if token is not None:
        claims["ath"] = _ath(token)
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": other.jwk}
    signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, claims))
    r, s = decode_dss_signature(other.private.sign(signing_input.encode(), ECDSA(SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(48) + s.to_bytes(48))}"


def _unsigned(key: ProofKey, method: str, url: str, token: str | None, now: float) -> str:
    claims = {"jti": "none", "htm": method, "htu": url, "iat": int(now)}
    if token is not None:
        claims["ath"] = _ath(token)
    return unsigned({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk}, claims)


BREAKS: dict[str, Break] = {
    "no DPoP header": lambda k, m, u, t, n: [],
    "two DPoP headers": lambda k, m, u, t, n: [k.proof(m, u, t, now=n), k.proof(m, u, t, now=n)],
    "not a JWT": lambda k, m, u, t, n: ["not.a.jwt"],
    "typ is JWT": lambda k, m, u, t, n: [k.proof(m, u, t, now=n, header={"typ": "JWT"})],
    "alg none": lambda k, m, u, t, n: [_unsigned(k, m, u, t, n)],
    "alg HS256": lambda k, m, u, t, n: [_mac_signed(k, m, u, t, n)],
    "a private key in jwk": lambda k, m, u, t, n: [
        k.proof(m, u, t, now=n, header={"jwk": k.private_jwk})
    ],
    "no jwk": lambda k, m, u, t, n: [k.proof(m, u, t, now=n, header={"jwk": None})],
    "signed by another key": lambda k, m, u, t, n: [
        k.proof(m, u, t, now=n, key=ProofKey().private)
    ],
    "ES256 on a P-384 key": lambda k, m, u, t, n: [_p384_as_es256(m, u, t, n)],
    "htm of another method": lambda k, m, u, t, n: [k.proof("PUT", u, t, now=n)],
    "htu of another path": lambda k, m, u, t, n: [k.proof(m, u + "/other", t, now=n)],
    "htu of another host": lambda k, m, u, t, n: [
        k.proof(m, u.replace("testserver", "elsewhere.example"), t, now=n)
    ],
    "htu of another scheme": lambda k, m, u, t, n: [
        k.proof(m, u.replace("http:", "https:"), t, now=n)
    ],
    "iat 61 s old": lambda k, m, u, t, n: [k.proof(m, u, t, now=n - 61)],
    "iat 61 s ahead": lambda k, m, u, t, n: [k.proof(m, u, t, now=n + 61)],
    "no jti": lambda k, m, u, t, n: [k.proof(m, u, t, now=n, claims={"jti": None})],
    "no iat": lambda k, m, u, t, n: [k.proof(m, u, t, now=n, claims={"iat": None})],
}
API_ONLY_BREAKS: dict[str, Break] = {
    "no ath": lambda k, m, u, t, n: [k.proof(m, u, None, now=n)],
    "ath of another token": lambda k, m, u, t, n: [k.proof(m, u, t + "x", now=n)],
}


@pytest.mark.parametrize("name", [*BREAKS, *API_ONLY_BREAKS])
def test_a_proof_failing_one_check_gets_401_invalid_dpop_proof_at_the_api(
    client: TestClient, key: ProofKey, bound_token: str, clock: FakeClock, name: str
) -> None:
    broken = {**BREAKS, **API_ONLY_BREAKS}[name](key, "GET", RESOURCE_URL, bound_token, clock.now)

    _assert_refused(_call(client, bound_token, *broken))


@pytest.mark.parametrize("name", [name for name in BREAKS if name != "no DPoP header"])
def test_a_proof_failing_one_check_gets_400_invalid_dpop_proof_at_the_token_endpoint(
    client: TestClient, key: ProofKey, clock: FakeClock, name: str
) -> None:
    broken = BREAKS[name](key, "POST", TOKEN_URL, None, clock.now)

    response = client.post(TOKEN, data=PASSWORD_GRANT, headers=[("DPoP", p) for p in broken])

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_dpop_proof"
    assert response.headers["cache-control"] == "no-store"


def test_a_good_proof_opens_the_resource_within_60_s_either_way(
    client: TestClient, key: ProofKey, bound_token: str, clock: FakeClock
) -> None:
    clock.now = float(int(clock.now))  # a whole second, as iat is
    for skew in (-60, 0, 60):
        proof = key.proof("GET", RESOURCE_URL, bound_token, now=clock.now + skew)
        answer = _call(client, bound_token, proof)
        assert (answer.status_code, answer.text) == (200, DATA)


@pytest.mark.parametrize(
    "htu",
    [
        "HTTP://TESTSERVER/api/resources",
        "http://testserver:80/api/resources",
        "http://testserver/api/./x/../resources",
        "http://testserver/%61pi/resources",
        "http://testserver/api/resources?page=2#top",
    ],
)
def test_an_htu_written_another_way_for_the_same_url_is_accepted(
    client: TestClient, key: ProofKey, bound_token: str, clock: FakeClock, htu: str
) -> None:
    answer = _call(client, bound_token, key.proof("GET", htu, bound_token, now=clock.now))

    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("alg", ["PS256", "RS256", "EdDSA"])
def test_rsa_and_ed25519_keys_are_accepted_too(
    client: TestClient, clock: FakeClock, alg: str
) -> None:
    key = ProofKey(alg)
    login = client.post(
        TOKEN, data=PASSWORD_GRANT, headers={"DPoP": key.proof("POST", TOKEN_URL, now=clock.now)}
    )
    token = login.json()["access_token"]

    answer = _call(client, token, key.proof("GET", RESOURCE_URL, token, now=clock.now))

    assert access_claims(token)["cnf"] == {"jkt": key.jkt}
    assert answer.status_code == 200, answer.text


@pytest.mark.both_stores
def test_a_replayed_proof_gets_401_and_the_replay_cache_is_pruned_after_the_window(
    client: TestClient, key: ProofKey, bound_token: str, clock: FakeClock, database: object
) -> None:
    proof = key.proof("GET", RESOURCE_URL, bound_token, now=clock.now)
    first, again = _call(client, bound_token, proof), _call(client, bound_token, proof)
    login_and_call = count_rows(database, "dpop_proofs")  # type: ignore[arg-type]

    clock.advance(66)  # past the window and its margin: the proof is refused by its iat now
    client.app.state.pruner.run_once()  # type: ignore[attr-defined]

    assert first.status_code == 200
    _assert_refused(again)
    assert login_and_call == 2
    assert count_rows(database, "dpop_proofs") == 0  # type: ignore[arg-type]


def test_the_same_jti_for_another_url_is_another_proof(
    client: TestClient, key: ProofKey, bound_token: str, clock: FakeClock
) -> None:
    # RFC 9449 §11.1 keeps jti "in the context of the target URI".
    claims = {"jti": "shared-jti"}
    at_token = key.proof("POST", TOKEN_URL, now=clock.now, claims=claims)
    at_api = key.proof("GET", RESOURCE_URL, bound_token, now=clock.now, claims=claims)

    login = client.post(TOKEN, data=PASSWORD_GRANT, headers={"DPoP": at_token})

    assert login.status_code == 200
    assert _call(client, bound_token, at_api).status_code == 200


def test_a_proof_by_another_key_than_the_tokens_gets_401_invalid_token(
    client: TestClient, bound_token: str, clock: FakeClock
) -> None:
    thief = ProofKey()
    proof = thief.proof("GET", RESOURCE_URL, bound_token, now=clock.now)

    answer = _call(client, bound_token, proof)

    _assert_refused(answer, "invalid_token")
    assert "another key" in answer.json()["message"]


def test_a_bound_token_sent_as_bearer_gets_401_with_a_dpop_challenge(
    client: TestClient, key: ProofKey, bound_token: str, clock: FakeClock
) -> None:
    proof = key.proof("GET", RESOURCE_URL, bound_token, now=clock.now)

    for proofs in ([], [proof]):
        _assert_refused(_call(client, bound_token, *proofs, scheme="Bearer"), "invalid_token")


def test_a_bearer_token_sent_with_the_dpop_scheme_gets_401(
    client: TestClient, key: ProofKey, clock: FakeClock
) -> None:
    bearer = client.post(TOKEN, data=PASSWORD_GRANT).json()
    token = bearer["access_token"]
    assert bearer["token_type"] == "Bearer"

    answer = _call(client, token, key.proof("GET", RESOURCE_URL, token, now=clock.now))

    _assert_refused(answer, "invalid_token")
    assert "not DPoP-bound" in answer.json()["message"]
    assert _call(client, token, scheme="Bearer").status_code == 200


def test_a_forged_binding_is_refused_by_the_tokens_signature(
    client: TestClient, bound_token: str, clock: FakeClock
) -> None:
    thief = ProofKey()
    claims = {**access_claims(bound_token), "cnf": {"jkt": thief.jkt}}
    forged = jwt.encode(claims, "not the server's key" * 2, algorithm="HS256")

    answer = _call(client, forged, thief.proof("GET", RESOURCE_URL, forged, now=clock.now))

    _assert_refused(answer, "invalid_token")
