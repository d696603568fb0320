"""When to refresh before a token expires, so that natural expiry costs no 401 at all.

Reading an access token's `exp` never decides its validity (only the server does that); it
only times the refresh. A token the gate cannot read is timed by the answer's `expires_in`.
"""

from refresh_gate._tokens import Tokens, access_token_lifetime


class ExpiryTiming:
    """How long the access tokens this gate received have left, by the server's clock."""

    def __init__(self, clock, expiry_skew: float) -> None:
        self._clock = clock
        self._expiry_skew = expiry_skew
        # How far this machine's clock runs ahead of the server's, learnt from the `iat` of
        # each pair received, so that a wrong clock does not turn every call into a refresh.
        self._clock_ahead = 0.0
        # The access token a refresh before expiry was last started for: never twice.
        self._early_refresh_for: str | None = None
        # For an access token the gate cannot read (not a JWT): when it was received and
        # when it expires by the answer's `expires_in`, on this machine's clock.
        self._told_lifetime: tuple | None = None

    def received(self, tokens: Tokens) -> None:
        """Note a pair just received from the server."""
        now = self._clock()
        lifetime = access_token_lifetime(tokens.access)
        if lifetime is not None:
            self._clock_ahead = now - lifetime[0]
        elif tokens.expires_in is not None:
            self._told_lifetime = (tokens.access, now, now + tokens.expires_in)

    def refreshing_early(self, access: str) -> None:
        """A refresh before expiry starts for `access`: never another for the same token."""
        self._early_refresh_for = access

    def time_left(self, access: str) -> tuple | None:
        """Seconds until `access` expires by the server's clock, and the refresh skew for it.

        The skew is the configured one, at most half the token's lifetime; None means the
        token is not worth refreshing early (unreadable, or already tried).
        """
        if access == self._early_refresh_for:
            return None
        lifetime = access_token_lifetime(access)
        if lifetime is not None:
            issued, expires = lifetime
            now = self._clock() - self._clock_ahead  # the server's clock
        elif self._told_lifetime is not None and self._told_lifetime[0] == access:
            _, issued, expires = self._told_lifetime
            now = self._clock()  # expires_in was counted from this machine's receipt
        else:
            return None
        return expires - now, min(self._expiry_skew, (expires - issued) / 2)
