"""A DPoP proof's contents (RFC 9449 §4.2), for a fixed key, signature, clock and random
source (both interpreters)."""

from refresh_gate._dpop_proof import (
    DPoPProofs,
    access_token_hash,
    jwk_thumbprint,
    origin_of,
    target_uri,
)
from refresh_gate._pkce import base64url
from tests.portable import parametrize, raises
from tests.refresh_gate.dpop_fakes import (
    NOW,
    ORIGIN,
    RFC_KEY,
    RFC_THUMBPRINT,
    SIGNATURE,
    FixedKey,
    counting_bytes,
    read_proof,
)

PUBLIC_KEY = {name: RFC_KEY[name] for name in ("kty", "crv", "x", "y")}


def _proofs(key: FixedKey) -> DPoPProofs:
    return DPoPProofs(key, clock=lambda: NOW + 0.75, random_bytes=counting_bytes)


async def test_a_token_request_s_proof_has_the_header_and_claims_and_no_ath() -> None:
    key = FixedKey(dict(RFC_KEY))

    proof = await _proofs(key).proof("post", "http://127.0.0.1:8000/oauth/token")

    header, claims, signature = read_proof(proof)
    assert header == {"typ": "dpop+jwt", "alg": "ES256", "jwk": PUBLIC_KEY}
    assert claims == {
        "jti": base64url(bytes(range(16))),
        "htm": "POST",
        "htu": "http://127.0.0.1:8000/oauth/token",
        "iat": int(NOW),
    }
    assert signature == SIGNATURE
    assert key.signed == [proof.rpartition(".")[0]]  # the JWS signing input, signed once


async def test_an_api_call_s_proof_binds_the_access_token_and_carries_the_nonce() -> None:
    proof = await _proofs(FixedKey(dict(RFC_KEY))).proof(
        "GET", f"{ORIGIN}/api/resources", access_token="at-1", nonce="n-1"
    )

    claims = read_proof(proof)[1]
    assert claims["ath"] == access_token_hash("at-1")
    assert claims["nonce"] == "n-1"


async def test_a_new_key_and_a_new_token_show_in_the_next_proof() -> None:
    key = FixedKey(dict(RFC_KEY))
    proofs = _proofs(key)
    target = f"{ORIGIN}/api/resources"
    await proofs.proof("GET", target, access_token="at-1")

    other = dict(RFC_KEY, x=RFC_KEY["y"], y=RFC_KEY["x"])  # any other key will do here
    key.jwk = other
    header, claims, _ = read_proof(await proofs.proof("GET", target, access_token="at-2"))

    assert header["jwk"] == {name: other[name] for name in ("kty", "crv", "x", "y")}
    assert claims["ath"] == access_token_hash("at-2")


async def test_without_a_key_there_is_no_proof() -> None:
    assert await _proofs(FixedKey(None)).proof("GET", f"{ORIGIN}/api/resources") is None


async def test_a_signature_that_is_not_r_and_s_is_refused() -> None:
    key = FixedKey(dict(RFC_KEY))

    async def der_signature(signing_input: str) -> bytes:
        return b"\x30" + SIGNATURE  # a DER sequence, as some libraries sign

    key.sign = der_signature
    with raises(ValueError):
        await _proofs(key).proof("GET", f"{ORIGIN}/api/resources")


def test_ath_and_the_thumbprint_are_rfc_9449_s_own_examples() -> None:
    assert access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") == (
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    )  # §7.1
    assert jwk_thumbprint(RFC_KEY) == RFC_THUMBPRINT  # §6.1, from §4.1's key


def test_a_key_not_on_p_256_is_refused() -> None:
    with raises(ValueError):
        jwk_thumbprint({"kty": "RSA", "n": "x", "e": "AQAB"})


@parametrize(
    "path, htu",
    [
        ("/api/resources", "http://127.0.0.1:8000/api/resources"),
        ("/api/resources?page=2#top", "http://127.0.0.1:8000/api/resources"),
        ("https://Auth.Example.com:443/token?x=1", "https://auth.example.com/token"),
        ("HTTP://localhost:80", "http://localhost/"),
        ("http://127.0.0.1:8001/oauth/token", "http://127.0.0.1:8001/oauth/token"),
        ("https://id.example:8443/t#frag", "https://id.example:8443/t"),
    ],
)
def test_htu_is_the_absolute_url_without_query_and_fragment(path: str, htu: str) -> None:
    assert target_uri(path, ORIGIN) == htu


def test_a_relative_path_is_not_a_target() -> None:
    with raises(ValueError):
        target_uri("api/resources", ORIGIN)


def test_the_origin_of_a_url_is_where_its_nonce_belongs() -> None:
    assert origin_of("https://Auth.Example.com:443/token") == "https://auth.example.com"
    assert origin_of(target_uri("/api/x", ORIGIN)) == ORIGIN
