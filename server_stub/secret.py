"""The access-token signing secret: from AUTH_SECRET, or made once and kept owner-only."""

import contextlib
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

SECRET_ENV = "AUTH_SECRET"
MIN_SECRET_BYTES = 32


def secret_path_for(db_path: Path) -> Path:
    """Where the generated secret lives: next to the database, e.g. ``auth.db.secret``."""
    return db_path.with_name(db_path.name + ".secret")


def load_signing_secret(db_path: Path, environ: Mapping[str, str] = os.environ) -> bytes:
    """Return the HMAC key for access tokens, creating and persisting one on first start.

    A key given in ``AUTH_SECRET`` wins and nothing is written. Otherwise the key file next
    to the database is read, or created with mode 0o600 so restarts keep tokens valid.
    """
    from_env = environ.get(SECRET_ENV)
    if from_env:
        secret = from_env.encode("utf-8")
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long")
        return secret
    path = secret_path_for(db_path)
    if not path.exists():
        _create_secret_file(path)
    return _read_secret_file(path)


def _create_secret_file(path: Path) -> None:
    """Write a fresh key atomically; if another process won the race, keep its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0o600, so the key is never readable by others, not even briefly.
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "w") as temp:
            temp.write(secrets.token_bytes(MIN_SECRET_BYTES).hex() + "\n")
            temp.flush()
            os.fsync(temp.fileno())
        # link() never overwrites, unlike rename(): two first starts agree on one key.
        with contextlib.suppress(FileExistsError):
            os.link(temp_name, path)
    finally:
        os.unlink(temp_name)


def _read_secret_file(path: Path) -> bytes:
    """Read the key, tightening the file's mode if someone loosened it."""
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise ValueError(f"{path} is not a hex-encoded secret") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"{path} holds fewer than {MIN_SECRET_BYTES} bytes")
    return secret
