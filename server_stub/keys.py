"""The signing key set: which key signs a new access token, which keys a token may name.

Each key has a ``kid`` that every token it signs carries in its header. The key that signs
is the newest one whose ``signs_from`` has come and that is not retired; the others still
verify, so a new key logs nobody out. A retired key verifies until the tokens it signed
have expired (``retired`` plus their lifetime), then never again; a kid that names no key
is refused. Nothing here reads a file or a clock: callers pass the keys and the time.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

MIN_SECRET_BYTES = 32
MAX_KID_LENGTH = 64


@dataclass(frozen=True)
class SigningKey:
    """One HMAC key and its times (Unix seconds); ``retired`` is None while it is in use."""

    kid: str
    secret: bytes
    created: float
    signs_from: float
    retired: float | None = None

    def __post_init__(self) -> None:
        """Refuse a key too short to sign with, or a kid a header could not carry cleanly."""
        if len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"key {self.kid!r} has fewer than {MIN_SECRET_BYTES} bytes")
        if not self.kid or len(self.kid) > MAX_KID_LENGTH or not self.kid.isascii():
            raise ValueError(f"kid {self.kid!r} must be 1 to {MAX_KID_LENGTH} ASCII characters")

    def can_sign(self, now: float) -> bool:
        """Whether this key may sign a token at ``now``."""
        return self.signs_from <= now and (self.retired is None or now < self.retired)

    def verifies(self, now: float, token_lifetime: float) -> bool:
        """Whether a token naming this key may still be valid at ``now``."""
        return self.retired is None or now < self.retired + token_lifetime


def kid_of_secret(secret: bytes) -> str:
    """The stable kid of a key that came without one (``AUTH_SECRET``, a ``<db>.secret`` file).

    It names the key without revealing it: a SHA-256 digest, under a label of its own.
    """
    return hashlib.sha256(b"server_stub signing key\0" + secret).hexdigest()[:16]


def new_key(now: float, signs_after: float = 0.0) -> SigningKey:
    """A fresh random key, named by its day and a random part, signing ``signs_after`` from now."""
    day = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d")
    return SigningKey(
        kid=f"{day}-{secrets.token_hex(4)}",
        secret=secrets.token_bytes(MIN_SECRET_BYTES),
        created=now,
        signs_from=now + signs_after,
    )


class KeySet:
    """The keys one server signs and verifies access tokens with, fixed at start."""

    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys = tuple(keys)
        self._by_kid = {key.kid: key for key in self._keys}
        if not self._keys:
            raise ValueError("the key set is empty")
        if len(self._by_kid) != len(self._keys):
            raise ValueError("two keys in the key set have the same kid")

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """Every key, in the order they were given."""
        return self._keys

    def signing_key(self, now: float) -> SigningKey:
        """The newest key that may sign at ``now``; ValueError when none may."""
        candidates = [key for key in self._keys if key.can_sign(now)]
        if not candidates:
            raise ValueError("no key in the key set may sign now (all retired or not yet due)")
        # max() keeps the first of equals: reversed, a later line wins a tie.
        return max(reversed(candidates), key=lambda key: key.signs_from)

    def verifying_key(self, kid: str | None, now: float, token_lifetime: float) -> SigningKey:
        """The key a token naming ``kid`` must verify with; LookupError when there is none.

        A token without a kid was signed before tokens named their key, by the key that came
        without one, so it verifies with that key only.
        """
        key = self._unnamed_key() if kid is None else self._by_kid.get(kid)
        if key is None:
            raise LookupError("the token names no key of this server")
        if not key.verifies(now, token_lifetime):
            raise LookupError("the token's key is retired")
        return key

    def _unnamed_key(self) -> SigningKey | None:
        for key in self._keys:
            if key.kid == kid_of_secret(key.secret):
                return key
        return None
