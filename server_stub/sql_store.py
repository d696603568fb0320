"""The store's rules in the SQL that SQLite and PostgreSQL both speak, written once.

`SqliteStore` and `PostgresStore` subclass `SqlStore`: each connects in its own way,
creates its own schema, and says the few words its database needs beyond the shared
SQL (placeholders, row locks). Statements are written with ``?`` placeholders.

The exchange of a refresh token is one transaction whose first statement both checks and
spends: ``UPDATE refresh_tokens ... WHERE hash = ? AND spent_at IS NULL ... RETURNING``.
Of two such updates of one row, on any two nodes, the second finds ``spent_at`` set once
the first is done (PostgreSQL: it waits for the row's lock; SQLite: for the file's write
lock), so exactly one successor is ever stored.
"""

import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from server_stub.store import AttemptCharge, RefreshRefused, Rotation, SealedSuccessor, User


class Cursor(Protocol):
    """What the rules read from an executed statement (sqlite3 and psycopg both have it)."""

    rowcount: int

    def fetchone(self) -> Any: ...


class Connection(Protocol):
    """A DB-API connection that runs a statement directly (sqlite3 and psycopg do)."""

    def execute(self, statement: Any, parameters: Any = ...) -> Any: ...


class SqlStore:
    """`AuthStore` on any database the subclass connects to; every method is a statement
    or one transaction."""

    # Appended to a SELECT whose rows a statement is about to change or rely on.
    LOCK_TO_CHANGE = ""  # PostgreSQL: " FOR UPDATE SKIP LOCKED"
    LOCK_TO_READ = ""  # PostgreSQL: " FOR SHARE"

    def _connection(self) -> AbstractContextManager[Connection]:
        """A connection for reading, in autocommit mode: each statement stands alone."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Connection]:
        """A connection inside one transaction, committed at the end unless it raised.

        Every write goes through here, even a single statement.
        """
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        """The statement with its ``?`` placeholders in the driver's own style."""
        return statement

    def _serialize_keys(self, conn: Connection, keys: Sequence[str]) -> None:
        """Make the transaction the only one charging these keys until it ends."""

    def _run(self, conn: Connection, statement: str, *parameters: object) -> Cursor:
        return conn.execute(self._sql(statement), parameters)

    def has_users(self) -> bool:
        """Tell whether any account exists yet."""
        with self._connection() as conn:
            return self._run(conn, "SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def add_user(self, name: str, password_hash: str) -> None:
        """Create an account; an existing account of that name is left as it is."""
        with self._transaction() as conn:
            self._run(
                conn,
                "INSERT INTO users (id, name, password_hash) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO NOTHING",
                str(uuid.uuid4()),
                name,
                password_hash,
            )

    def find_user(self, name: str) -> User | None:
        """Return the account with this name, if any."""
        with self._connection() as conn:
            row = self._run(
                conn, "SELECT id, name, password_hash FROM users WHERE name = ?", name
            ).fetchone()
        return User(*row) if row else None

    def start_family(
        self,
        user_id: str,
        token_hash: str,
        *,
        now: float,
        expires_at: float,
        jkt: str | None = None,
    ) -> str:
        """Open a new session for a login, holding its first refresh token; return its id."""
        family_id = uuid.uuid4().hex
        with self._transaction() as conn:
            self._run(
                conn,
                "INSERT INTO families (id, user_id, created_at) VALUES (?, ?, ?)",
                family_id,
                user_id,
                now,
            )
            self._run(
                conn,
                "INSERT INTO refresh_tokens (hash, family_id, expires_at, jkt) VALUES (?, ?, ?, ?)",
                token_hash,
                family_id,
                expires_at,
                jkt,
            )
        return family_id

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
        """Spend a token and store its successor, or resend it (see `AuthStore.rotate`)."""
        with self._transaction() as conn:
            # A token bound to another key than the caller's matches nothing: not spent. So
            # the successor is bound to the caller's key: the token's own, or a first one.
            spent = self._run(
                conn,
                "UPDATE refresh_tokens SET spent_at = ?, successor_hash = ?, sealed_successor = ?"
                " WHERE hash = ? AND spent_at IS NULL AND expires_at > ?"
                " AND (jkt IS NULL OR jkt = ?)"
                " AND family_id IN (SELECT id FROM families WHERE revoked_at IS NULL)"
                " RETURNING family_id, parent_hash",
                now,
                successor_hash,
                sealed_successor,
                token_hash,
                now,
                jkt,
            ).fetchone()
            if spent is None:
                outcome = self._refuse_or_resend(
                    conn, token_hash, now=now, reuse_grace=reuse_grace, jkt=jkt
                )
            else:
                outcome = self._store_successor(
                    conn, token_hash, successor_hash, *spent, expires_at=expires_at, jkt=jkt
                )
        # Raised after COMMIT, so a revocation made while refusing is kept.
        if isinstance(outcome, RefreshRefused):
            raise outcome
        return outcome

    def _store_successor(
        self,
        conn: Connection,
        token_hash: str,
        successor_hash: str,
        family_id: str,
        parent_hash: str | None,
        *,
        expires_at: float,
        jkt: str | None,
    ) -> Rotation:
        self._run(
            conn,
            "INSERT INTO refresh_tokens (hash, family_id, expires_at, parent_hash, jkt)"
            " VALUES (?, ?, ?, ?, ?)",
            successor_hash,
            family_id,
            expires_at,
            token_hash,
            jkt,
        )
        if parent_hash is not None:
            # This token was its parent's successor; now that it is used, never resend it.
            self._run(
                conn,
                "UPDATE refresh_tokens SET sealed_successor = NULL WHERE hash = ?",
                parent_hash,
            )
        user = self._run(
            conn,
            "SELECT u.id, u.name, u.password_hash FROM families f"
            " JOIN users u ON u.id = f.user_id WHERE f.id = ?",
            family_id,
        ).fetchone()
        return Rotation(User(*user))

    def _refuse_or_resend(
        self,
        conn: Connection,
        token_hash: str,
        *,
        now: float,
        reuse_grace: float,
        jkt: str | None,
    ) -> Rotation | RefreshRefused:
        """Why the token was not spent now, or the successor it was spent for moments ago."""
        row = self._run(
            conn,
            "SELECT t.family_id, t.spent_at, f.revoked_at, t.jkt,"
            " t.successor_hash, t.sealed_successor, u.id, u.name, u.password_hash"
            " FROM refresh_tokens t JOIN families f ON f.id = t.family_id"
            " JOIN users u ON u.id = f.user_id WHERE t.hash = ?",
            token_hash,
        ).fetchone()
        if row is None:
            return RefreshRefused("refresh token is not recognised")
        family_id, spent_at, revoked_at, bound_to, resent_hash, resent, *user = row
        if bound_to is not None and bound_to != jkt:
            # Before any reuse rule: whoever lacks the key can neither spend the token nor,
            # by replaying a spent one, revoke the session of the one who has it.
            return RefreshRefused("refresh token is bound to another DPoP key")
        if revoked_at is not None:
            return RefreshRefused("session has ended; log in again")
        if spent_at is None:  # unspent in a live family, yet the update matched nothing
            return RefreshRefused("refresh token has expired")
        if now - spent_at >= reuse_grace:
            self._run(
                conn,
                "UPDATE families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                now,
                family_id,
            )
            return RefreshRefused("refresh token was reused; session revoked")
        if resent is None or resent_hash is None:
            return RefreshRefused("refresh token was already used")
        # Locked (on PostgreSQL), the successor's own exchange waits until this transaction
        # ends, and is read as last committed: a successor is never resent once it was used.
        successor = self._run(
            conn,
            "SELECT spent_at, jkt FROM refresh_tokens WHERE hash = ?" + self.LOCK_TO_READ,
            resent_hash,
        ).fetchone()
        if successor is None or successor[0] is not None:
            return RefreshRefused("refresh token was already used")
        if successor[1] is not None and successor[1] != jkt:
            return RefreshRefused("refresh token was already used, by another DPoP key")
        return Rotation(User(*user), SealedSuccessor(bytes(resent), resent_hash))

    def revoke_family(self, token_hash: str, *, now: float) -> None:
        """End the session this refresh token belongs to; unknown tokens are ignored."""
        with self._transaction() as conn:
            self._run(
                conn,
                "UPDATE families SET revoked_at = ? WHERE revoked_at IS NULL AND id ="
                " (SELECT family_id FROM refresh_tokens WHERE hash = ?)",
                now,
                token_hash,
            )

    def charge_attempt(
        self, keys: Sequence[str], *, now: float, window: float, attempts: int
    ) -> AttemptCharge:
        """Charge an attempt to every key unless one is full (see `AuthStore.charge_attempt`)."""
        with self._transaction() as conn:
            self._serialize_keys(conn, keys)
            full_until = []
            for key in keys:
                # The attempts-th newest live charge: once it leaves the window, one fits.
                row = self._run(
                    conn,
                    "SELECT charged_at FROM login_attempts WHERE key = ? AND charged_at > ?"
                    " ORDER BY charged_at DESC LIMIT 1 OFFSET ?",
                    key,
                    now - window,
                    attempts - 1,
                ).fetchone()
                if row is not None:
                    full_until.append(row[0] + window)
            if full_until:
                return AttemptCharge(blocked_until=max(full_until))
            ids = tuple(
                self._run(
                    conn,
                    "INSERT INTO login_attempts (key, charged_at) VALUES (?, ?) RETURNING id",
                    key,
                    now,
                ).fetchone()[0]
                for key in keys
            )
        return AttemptCharge(ids=ids)

    def remember_proof(self, key: str, *, expires_at: float) -> bool:
        """Record a DPoP proof unless it was recorded before (see `AuthStore.remember_proof`)."""
        with self._transaction() as conn:
            inserted = self._run(
                conn,
                "INSERT INTO dpop_proofs (key, expires_at) VALUES (?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                key,
                expires_at,
            )
            return inserted.rowcount == 1

    def refund_attempt(self, ids: Sequence[int]) -> None:
        """Take back the charges of an attempt that succeeded."""
        with self._transaction() as conn:
            marks = ", ".join("?" * len(ids))
            self._run(conn, f"DELETE FROM login_attempts WHERE id IN ({marks})", *ids)

    def prune(self, *, now: float, reuse_grace: float, login_window: float, limit: int) -> int:
        """Delete up to ``limit`` dead rows of each kind (see `AuthStore.prune`).

        Each statement is its own transaction. On PostgreSQL a row some request holds right
        now is skipped for the next pass: pruning never waits for a request, nor a request
        for it, and nodes pruning at once share the work instead of queueing for it.
        """
        lock = self.LOCK_TO_CHANGE
        touched = 0
        for statement, *parameters in (
            (
                "DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM refresh_tokens"
                f" WHERE expires_at <= ? LIMIT ?{lock})",
                now,
                limit,
            ),
            (
                "DELETE FROM families WHERE id IN (SELECT id FROM families f WHERE NOT EXISTS"
                f" (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id) LIMIT ?{lock})",
                limit,
            ),
            (
                "UPDATE refresh_tokens SET sealed_successor = NULL WHERE hash IN"
                " (SELECT hash FROM refresh_tokens WHERE sealed_successor IS NOT NULL"
                f" AND spent_at <= ? LIMIT ?{lock})",
                now - reuse_grace,
                limit,
            ),
            (
                "DELETE FROM login_attempts WHERE id IN (SELECT id FROM login_attempts"
                f" WHERE charged_at <= ? LIMIT ?{lock})",
                now - login_window,
                limit,
            ),
            (
                "DELETE FROM dpop_proofs WHERE key IN (SELECT key FROM dpop_proofs"
                f" WHERE expires_at <= ? LIMIT ?{lock})",
                now,
                limit,
            ),
        ):
            with self._transaction() as conn:
                touched += self._run(conn, statement, *parameters).rowcount
        return touched
