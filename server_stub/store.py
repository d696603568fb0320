"""SQLite storage for users and refresh-token families; refresh tokens are kept only as hashes."""

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS families (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES families (id),
    expires_at REAL NOT NULL,
    spent_at REAL
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens (family_id);
"""


@dataclass(frozen=True)
class User:
    """A stored account."""

    id: str
    name: str
    password_hash: str


class RefreshRefused(Exception):
    """A refresh token cannot be exchanged; ``reason`` says why, for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthStore:
    """Users, sessions (token families) and refresh tokens in one SQLite file.

    Each operation opens its own connection, so the store is safe to share between the
    server's worker threads and between processes on the same file.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # The file holds password hashes: create it owner-only before SQLite creates it 0o644.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: no implicit transactions; we BEGIN and COMMIT ourselves.
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so read-then-write cannot interleave.
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def has_users(self) -> bool:
        """Tell whether any account exists yet."""
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def add_user(self, name: str, password_hash: str) -> None:
        """Create an account; an existing account of that name is left as it is."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO users (id, name, password_hash) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO NOTHING",
                (str(uuid.uuid4()), name, password_hash),
            )

    def find_user(self, name: str) -> User | None:
        """Return the account with this name, if any."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id, name, password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        return User(*row) if row else None

    def start_family(self, user_id: str, token_hash: str, *, now: float, expires_at: float) -> str:
        """Open a new session for a login, holding its first refresh token; return its id."""
        family_id = uuid.uuid4().hex
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO families (id, user_id, created_at) VALUES (?, ?, ?)",
                (family_id, user_id, now),
            )
            conn.execute(
                "INSERT INTO refresh_tokens (hash, family_id, expires_at) VALUES (?, ?, ?)",
                (token_hash, family_id, expires_at),
            )
        return family_id

    def rotate(
        self,
        token_hash: str,
        successor_hash: str,
        *,
        now: float,
        expires_at: float,
        reuse_grace: float,
    ) -> User:
        """Spend a refresh token and store its successor in one transaction; return the owner.

        Raises `RefreshRefused` for an unknown, revoked, expired or already spent token. A
        token spent more than ``reuse_grace`` seconds ago is taken as stolen: its whole
        family is revoked, so whoever holds the successor is logged out too.
        """
        with self._transaction() as conn:
            outcome = _spend(conn, token_hash, now=now, reuse_grace=reuse_grace)
            if isinstance(outcome, User):
                conn.execute(
                    "INSERT INTO refresh_tokens (hash, family_id, expires_at)"
                    " SELECT ?, family_id, ? FROM refresh_tokens WHERE hash = ?",
                    (successor_hash, expires_at, token_hash),
                )
        # Raised after COMMIT, so a revocation made while refusing is kept.
        if isinstance(outcome, RefreshRefused):
            raise outcome
        return outcome

    def revoke_family(self, token_hash: str, *, now: float) -> None:
        """End the session this refresh token belongs to; unknown tokens are ignored."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE families SET revoked_at = ? WHERE revoked_at IS NULL AND id ="
                " (SELECT family_id FROM refresh_tokens WHERE hash = ?)",
                (now, token_hash),
            )


def _spend(
    conn: sqlite3.Connection, token_hash: str, *, now: float, reuse_grace: float
) -> User | RefreshRefused:
    """Mark the token spent and return its owner, or say why it cannot be (inside a write lock)."""
    row = conn.execute(
        "SELECT t.family_id, t.expires_at, t.spent_at, f.revoked_at,"
        " u.id, u.name, u.password_hash"
        " FROM refresh_tokens t JOIN families f ON f.id = t.family_id"
        " JOIN users u ON u.id = f.user_id WHERE t.hash = ?",
        (token_hash,),
    ).fetchone()
    if row is None:
        return RefreshRefused("refresh token is not recognised")
    family_id, token_expires_at, spent_at, revoked_at, *user = row
    if revoked_at is not None:
        return RefreshRefused("session has ended; log in again")
    if spent_at is not None:
        if now - spent_at < reuse_grace:
            return RefreshRefused("refresh token was already used")
        conn.execute("UPDATE families SET revoked_at = ? WHERE id = ?", (now, family_id))
        return RefreshRefused("refresh token was reused; session revoked")
    if token_expires_at <= now:
        return RefreshRefused("refresh token has expired")
    spent = conn.execute(
        "UPDATE refresh_tokens SET spent_at = ? WHERE hash = ? AND spent_at IS NULL",
        (now, token_hash),
    )
    # The write lock makes a lost race impossible here; the rowcount check keeps it so.
    if spent.rowcount != 1:
        return RefreshRefused("refresh token was already used")
    return User(*user)
