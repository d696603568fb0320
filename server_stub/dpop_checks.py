"""The DPoP checks that need more than the proof: one `DPoP` header, the URL the request came
to, the server's nonce, and a `jti` never seen before (RFC 9449 §4.3, §11.1).

The replay cache is the store (`AuthStore.remember_proof`): one insert that fails on a
`jti` already there, so a proof replayed to another worker or node is refused too. A row
lives as long as its proof could be accepted (`iat` plus the window, and a margin for
clocks), then the pruner deletes it.
"""

import hashlib
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import Scope

from server_stub.dpop import IAT_WINDOW, InvalidProof, Proof, read_proof
from server_stub.dpop_nonces import DPoPNonces
from server_stub.store import AuthStore

PROOF_HEADER = "DPoP"
NONCE_HEADER = "DPoP-Nonce"
_CLOCK_MARGIN = 5.0  # seconds a replay-cache row outlives its proof's window


class NonceRequired(Exception):
    """The proof carries no nonce, or one no longer accepted: `use_dpop_nonce`."""

    def __init__(self, nonce: str) -> None:
        super().__init__("the server requires its nonce in the DPoP proof")
        self.nonce = nonce


def request_url(scope: Scope) -> str:
    """The URL the request was sent to, as the client named it: its scheme, the `Host` it
    came to (not the address this process listens on, which a proxy may hide) and the path
    as sent, without the query."""
    headers = Headers(scope=scope)
    host = headers.get("host")
    if not host:
        server_host, server_port = scope.get("server") or ("localhost", None)
        host = f"{server_host}:{server_port}" if server_port else server_host
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    return f"{scope['scheme']}://{host}{path.partition('?')[0]}"


class DPoPChecks:
    """Reads a request's proof, and remembers it once it is accepted."""

    def __init__(
        self,
        store: AuthStore,
        clock: Callable[[], float],
        *,
        nonces: DPoPNonces | None = None,
        required: bool = False,
    ) -> None:
        self._store = store
        self._clock = clock
        self.nonces = nonces
        self.required = required

    def proof_of(self, scope: Scope, access_token: str | None = None) -> Proof | None:
        """The request's proof after every stateless check and the nonce's; None without a
        `DPoP` header. Raises InvalidProof or NonceRequired."""
        values = Headers(scope=scope).getlist(PROOF_HEADER)
        if not values:
            return None
        if len(values) > 1:
            raise InvalidProof("send exactly one DPoP header")
        proof = read_proof(
            values[0],
            method=scope["method"],
            url=request_url(scope),
            now=self._clock(),
            access_token=access_token,
        )
        if self.nonces is not None and not self.nonces.accepts(proof.nonce):
            raise NonceRequired(self.nonces.current())
        return proof

    def remember(self, proof: Proof) -> None:
        """Record the proof's `jti` for its URL; InvalidProof if it was seen before."""
        key = hashlib.sha256(f"{proof.htu}\n{proof.jti}".encode()).hexdigest()
        expires_at = proof.iat + IAT_WINDOW + _CLOCK_MARGIN
        if not self._store.remember_proof(key, expires_at=expires_at):
            raise InvalidProof("DPoP proof was used before (its jti is not new)")

    def nonce_to_send(self, proof: Proof | None) -> str | None:
        """The current nonce, for a client whose proof carried an older one."""
        if self.nonces is None or proof is None or self.nonces.is_current(proof.nonce):
            return None
        return self.nonces.current()
