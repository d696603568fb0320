"""The store in one SQLite file (WAL mode): the default, for one machine.

Every process and thread opens its own connections to the file, so the server's threads,
its ``--workers`` and a restarted server all share it. Each write is one ``BEGIN IMMEDIATE``
transaction, which takes the file's write lock up front: a read-then-write can never
interleave with another, in this process or any other.
"""

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server_stub.sql_store import SqlStore
from server_stub.store import StoreUnavailable

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
CREATE TABLE IF NOT EXISTS login_attempts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    charged_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_by_key ON login_attempts (key, charged_at);
CREATE INDEX IF NOT EXISTS login_attempts_by_time ON login_attempts (charged_at);
CREATE TABLE IF NOT EXISTS dpop_proofs (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dpop_proofs_by_expiry ON dpop_proofs (expires_at);
"""
# Columns added after the first release: a file made by it gets them at its next start.
_ADDED_COLUMNS = {
    "refresh_tokens": {
        "parent_hash": "TEXT",
        "successor_hash": "TEXT",
        "sealed_successor": "BLOB",
        "jkt": "TEXT",
    },
}
_ADDED_INDEXES = """
CREATE INDEX IF NOT EXISTS refresh_tokens_by_expiry ON refresh_tokens (expires_at);
CREATE INDEX IF NOT EXISTS refresh_tokens_sealed ON refresh_tokens (spent_at)
    WHERE sealed_successor IS NOT NULL;
"""


class SqliteStore(SqlStore):
    """`AuthStore` on one SQLite file; safe to share between threads and processes.

    The write lock that ``BEGIN IMMEDIATE`` takes serializes every transaction, so no row
    locks are needed: the shared SQL's lock clauses stay empty.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writing = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        # The file holds password hashes: create it owner-only before SQLite creates it 0o644.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
        # One transaction, so workers starting together create or upgrade it once.
        with self._transaction() as conn:
            for statement in _statements(_SCHEMA):
                conn.execute(statement)
            for table, columns in _ADDED_COLUMNS.items():
                present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, kind in columns.items():
                    if name not in present:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            for statement in _statements(_ADDED_INDEXES):
                conn.execute(statement)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: no implicit transactions; we BEGIN and COMMIT ourselves.
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as error:
            raise StoreUnavailable(str(error)) from error
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.Error as error:
            # SQLite's messages ("database is locked") carry no request data.
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so read-then-write cannot interleave.
        # One writer per process at a time: the others queue on a lock that wakes them in
        # turn. Left to SQLite's busy handler, which polls with sleeps of up to 100 ms, a
        # few of 40 threads kept losing on a loaded machine until their 5 s ran out (503).
        with self._writing, self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Nothing to let go: every operation closes its own connection."""


def _statements(script: str) -> list[str]:
    """The statements of a script (executescript would COMMIT the open transaction)."""
    return [statement for statement in script.split(";") if statement.strip()]
