"""Server nonces for DPoP proofs (RFC 9449 §8, §9), `--dpop-nonce`: no state, one answer on
every worker and node.

A nonce is the HMAC of a time slot (`every` seconds long) under the key the server signs
access tokens with in that slot, which every node is given (docs/signing-keys.md): each
node works out the same nonce without asking anyone. The current slot's nonce and the
previous one's are accepted, so a nonce lives between one and two slots; a client holding
the previous one is sent the current one on its next successful answer.
"""

import hashlib
import hmac
from collections.abc import Callable

from server_stub.dpop import b64url
from server_stub.keys import KeySet

NONCE_BYTES = 18  # 144 bits, 24 base64url characters: NQCHAR only (RFC 9449 §8.1)


class DPoPNonces:
    """The nonce of the moment, and whether a proof's nonce is still accepted."""

    def __init__(self, keys: KeySet, clock: Callable[[], float], *, every: float) -> None:
        if every <= 0:
            raise ValueError("a nonce's time slot must be positive")
        self._keys = keys
        self._clock = clock
        self._every = every

    def current(self) -> str:
        """The nonce of the current slot: the one to send a client."""
        return self._nonce(self._slot())

    def accepts(self, nonce: str | None) -> bool:
        """Whether `nonce` is the current slot's or the previous one's."""
        if nonce is None:
            return False
        slot = self._slot()
        given = nonce.encode("ascii", "replace")
        return any(
            hmac.compare_digest(given, self._nonce(past).encode("ascii"))
            for past in (slot, slot - 1)
        )

    def is_current(self, nonce: str | None) -> bool:
        """Whether `nonce` is the current slot's: if not, the client is sent that one."""
        return nonce is not None and hmac.compare_digest(
            nonce.encode("ascii", "replace"), self.current().encode("ascii")
        )

    def _slot(self) -> int:
        return int(self._clock() // self._every)

    def _nonce(self, slot: int) -> str:
        try:
            secret = self._keys.signing_key(slot * self._every).secret
        except ValueError:  # no key signed then (all newer): the first key, on every node
            secret = self._keys.keys[0].secret
        message = f"dpop-nonce {self._every:g} {slot}".encode("ascii")
        return b64url(hmac.new(secret, message, hashlib.sha256).digest()[:NONCE_BYTES])
