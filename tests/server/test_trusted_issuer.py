"""Access tokens of a trusted provider (--trust-issuer, --audience), checked by pinned rules
against its published keys; the server's own tokens keep working beside them."""

import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from server_stub.dpop_checks import DPoPChecks
from server_stub.errors import DPoPChallenge, InvalidToken
from server_stub.issuer_tokens import IssuerTokens, unverified_issuer
from server_stub.keys import KeySet, new_key
from server_stub.resource_auth import Caller, ResourceAuth
from server_stub.store import open_store
from server_stub.tokens import AccessTokens

from .dpop_support import ProofKey

ISSUER = "https://id.example"
AUDIENCE = "urn:api"


class Provider:
    """Discovery and a JWKS, served to IssuerTokens as its JSON fetches."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.kids = {"r1": self.rsa, "e1": self.ec}
        self.fetches = 0

    def get_json(self, url: str) -> dict:
        if url == f"{ISSUER}/.well-known/openid-configuration":
            return {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
        self.fetches += 1
        keys = []
        for kid, key in self.kids.items():
            algorithm = (
                jwt.algorithms.RSAAlgorithm if kid.startswith("r") else jwt.algorithms.ECAlgorithm
            )
            data = algorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**data, "kid": kid, "use": "sig"})
        return {"keys": keys}

    def token(self, kid: str = "r1", alg: str | None = None, typ: str = "at+jwt", **claims) -> str:
        """A token signed by key `kid`; `claims` change the payload, a time claim given as
        seconds from now, None leaves a claim out."""
        now = time.time()
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "andreyka26_", "exp": now + 60}
        for name, value in claims.items():
            if value is not None:
                payload[name] = now + value if name in ("exp", "nbf", "iat") else value
        for name in [name for name, value in claims.items() if value is None]:
            payload.pop(name, None)
        key = self.kids[kid]
        alg = alg or ("RS256" if kid.startswith("r") else "ES256")
        return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, "typ": typ})


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def tokens(provider: Provider) -> IssuerTokens:
    return IssuerTokens(ISSUER, AUDIENCE, get_json=provider.get_json)


@pytest.mark.parametrize("kid", ["r1", "e1"])
def test_an_rs256_or_es256_access_token_of_the_provider_is_accepted(
    tokens: IssuerTokens, provider: Provider, kid: str
) -> None:
    claims = tokens.verify(provider.token(kid))

    assert claims.user_id == claims.name == "andreyka26_"


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "https://other.example"},
        {"aud": "urn:another-api"},
        {"exp": -60},
        {"nbf": +60},
        {"exp": None},
        {"sub": None},
        {"typ": "JWT"},
    ],
    ids=["iss", "aud", "exp passed", "nbf ahead", "no exp", "no sub", "typ"],
)
def test_a_token_failing_one_check_is_refused(
    tokens: IssuerTokens, provider: Provider, change: dict
) -> None:
    typ = change.pop("typ", "at+jwt")

    with pytest.raises(InvalidToken):
        tokens.verify(provider.token(typ=typ, **change))


def test_a_token_signed_with_the_public_key_as_an_hmac_secret_is_refused(
    tokens: IssuerTokens, provider: Provider
) -> None:
    # The old attack on libraries that take the algorithm from the token: HS256 keyed with
    # the public key, which anyone can fetch. PyJWT will not make one; made by hand.
    public_pem = provider.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": "r1", "typ": "at+jwt"}
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": time.time() + 60}
    signed = ".".join(_b64(json.dumps(part).encode()) for part in (header, claims))
    forged = f"{signed}.{_b64(hmac.new(public_pem, signed.encode(), hashlib.sha256).digest())}"

    with pytest.raises(InvalidToken):
        tokens.verify(forged)


def test_an_unsigned_token_is_refused(tokens: IssuerTokens) -> None:
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": time.time() + 60},
        None,
        algorithm="none",
        headers={"kid": "r1", "typ": "at+jwt"},
    )

    with pytest.raises(InvalidToken):
        tokens.verify(unsigned)


def test_a_token_by_another_key_under_a_known_kid_is_refused(
    tokens: IssuerTokens, provider: Provider
) -> None:
    tokens.verify(provider.token())  # the real r1 is known now
    provider.kids["r1"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(InvalidToken):
        tokens.verify(provider.token())


def test_keys_are_fetched_once_and_an_unknown_kid_refetches_at_most_once_a_minute(
    provider: Provider,
) -> None:
    now = [0.0]
    tokens = IssuerTokens(ISSUER, AUDIENCE, get_json=provider.get_json, clock=lambda: now[0])
    for _ in range(3):
        tokens.verify(provider.token())
    provider.kids["r2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for _ in range(3):  # a flood of tokens naming a new kid costs no flood of fetches
        with pytest.raises(InvalidToken):
            tokens.verify(provider.token("r2"))
    assert provider.fetches == 1

    now[0] = 61.0  # the provider rotated its keys a while ago: the new one is fetched once
    tokens.verify(provider.token("r2"))
    tokens.verify(provider.token("r2"))
    assert provider.fetches == 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_the_claimed_issuer_is_read_only_to_pick_a_verifier(provider: Provider) -> None:
    assert unverified_issuer(provider.token()) == ISSUER
    assert unverified_issuer("not a jwt") is None


def test_parallel_first_tokens_wait_for_the_one_fetch_of_the_keys(provider: Provider) -> None:
    """The first tokens of a provider, verified at once in FastAPI's threads: each must wait
    for the keys being fetched, not find none and refuse (the demo's three retries did)."""
    slow = provider.get_json

    def slow_get_json(url: str) -> dict:
        time.sleep(0.2)
        return slow(url)

    tokens = IssuerTokens(ISSUER, AUDIENCE, get_json=slow_get_json)
    with ThreadPoolExecutor(max_workers=3) as pool:
        claims = list(pool.map(lambda _: tokens.verify(provider.token()), range(3)))

    assert [claim.name for claim in claims] == ["andreyka26_"] * 3
    assert provider.fetches == 1


def test_a_provider_token_bound_to_a_dpop_key_opens_the_api_only_with_that_keys_proof(
    tokens: IssuerTokens, provider: Provider, tmp_path: Path
) -> None:
    key, thief = ProofKey(), ProofKey()
    token = provider.token("e1", cnf={"jkt": key.jkt})
    store = open_store(tmp_path / "auth.db")
    keys = KeySet([new_key(time.time())])
    own_tokens = AccessTokens(keys, issuer="me", audience="api", ttl=60, clock=time.time)
    auth = ResourceAuth(own_tokens, tokens, DPoPChecks(store, time.time))

    def call(scheme: str, proof_key: ProofKey | None) -> Caller:
        headers = [(b"host", b"api.example"), (b"authorization", f"{scheme} {token}".encode())]
        if proof_key is not None:
            proof = proof_key.proof("GET", "http://api.example/api/resources", token)
            headers.append((b"dpop", proof.encode()))
        scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/api/resources"}
        return auth.caller({**scope, "headers": headers})

    assert tokens.verify(token).jkt == key.jkt
    assert call("DPoP", key).claims.user_id == "andreyka26_"
    for scheme, proof_key in (("DPoP", thief), ("DPoP", None), ("Bearer", key)):
        with pytest.raises(DPoPChallenge):
            call(scheme, proof_key)
