"""The store on a PostgreSQL server: for many workers and many machines sharing one state.

psycopg 3 with a connection pool per process; the rules are server_stub/sql_store.py's.
The exchange's ``UPDATE ... WHERE spent_at IS NULL RETURNING`` holds the row's lock until
COMMIT, so a second exchange of the token, from any node, waits and then matches nothing.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

from server_stub.sql_store import Connection, SqlStore
from server_stub.store import StoreUnavailable

# Per process. The API's sync routes run in a pool of 40 threads; a request holds a
# connection for a millisecond or two, so a few are plenty, and three nodes with two
# workers each stay far below PostgreSQL's default of 100 connections.
POOL_SIZE = 8
POOL_TIMEOUT_SECONDS = 5.0
# Whoever holds this lock creates or upgrades the schema: concurrent CREATE TABLE IF NOT
# EXISTS can fail on PostgreSQL's catalog, so nodes starting together take turns.
_SCHEMA_LOCK = 0x5EB5_7AB1E

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS families (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES families (id),
    expires_at DOUBLE PRECISION NOT NULL,
    spent_at DOUBLE PRECISION,
    parent_hash TEXT,
    successor_hash TEXT,
    sealed_successor BYTEA
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_expiry ON refresh_tokens (expires_at);
CREATE INDEX IF NOT EXISTS refresh_tokens_sealed ON refresh_tokens (spent_at)
    WHERE sealed_successor IS NOT NULL;
CREATE TABLE IF NOT EXISTS login_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    charged_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_by_key ON login_attempts (key, charged_at);
CREATE INDEX IF NOT EXISTS login_attempts_by_time ON login_attempts (charged_at);
CREATE TABLE IF NOT EXISTS dpop_proofs (
    key TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS dpop_proofs_by_expiry ON dpop_proofs (expires_at);
-- Added after the first release: a database made by it gets it at its next start.
ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS jkt TEXT;
"""


class PostgresStore(SqlStore):
    """`AuthStore` on a PostgreSQL database named by a ``postgresql://`` URL."""

    # Pruning skips rows a request holds; a resent successor is locked while it is read.
    LOCK_TO_CHANGE = " FOR UPDATE SKIP LOCKED"
    LOCK_TO_READ = " FOR SHARE"

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        # autocommit: a lone read is its own statement; writes say conn.transaction().
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            timeout=POOL_TIMEOUT_SECONDS,
            open=False,
            name="server_stub",
        )
        try:
            self._pool.open(wait=True, timeout=POOL_TIMEOUT_SECONDS * 2)
            with self._transaction() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                conn.execute(_SCHEMA)
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as error:
            # The pool's timeout is one too. psycopg's messages carry no query parameters.
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        with self._connection() as conn, conn.transaction():
            yield conn

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def _serialize_keys(self, conn: Connection, keys: Sequence[str]) -> None:
        # One lock per key, taken in one order by every node: counting a key's charges and
        # adding one is a single step, so two nodes cannot both take a key's last try.
        for key in sorted(keys):
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    def close(self) -> None:
        """Close the pool's connections."""
        self._pool.close()
