"""DPoP for the unit tests: a key that signs with a fixed signature, and the OAuth server of
fakes.py speaking DPoP (RFC 9449) as a server must, nonces and all.

Portable (CPython and MicroPython), as fakes.py is.
"""

import json

from refresh_gate import DPoPTransport, Response
from refresh_gate._dpop_proof import access_token_hash
from refresh_gate._tokens import base64url_decode
from tests.refresh_gate.fakes import OAUTH_TOKEN_PATH, OAuthServer

ORIGIN = "http://127.0.0.1:8000"
# RFC 9449 §4.1's example key (its thumbprint is §6.1's `jkt`), with the two members
# WebCrypto adds to an exported JWK, which a proof must not carry.
RFC_KEY = {
    "kty": "EC",
    "crv": "P-256",
    "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
    "ext": True,
    "key_ops": ["verify"],
}
RFC_THUMBPRINT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
SIGNATURE = bytes(range(64))
NOW = 1_700_000_000.0


class FixedKey:
    """A DPoPKey whose every signature is SIGNATURE; it notes what it signed, each new key
    (`renewals`) and each deletion (`forgotten`)."""

    def __init__(self, jwk: dict | None = None) -> None:
        self.jwk = jwk
        self.signed: list = []
        self.renewals = 0
        self.forgotten = 0

    async def public_jwk(self) -> dict | None:
        return self.jwk

    async def sign(self, signing_input: str) -> bytes:
        self.signed.append(signing_input)
        return SIGNATURE

    async def renew(self) -> dict:
        self.renewals += 1
        self.jwk = dict(RFC_KEY)
        return self.jwk

    def forget(self) -> None:
        self.forgotten += 1
        self.jwk = None


def counting_bytes(count: int) -> bytes:
    """Random bytes made predictable: 0, 1, 2, ..."""
    return bytes(index % 256 for index in range(count))


def dpop_transport(server, key: FixedKey | None = None, nonces=None) -> DPoPTransport:
    """`server` behind a DPoPTransport on the page's origin, with a key made at sign-in;
    `nonces` shared with other transports (another tab's) if given."""
    return DPoPTransport(
        server,
        key or FixedKey(dict(RFC_KEY)),
        origin=ORIGIN,
        clock=lambda: NOW,
        random_bytes=counting_bytes,
        nonces=nonces,
    )


def read_proof(proof: str) -> tuple:
    """(header, claims, signature) of a proof, decoded."""
    header, claims, signature = proof.split(".")
    return (
        json.loads(base64url_decode(header)),
        json.loads(base64url_decode(claims)),
        base64url_decode(signature),
    )


class DPoPServer(OAuthServer):
    """The OAuth server of fakes.py with DPoP: a token request with a proof is answered
    `token_type: DPoP`; an API call with a DPoP token needs a proof bound to it (`ath`).

    `nonce_at` names where a proof must carry the server's current nonce ("token", "api"):
    one without it is answered `use_dpop_nonce` with a new one. `refuse_nonces` refuses
    even the current one, as a broken server would. `proofs` holds (path, claims or None)
    of every request, in order.
    """

    def __init__(self, *, nonce_at: tuple = (), refuse_nonces: bool = False, **options) -> None:
        super().__init__(**options)
        self.nonce_at = nonce_at
        self.refuse_nonces = refuse_nonces
        self.nonce = "nonce-0"
        self._nonces = 0
        self.proofs: list = []
        self._proof_now = None  # the claims of the request being answered

    def _answer(self, request) -> Response:
        proof = request.headers.get("DPoP")
        claims = read_proof(proof)[1] if proof else None
        self.proofs.append((request.path, claims))
        self._proof_now = claims
        where = "token" if request.path == OAUTH_TOKEN_PATH else "api"
        fresh = claims is not None and claims.get("nonce") == self.nonce
        if where in self.nonce_at and (self.refuse_nonces or not fresh):
            return self._use_nonce(where)
        if where == "api" and request.path.startswith("/api/"):
            return self._resource(request, claims)
        return super()._answer(request)

    def _use_nonce(self, where: str) -> Response:
        self._nonces += 1
        self.nonce = f"nonce-{self._nonces}"
        if where == "token":
            body = json.dumps({"error": "use_dpop_nonce"})
            return Response(400, body, {"dpop-nonce": self.nonce})
        challenge = 'DPoP error="use_dpop_nonce", error_description="a nonce is required"'
        headers = {"www-authenticate": challenge, "dpop-nonce": self.nonce}
        return Response(401, "", headers)

    def _resource(self, request, claims) -> Response:
        authorization = request.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        bound = claims is not None and claims.get("ath") == access_token_hash(token)
        if scheme == "Bearer" or (scheme == "DPoP" and bound):
            return super()._answer(request.with_header("Authorization", f"Bearer {token}"))
        return Response(401, "", {"www-authenticate": 'DPoP error="invalid_token"'})

    def _granted(self, access: str, refresh: str | None) -> Response:
        response = super()._granted(access, refresh)
        if self._proof_now is None:
            return response
        answer = json.loads(response.body)
        answer["token_type"] = "DPoP"
        return Response(200, json.dumps(answer))

    def api_proofs(self) -> list:
        return [claims for path, claims in self.proofs if path.startswith("/api/")]

    def token_proofs(self) -> list:
        return [claims for path, claims in self.proofs if path == OAUTH_TOKEN_PATH]
