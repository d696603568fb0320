"""What the library relies on in oidc-provider's DPoP (`provider.mjs --dpop`), pinned from
Python: a proof without the current nonce is answered `use_dpop_nonce` with a nonce the page
may read by CORS, and the provider without --dpop issues no nonces (its defaults kept)."""

import json
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.oidc.support import ProviderProcess, launch_provider
from tests.server.support import free_port


@pytest.fixture(scope="module")
def dpop_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderProcess]:
    page_origin = f"http://127.0.0.1:{free_port()}"
    log = tmp_path_factory.mktemp("oidc-dpop") / "provider.log"
    provider = launch_provider(log, page_origin, "--dpop")
    yield provider
    provider.stop()


def _proof(url: str, nonce: str | None = None) -> str:
    """A DPoP proof for `POST url` by a fresh P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    claims = {"jti": str(uuid.uuid4()), "htm": "POST", "htu": url, "iat": int(time.time())}
    if nonce is not None:
        claims["nonce"] = nonce
    return jwt.encode(claims, key, "ES256", headers={"typ": "dpop+jwt", "jwk": public})


def _refresh_with_proof(http: httpx.Client, provider: ProviderProcess, nonce: str | None):
    token_url = f"{provider.issuer}/token"
    return http.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": provider.client_id},
        headers={"DPoP": _proof(token_url, nonce), "Origin": provider.page_origin},
    )


def test_a_proof_without_a_nonce_is_answered_use_dpop_nonce_with_one_the_page_can_read(
    http: httpx.Client, dpop_provider: ProviderProcess
) -> None:
    answer = _refresh_with_proof(http, dpop_provider, None)

    assert answer.status_code == 400
    assert answer.json()["error"] == "use_dpop_nonce"
    assert answer.headers["DPoP-Nonce"]
    exposed = answer.headers["Access-Control-Expose-Headers"].lower()
    assert "dpop-nonce" in exposed


def test_with_the_nonce_the_proof_passes_and_the_grant_itself_is_judged(
    http: httpx.Client, dpop_provider: ProviderProcess
) -> None:
    nonce = _refresh_with_proof(http, dpop_provider, None).headers["DPoP-Nonce"]

    answer = _refresh_with_proof(http, dpop_provider, nonce)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"  # "x" is no refresh token


def test_without_dpop_the_provider_asks_for_no_nonce(
    http: httpx.Client, oidc_provider: ProviderProcess
) -> None:
    answer = _refresh_with_proof(http, oidc_provider, None)

    assert answer.json()["error"] == "invalid_grant"
    assert "DPoP-Nonce" not in answer.headers
