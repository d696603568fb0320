"""Token bookkeeping: the stored pair, and reading an access token's `exp` for timing.

Reading `exp` here never decides validity (only the server does that); it only lets the
gate refresh shortly before expiry instead of earning a 401.
"""

import binascii
import json

BEARER = "Bearer"
DPOP = "DPoP"


class Tokens:
    """The pair a login or a refresh hands out; `expires_in` is the access token's lifetime
    in seconds where the answer said so (an OAuth 2.0 server's `expires_in`), else None;
    `token_type` how the access token is sent: "DPoP" for one bound to the page's DPoP key
    (RFC 9449), "Bearer" otherwise."""

    def __init__(
        self,
        access: str,
        refresh: str,
        expires_in: float | None = None,
        token_type: str | None = BEARER,
    ) -> None:
        self.access = access
        self.refresh = refresh
        self.expires_in = expires_in
        self.token_type = token_scheme(token_type)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Tokens)
            and self.access == other.access
            and self.refresh == other.refresh
            and self.expires_in == other.expires_in
            and self.token_type == other.token_type
        )

    def __repr__(self) -> str:
        return f"Tokens(access={self.access!r}, refresh={self.refresh!r})"


class TokenStore:
    """Where the pair lives between page loads (`window.localStorage` in the browser).

    Any object with these three methods will do; this class only documents the shape.
    """

    def load(self) -> Tokens | None:
        """The stored pair, or None when either half is missing."""
        raise NotImplementedError

    def save(self, tokens: Tokens) -> None:
        """Store a new pair, replacing the old one."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget both tokens (log out)."""
        raise NotImplementedError


class MemoryTokenStore:
    """A TokenStore in memory, for CPython tests and for pages that must not persist."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self._tokens = tokens

    def load(self) -> Tokens | None:
        """The pair, if any."""
        return self._tokens

    def save(self, tokens: Tokens) -> None:
        """Replace the pair."""
        self._tokens = tokens

    def clear(self) -> None:
        """Drop the pair."""
        self._tokens = None


MAX_TOKEN_LENGTH = 8192  # far above any real token, far below what breaks a request header
_LIFETIMES_KEPT = 8  # the few tokens of a session


def usable_token(value: object) -> bool:
    """Whether `value` can go into a header as a token: visible ASCII, of sane length."""
    if not isinstance(value, str):
        return False
    # The bytes' smallest and largest values, not a loop over the characters: the gate
    # checks the stored pair before every call, and a loop took 60 µs a token in Pyodide.
    # Anything beyond ASCII encodes to bytes over 0x7F.
    raw = value.encode()
    return 0 < len(raw) <= MAX_TOKEN_LENGTH and min(raw) >= 0x21 and max(raw) <= 0x7E


def token_scheme(token_type: object) -> str:
    """The Authorization scheme for a `token_type` as a token answer gives it (RFC 6749
    §7.1 says it is case-insensitive): "DPoP", or "Bearer" for anything else."""
    if isinstance(token_type, str) and token_type.lower() == "dpop":
        return DPOP
    return BEARER


def stored_pair(access: object, refresh: object, token_type: object = None) -> Tokens | None:
    """The pair read back from storage, whatever was put there by hand or by other code.

    Without a usable refresh token there is no session (None). An unusable access token
    becomes "", which the gate answers with a refresh instead of a doomed request.
    """
    if not usable_token(refresh):
        return None
    return Tokens(access if usable_token(access) else "", refresh, None, token_type)


def parse_token_pair(payload: object) -> Tokens | None:
    """The pair from a login or refresh answer, or None when the answer lacks a usable one."""
    if not isinstance(payload, dict):
        return None
    access = payload.get("authorizationToken")
    refresh = payload.get("refreshToken")
    if not usable_token(access) or not usable_token(refresh):
        return None
    return Tokens(access, refresh)


_lifetimes: dict = {}  # token -> its lifetime, read before every call: decoded once


def access_token_lifetime(token: str) -> tuple | None:
    """The `iat` and `exp` claims (seconds since the epoch) of a JWT, or None if unreadable."""
    if token in _lifetimes:
        return _lifetimes[token]
    if len(_lifetimes) >= _LIFETIMES_KEPT:
        _lifetimes.clear()
    lifetime = _lifetimes[token] = _read_lifetime(token)
    return lifetime


def _read_lifetime(token: str) -> tuple | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64url_decode(parts[1]).decode())
    except (ValueError, UnicodeError):
        return None
    if not isinstance(claims, dict):
        return None
    issued, expires = claims.get("iat"), claims.get("exp")
    if not all(_is_number(value) for value in (issued, expires)) or expires <= issued:
        return None
    return float(issued), float(expires)


def base64url_decode(segment: str) -> bytes:
    """The bytes of a base64url segment without padding; ValueError if it is not one.

    By hand: MicroPython's base64 has no urlsafe_b64decode, and its binascii takes bytes only.
    """
    text = segment.replace("-", "+").replace("_", "/")
    try:
        return binascii.a2b_base64((text + "=" * (-len(text) % 4)).encode())
    except Exception as error:  # binascii.Error on CPython, a plain Exception on MicroPython
        raise ValueError(f"not base64url: {error}") from None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
