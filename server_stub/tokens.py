"""Access tokens: short-lived HS256 JWTs that name their key, issued and checked by pinned rules."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from server_stub.errors import InvalidToken
from server_stub.keys import KeySet

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "at+jwt"  # RFC 9068 §2.1
ACCESS_TOKEN_USE = "access"
LEEWAY_SECONDS = 5
MAX_TOKEN_LENGTH = 8192
_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
_ACCEPTED_TYPES = {ACCESS_TOKEN_TYPE, "application/" + ACCESS_TOKEN_TYPE}


@dataclass(frozen=True)
class AccessClaims:
    """Who a verified access token speaks for."""

    user_id: str
    name: str
    # The thumbprint of the DPoP key the token is bound to (its `cnf.jkt`, RFC 9449 §6.1).
    jkt: str | None = None


def bound_key(claims: dict) -> str | None:
    """The `cnf.jkt` of a verified token's claims, None if it has no `cnf`; InvalidToken for a
    `cnf` this server cannot honour (another confirmation method: better refused than taken
    for a bearer token)."""
    confirmation = claims.get("cnf")
    if confirmation is None:
        return None
    jkt = confirmation.get("jkt") if isinstance(confirmation, dict) else None
    if not isinstance(jkt, str) or not jkt:
        raise InvalidToken("access token is bound by a confirmation this server cannot check")
    return jkt


class AccessTokens:
    """Issues and verifies access tokens with one key set, issuer and audience."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        clock: Callable[[], float],
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._clock = clock

    @property
    def ttl(self) -> int:
        """Lifetime of a new access token in seconds."""
        return self._ttl

    def issue(self, user_id: str, name: str, jkt: str | None = None) -> str:
        """Sign a new access token for this user, valid from now for ``ttl`` seconds.

        It is signed with the key set's current key and names it in its ``kid`` header.
        With ``jkt`` it is bound to that DPoP key: ``cnf: {"jkt": ...}``.
        """
        moment = self._clock()
        key = self._keys.signing_key(moment)
        now = int(moment)
        claims = {
            "sub": user_id,
            "name": name,
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": secrets.token_urlsafe(16),
            "token_use": ACCESS_TOKEN_USE,
        }
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}
        return jwt.encode(
            claims,
            key.secret,
            algorithm=ALGORITHM,
            headers={"typ": ACCESS_TOKEN_TYPE, "kid": key.kid},
        )

    def verify(self, token: str) -> AccessClaims:
        """Return the claims of a valid access token, or raise `InvalidToken` saying why not.

        The algorithm list is pinned, so the token's own ``alg`` (``none``, RS256, ...) is
        never trusted; signature, time claims, issuer, audience and type are all checked. The
        ``kid`` only picks which of the server's keys to check with: a kid that names none, or
        a retired key whose tokens have all expired, is refused before any signature check.
        """
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("access token is too long")
        secret = self._verifying_secret(token)
        try:
            decoded = jwt.decode_complete(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("access token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("access token is not valid yet") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidToken("access token is not valid") from None
        header, payload = decoded["header"], decoded["payload"]
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES:
            raise InvalidToken("token is not an access token")
        if payload.get("token_use") != ACCESS_TOKEN_USE:
            raise InvalidToken("token is not an access token")
        user_id, name = payload["sub"], payload.get("name")
        if not isinstance(user_id, str) or not isinstance(name, str):
            raise InvalidToken("access token is not valid")
        return AccessClaims(user_id=user_id, name=name, jkt=bound_key(payload))

    def _verifying_secret(self, token: str) -> bytes:
        """The secret of the key the token names, if this server still accepts that key."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidToken("access token is not valid") from None
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("access token is not valid")
        # A retired key stays valid as long as the tokens it signed: their lifetime and leeway.
        lifetime = self._ttl + LEEWAY_SECONDS
        try:
            return self._keys.verifying_key(kid, self._clock(), lifetime).secret
        except LookupError:
            raise InvalidToken("access token's key is unknown or retired") from None
