"""Who calls the API: the access token of `Authorization`, sent as `Bearer` (RFC 6750) or as
`DPoP` with its proof (RFC 9449 §7).

- `DPoP <token>`: the token must be DPoP-bound (`cnf.jkt`), and come with one proof whose
  `ath` is its hash and whose key is the one it is bound to; the proof passes every other
  check of §4.3 too (server_stub/dpop.py, server_stub/dpop_checks.py).
- `Bearer <token>`: an unbound token, as before DPoP. A DPoP-bound token sent as Bearer
  is refused (§7.2), and with `--require-dpop` every Bearer token is.

The server's own tokens and a trusted provider's (`--trust-issuer`) take the same rules.
Refusals are 401: for a Bearer token `WWW-Authenticate: Bearer error="invalid_token"`;
wherever DPoP is at stake a DPoP challenge (`errors.DPoPChallenge`).
"""

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import Scope

from server_stub.dpop import InvalidProof
from server_stub.dpop_checks import DPoPChecks, NonceRequired
from server_stub.errors import DPoPChallenge, InvalidToken
from server_stub.issuer_tokens import IssuerTokens, unverified_issuer
from server_stub.tokens import AccessClaims, AccessTokens


@dataclass(frozen=True)
class Caller:
    """A verified caller, and a fresher DPoP nonce to send it, if any."""

    claims: AccessClaims
    nonce: str | None = None


class ResourceAuth:
    """Verifies the `Authorization` of an API request."""

    def __init__(
        self,
        access_tokens: AccessTokens,
        issuer_tokens: IssuerTokens | None,
        checks: DPoPChecks,
    ) -> None:
        self._access_tokens = access_tokens
        self._issuer_tokens = issuer_tokens
        self._checks = checks

    def caller(self, scope: Scope) -> Caller:
        """The caller of this request, or InvalidToken / DPoPChallenge saying why not."""
        authorization = Headers(scope=scope).get("authorization")
        scheme, _, token = (authorization or "").strip().partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if scheme == "dpop" and token:
            return self._dpop_caller(scope, token)
        if self._checks.required:
            raise DPoPChallenge("invalid_token", "this API takes DPoP-bound tokens only")
        if scheme != "bearer" or not token:
            raise InvalidToken("a Bearer access token is required")
        claims = self._verify(token)
        if claims.jkt is not None:
            raise DPoPChallenge(
                "invalid_token", "a DPoP-bound access token goes with the DPoP scheme and a proof"
            )
        return Caller(claims)

    def _dpop_caller(self, scope: Scope, token: str) -> Caller:
        try:
            claims = self._verify(token)
        except InvalidToken as refused:
            raise DPoPChallenge("invalid_token", refused.message) from None
        if claims.jkt is None:
            raise DPoPChallenge("invalid_token", "this access token is not DPoP-bound")
        try:
            proof = self._checks.proof_of(scope, access_token=token)
            if proof is None:
                raise InvalidProof("a DPoP-bound access token needs a DPoP proof")
            if proof.jkt != claims.jkt:
                raise DPoPChallenge("invalid_token", "the access token is bound to another key")
            self._checks.remember(proof)
        except InvalidProof as refused:
            raise DPoPChallenge("invalid_dpop_proof", str(refused)) from None
        except NonceRequired as needed:
            raise DPoPChallenge("use_dpop_nonce", str(needed), needed.nonce) from None
        return Caller(claims, self._checks.nonce_to_send(proof))

    def _verify(self, token: str) -> AccessClaims:
        issuer_tokens = self._issuer_tokens
        if issuer_tokens is not None and unverified_issuer(token) == issuer_tokens.issuer:
            return issuer_tokens.verify(token)  # the trusted provider's
        return self._access_tokens.verify(token)
