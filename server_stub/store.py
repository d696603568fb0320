"""The store's interface: what the rules need kept, whichever database keeps it.

Two implementations share it, chosen once at start by `open_store`: `SqliteStore` (one file,
the default) and `PostgresStore` (a server that any number of nodes share). The rules in
sessions.py and limits.py never ask which one they have. Refresh tokens are kept only as
hashes; times are the server's clock, in seconds since the epoch.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class User:
    """A stored account."""

    id: str
    name: str
    password_hash: str


@dataclass(frozen=True)
class SealedSuccessor:
    """The successor a refresh token was exchanged for, as sealed then, and its hash."""

    sealed: bytes
    hash: str


@dataclass(frozen=True)
class Rotation:
    """A refresh token exchanged: its owner, and what to hand back.

    ``resent`` is None when the successor given to `AuthStore.rotate` was stored. Otherwise
    the token had been exchanged moments before (within the reuse grace) and its successor
    is still unused: ``resent`` is that successor, to hand back again.
    """

    user: User
    resent: SealedSuccessor | None = None


@dataclass(frozen=True)
class AttemptCharge:
    """Login attempts charged to their keys, or the time until which a key is full."""

    ids: tuple[int, ...] = ()
    blocked_until: float | None = None


class RefreshRefused(Exception):
    """A refresh token cannot be exchanged; ``reason`` says why, for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreUnavailable(Exception):
    """The database could not answer (busy, unreachable, out of connections): try again."""


class AuthStore(Protocol):
    """Users, sessions (refresh-token families), refresh tokens, failed-login charges and
    the DPoP proofs seen."""

    def has_users(self) -> bool:
        """Tell whether any account exists yet."""
        ...

    def add_user(self, name: str, password_hash: str) -> None:
        """Create an account; an existing account of that name is left as it is."""
        ...

    def find_user(self, name: str) -> User | None:
        """Return the account with this name, if any."""
        ...

    def start_family(
        self,
        user_id: str,
        token_hash: str,
        *,
        now: float,
        expires_at: float,
        jkt: str | None = None,
    ) -> str:
        """Open a new session for a login, holding its first refresh token; return its id.

        With ``jkt`` (a DPoP key's thumbprint) the token is bound to that key.
        """
        ...

    def rotate(
        self,
        token_hash: str,
        successor_hash: str,
        sealed_successor: bytes | None,
        *,
        now: float,
        expires_at: float,
        reuse_grace: float,
        jkt: str | None = None,
    ) -> Rotation:
        """Spend a refresh token and store its successor in one transaction.

        Of any number of concurrent calls with one token, on any number of nodes, exactly
        one stores its successor. The others, and later calls within ``reuse_grace``
        seconds, get the stored successor back sealed (``sealed_successor`` is kept that
        long, None keeps nothing), as long as it is unused. Raises `RefreshRefused` for an
        unknown, revoked or expired token, and for a spent one whose successor is gone or
        used. A token spent more than ``reuse_grace`` seconds ago is taken as stolen: its
        whole family is revoked, so whoever holds the successor is logged out too.

        A token bound to a DPoP key is exchanged only by a caller proving that key
        (``jkt``, the thumbprint of its proof's key); anyone else gets `RefreshRefused`
        and changes nothing: the token is not spent, its family not revoked. The successor
        is bound to the token's key, or, for an unbound token, to ``jkt``.
        """
        ...

    def remember_proof(self, key: str, *, expires_at: float) -> bool:
        """Record a DPoP proof (``key`` names its URL and ``jti``) until ``expires_at``;
        False if it was recorded before. Check and record are one statement on every node."""
        ...

    def revoke_family(self, token_hash: str, *, now: float) -> None:
        """End the session this refresh token belongs to; unknown tokens are ignored."""
        ...

    def charge_attempt(
        self, keys: Sequence[str], *, now: float, window: float, attempts: int
    ) -> AttemptCharge:
        """Charge a login attempt to each key, unless one already holds ``attempts`` charges
        younger than ``window`` seconds; check and charge are one step on every node."""
        ...

    def refund_attempt(self, ids: Sequence[int]) -> None:
        """Take back the charges of an attempt that succeeded."""
        ...

    def prune(self, *, now: float, reuse_grace: float, login_window: float, limit: int) -> int:
        """Delete (or wipe) up to ``limit`` rows of each kind that can no longer matter.

        Those are refresh tokens past their own expiry, families with no token left,
        sealed successors older than ``reuse_grace``, login charges older than
        ``login_window`` and DPoP proofs past their ``expires_at``. Each kind is its own
        short transaction. Returns the rows touched.
        """
        ...

    def close(self) -> None:
        """Let go of connections; the store is not used after this."""
        ...


def is_postgres_url(database: str | Path) -> bool:
    """Tell whether ``--db`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(database, str) and database.startswith(POSTGRES_SCHEMES)


def open_store(database: str | Path) -> AuthStore:
    """Open the store ``database`` names: a ``postgresql://`` URL, or else a SQLite file.

    The schema is created if missing, so a first start and a restart are the same.
    """
    if is_postgres_url(database):
        # Imported here so a SQLite-only server never loads the PostgreSQL driver.
        from server_stub.postgres_store import PostgresStore

        return PostgresStore(str(database))
    from server_stub.sqlite_store import SqliteStore

    return SqliteStore(Path(database))
