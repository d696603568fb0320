"""The gate's transport with DPoP (RFC 9449): a proof on every request, each server's nonce
remembered, and a server's demand for a new nonce answered by one retry.

It sits below the gate, between it and the wire: the gate (and a sign-in, and a login) send
through it as through any transport. So a 401 that only asks for a nonce is retried here and
never reaches the gate, which would otherwise take it for an expired token and spend a
refresh on it (a refresh token rotation for nothing, or a logout).
"""

import json
import time

from refresh_gate._dpop_proof import DPoPProofs, jwk_thumbprint, origin_of, target_uri
from refresh_gate._errors import DPoPNonceError
from refresh_gate._wire import Request, Response

PROOF_HEADER = "DPoP"
NONCE_HEADER = "dpop-nonce"  # as Response.headers names it: lower case
_USE_NONCE = "use_dpop_nonce"


class DPoPTransport:
    """Sends with `transport`, each request with a fresh proof signed by `key` (a DPoPKey).

    `origin` is the page's own (where a path goes); `clock` and `random_bytes` as
    DPoPProofs takes them; `nonces` keeps the servers' nonces (a dict of this object's
    own unless given). A request that carries an access token (`Authorization: DPoP`
    or `Bearer`) gets a proof bound to it (`ath`). A server's `DPoP-Nonce` is remembered for
    its origin and sent with every later proof there; a token endpoint's 400
    `use_dpop_nonce`, or an API's 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"`,
    is sent once more with the new nonce; a second such answer raises DPoPNonceError.
    """

    def __init__(
        self, transport, key, *, origin: str, random_bytes, clock=time.time, nonces=None
    ) -> None:
        self._transport = transport
        self._origin = origin
        self._proofs = DPoPProofs(key, clock=clock, random_bytes=random_bytes)
        # Origin -> the last nonce its server gave: any object with `get` and item
        # assignment; a page's is shared by its tabs (StoredNonces).
        self._nonces = {} if nonces is None else nonces

    async def new_key(self) -> str:
        """A new key pair for a new sign-in, made before its token request (every tab of
        the origin then signs with it); its RFC 7638 thumbprint, for `dpop_jkt`."""
        return jwk_thumbprint(await self._proofs.key.renew())

    async def key_thumbprint(self) -> str | None:
        """The current key's thumbprint, or None if there is no key."""
        jwk = await self._proofs.key.public_jwk()
        return None if jwk is None else jwk_thumbprint(jwk)

    def session_ended(self) -> None:
        """The session is over (the gate calls this as it drops the tokens): delete the
        key, so that nothing signs for tokens bound to it any more."""
        self._proofs.key.forget()

    async def __call__(self, request: Request) -> Response:
        """Send `request` with a proof; once more with the server's new nonce if it asks."""
        target = target_uri(request.path, self._origin)
        origin = origin_of(target)
        sent_nonce = self._nonces.get(origin)
        response = await self._send(request, target, origin, sent_nonce)
        if not asks_for_nonce(response):
            return response
        nonce = self._nonces.get(origin)
        if nonce is None or nonce == sent_nonce:
            raise DPoPNonceError(
                f"{request.method} {request.path}: the server asked for a DPoP nonce and gave none"
            )
        response = await self._send(request, target, origin, nonce)
        if asks_for_nonce(response):
            raise DPoPNonceError(
                f"{request.method} {request.path}: the server refused its own DPoP nonce"
            )
        return response

    async def _send(self, request: Request, target: str, origin: str, nonce) -> Response:
        proof = await self._proofs.proof(
            request.method, target, access_token=_access_token(request), nonce=nonce
        )
        if proof is not None:
            request = request.with_header(PROOF_HEADER, proof)
        response = await self._transport(request)
        given = response.headers.get(NONCE_HEADER)
        if given:
            self._nonces[origin] = given
        return response


def asks_for_nonce(response: Response) -> bool:
    """Whether `response` asks for a proof with the server's nonce (RFC 9449 §8, §9): a
    token endpoint's 400 with the error `use_dpop_nonce`, a resource's 401 with it in
    `WWW-Authenticate`."""
    if response.status == 401:
        return f'error="{_USE_NONCE}"' in response.headers.get("www-authenticate", "")
    if response.status != 400:
        return False
    try:
        answer = json.loads(response.body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("error") == _USE_NONCE


def _access_token(request: Request) -> str | None:
    """The access token `request` presents, whatever its scheme, or None."""
    for name, value in request.headers.items():
        if name.lower() == "authorization":
            token = value.partition(" ")[2].strip()
            return token or None
    return None
