"""Token bookkeeping: the stored pair, and reading an access token's `exp` for timing.

Reading `exp` here never decides validity (only the server does that); it only lets the
gate refresh shortly before expiry instead of earning a 401.
"""

import base64
import binascii
import functools
import json
import re
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Tokens:
    """The pair a login or a refresh hands out."""

    access: str
    refresh: str


class TokenStore(Protocol):
    """Where the pair lives between page loads (`window.localStorage` in the browser)."""

    def load(self) -> Tokens | None:
        """The stored pair, or None when either half is missing."""
        ...

    def save(self, tokens: Tokens) -> None:
        """Store a new pair, replacing the old one."""
        ...

    def clear(self) -> None:
        """Forget both tokens (log out)."""
        ...


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
# Visible ASCII only. A regular expression, not a loop over the characters: the gate checks
# the stored pair before every call, and in Pyodide the loop took 60 µs a token.
_USABLE_TOKEN = re.compile(f"[!-~]{{1,{MAX_TOKEN_LENGTH}}}")


def usable_token(value: object) -> bool:
    """Whether `value` can go into a header as a token: visible ASCII, of sane length."""
    return isinstance(value, str) and _USABLE_TOKEN.fullmatch(value) is not None


def stored_pair(access: object, refresh: object) -> Tokens | None:
    """The pair read back from storage, whatever was put there by hand or by other code.

    Without a usable refresh token there is no session (None). An unusable access token
    becomes "", which the gate answers with a refresh instead of a doomed request.
    """
    if not usable_token(refresh):
        return None
    return Tokens(access if usable_token(access) else "", refresh)


def parse_token_pair(payload: object) -> Tokens | None:
    """The pair from a login or refresh answer, or None when the answer lacks a usable one."""
    if not isinstance(payload, dict):
        return None
    access = payload.get("authorizationToken")
    refresh = payload.get("refreshToken")
    if not usable_token(access) or not usable_token(refresh):
        return None
    return Tokens(access=access, refresh=refresh)


@functools.lru_cache(maxsize=8)  # read before every call, for the few tokens of a session
def access_token_lifetime(token: str) -> tuple[float, float] | None:
    """The `iat` and `exp` claims (seconds since the epoch) of a JWT, or None if unreadable."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    segment = parts[1]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(claims, dict):
        return None
    issued, expires = claims.get("iat"), claims.get("exp")
    if not all(_is_number(value) for value in (issued, expires)) or expires <= issued:
        return None
    return float(issued), float(expires)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
