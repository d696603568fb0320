"""DPoP proofs made in the tests (RFC 9449 §4.2), with cryptography and PyJWT, as a client's
key would sign them; every part can be changed to break one check at a time."""

import base64
import hashlib
import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

TESTSERVER = "http://testserver"  # the TestClient's base URL, so the htu of its requests
_GENERATORS = {
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "PS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}
_JWK_OF = {
    "EC": jwt.algorithms.ECAlgorithm,
    "RSA": jwt.algorithms.RSAAlgorithm,
    "OKP": jwt.algorithms.OKPAlgorithm,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ath(access_token: str) -> str:
    """The `ath` of a proof sent with this access token."""
    return b64url(hashlib.sha256(access_token.encode()).digest())


def thumbprint(jwk: dict) -> str:
    """RFC 7638, written out here apart from the server's code."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
    canonical = json.dumps({name: jwk[name] for name in members[jwk["kty"]]}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


class ProofKey:
    """A client's DPoP key pair; `proof` signs a proof for one request."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        self.private = _GENERATORS[alg]()
        kty = "OKP" if alg == "EdDSA" else ("EC" if alg.startswith("ES") else "RSA")
        self.jwk: dict[str, Any] = _JWK_OF[kty].to_jwk(self.private.public_key(), as_dict=True)
        self.private_jwk: dict[str, Any] = _JWK_OF[kty].to_jwk(self.private, as_dict=True)
        self.jkt = thumbprint(self.jwk)

    def proof(
        self,
        method: str,
        url: str,
        access_token: str | None = None,
        *,
        nonce: str | None = None,
        now: float | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        key: Any = None,
    ) -> str:
        """A proof of `method` `url` at `now` (default: the real clock); `header` and `claims`
        change or add members, a member given as None is left out; `key` signs instead."""
        payload: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time() if now is None else now),
        }
        if access_token is not None:
            payload["ath"] = ath(access_token)
        if nonce is not None:
            payload["nonce"] = nonce
        fields = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        payload.update(claims or {})
        fields = {name: value for name, value in fields.items() if value is not None}
        payload = {name: value for name, value in payload.items() if value is not None}
        alg = fields.pop("alg", self.alg)
        return jwt.encode(payload, key or self.private, algorithm=alg, headers=fields)


def unsigned(proof_header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand (PyJWT will not make `alg: none` with a jwk, or a bad MAC)."""
    parts = [b64url(json.dumps(part).encode()) for part in (proof_header, claims)]
    return ".".join([*parts, b64url(signature)])


def access_claims(access_token: str) -> dict[str, Any]:
    """The claims of an access token, unchecked: what the test wants to look at."""
    return jwt.decode(access_token, options={"verify_signature": False})
