"""Login, refresh and logout: the rules that tie passwords, refresh tokens and access tokens."""

import hashlib
import secrets
from dataclasses import dataclass

from server_stub.config import Config
from server_stub.errors import InvalidCredentials, InvalidGrant
from server_stub.passwords import PasswordChecker
from server_stub.sealing import seal, unseal
from server_stub.store import AuthStore, RefreshRefused
from server_stub.tokens import AccessTokens


@dataclass(frozen=True)
class TokenPair:
    """What a successful login or refresh hands the client."""

    user_id: str
    access_token: str
    refresh_token: str
    expires_in: int


def new_refresh_token() -> str:
    """Return a fresh opaque refresh token carrying 256 random bits."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a refresh token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Sessions:
    """Starts, renews and ends sessions; each login is its own refresh-token family."""

    def __init__(
        self,
        store: AuthStore,
        access_tokens: AccessTokens,
        passwords: PasswordChecker,
        config: Config,
    ) -> None:
        self._store = store
        self._access_tokens = access_tokens
        self._passwords = passwords
        self._refresh_ttl = config.refresh_ttl
        self._reuse_grace = config.reuse_grace
        self._clock = config.clock

    def login(self, name: str, password: str, jkt: str | None = None) -> TokenPair:
        """Check the password and open a new session; other sessions stay as they are.

        With ``jkt``, the thumbprint of the DPoP key the client proved, both tokens are
        bound to that key.
        """
        user = self._store.find_user(name)
        matches = self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not matches:
            raise InvalidCredentials("user name or password is wrong")
        refresh_token = new_refresh_token()
        now = self._clock()
        self._store.start_family(
            user.id,
            hash_refresh_token(refresh_token),
            now=now,
            expires_at=now + self._refresh_ttl,
            jkt=jkt,
        )
        return self._pair(user.id, user.name, refresh_token, jkt)

    def refresh(self, refresh_token: str, jkt: str | None = None) -> TokenPair:
        """Exchange a refresh token, once, for a new pair in the same session.

        Presented again within the reuse grace (its answer was lost, or another tab raced
        this one), it gets the same refresh token again, with a new access token, as long as
        that successor is unused: the server issued one successor, and both callers end with
        it. The successor is kept only sealed with the presented token (server_stub/sealing.py).

        A token bound to a DPoP key is refused, and left as it is, unless ``jkt`` is that
        key's thumbprint; the new access token is bound to ``jkt``.
        """
        successor = new_refresh_token()
        now = self._clock()
        sealed = seal(successor, refresh_token) if self._reuse_grace > 0 else None
        try:
            rotation = self._store.rotate(
                hash_refresh_token(refresh_token),
                hash_refresh_token(successor),
                sealed,
                now=now,
                expires_at=now + self._refresh_ttl,
                reuse_grace=self._reuse_grace,
                jkt=jkt,
            )
        except RefreshRefused as refused:
            raise InvalidGrant(refused.reason) from None
        if rotation.resent is not None:
            resent = unseal(rotation.resent.sealed, refresh_token, rotation.resent.hash)
            if resent is None:
                raise InvalidGrant("refresh token was already used")
            successor = resent
        return self._pair(rotation.user.id, rotation.user.name, successor, jkt)

    def logout(self, refresh_token: str) -> None:
        """End the session of this refresh token; its other refresh tokens stop working."""
        self._store.revoke_family(hash_refresh_token(refresh_token), now=self._clock())

    def _pair(self, user_id: str, name: str, refresh_token: str, jkt: str | None) -> TokenPair:
        return TokenPair(
            user_id=user_id,
            access_token=self._access_tokens.issue(user_id, name, jkt),
            refresh_token=refresh_token,
            expires_in=self._access_tokens.ttl,
        )
