"""Where the signing keys live: a keys file, AUTH_SECRET, or a secret file beside the database.

The server takes its keys from one of these, in this order (a keys file and AUTH_SECRET
together are refused, since one of them would be ignored):

1. a keys file named by ``--keys PATH``: one JSON object a line, one line a key (``kid``,
   hex ``secret``, ``created``, optional ``signs_from`` and ``retired``; ISO 8601 times).
   Several nodes share keys by reading the same file;
2. ``AUTH_SECRET``: one key, named by a kid derived from it;
3. beside the SQLite file: ``<db>.keys`` if it exists, else ``<db>.secret`` (one hex key,
   generated at first start).

``python -m server_stub keys add`` and ``keys retire`` write keys files; every file written
here is created owner-only (0o600) and replaced in one rename, so a reader never sees half.
"""

import contextlib
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from server_stub.keys import MIN_SECRET_BYTES, KeySet, SigningKey, kid_of_secret, new_key

SECRET_ENV = "AUTH_SECRET"
_REQUIRED_FIELDS = {"kid", "secret", "created"}
_FIELDS = {*_REQUIRED_FIELDS, "signs_from", "retired"}


def secret_path_for(db_path: Path) -> Path:
    """Where the generated secret lives: next to the database, e.g. ``auth.db.secret``."""
    return db_path.with_name(db_path.name + ".secret")


def keys_path_for(db_path: Path) -> Path:
    """Where the keys file of an SQLite setup lives: next to the database, ``auth.db.keys``."""
    return db_path.with_name(db_path.name + ".keys")


def load_key_set(
    keys_path: Path | None,
    db_path: Path | None,
    now: float,
    environ: Mapping[str, str] = os.environ,
) -> KeySet:
    """Return the keys this server signs and verifies with, from the first source that is set.

    ``db_path`` is the SQLite file, or None where the database is no file (PostgreSQL): then
    the keys must come from ``keys_path`` or ``AUTH_SECRET``. The set must have a key that
    can sign now, so a mistake in the keys shows at start, not at the first login.
    """
    keys_file = _keys_file(keys_path, db_path)
    from_env = environ.get(SECRET_ENV)
    if keys_file is not None and from_env:
        raise ValueError(
            f"both {SECRET_ENV} and the keys file {keys_file} are set: unset {SECRET_ENV} "
            "(`python -m server_stub keys add` copies its key into the file)"
        )
    if keys_file is not None:
        if not keys_file.exists():
            raise ValueError(
                f"no keys file {keys_file}: make it with "
                f"`python -m server_stub keys add --keys {keys_file}`"
            )
        keys = read_keys_file(keys_file)
    elif from_env or db_path is not None:
        keys = [_single_key(load_signing_secret(db_path, environ), created=0.0)]
    else:
        raise ValueError(
            f"no signing key: with no database file to keep one beside, give --keys PATH "
            f"(the same file on every node) or {SECRET_ENV}"
        )
    key_set = KeySet(keys)
    key_set.signing_key(now)
    return key_set


def add_key(
    keys_path: Path | None,
    db_path: Path | None,
    now: float,
    signs_after: float = 0.0,
    environ: Mapping[str, str] = os.environ,
) -> tuple[SigningKey, Path]:
    """Add a fresh key to the keys file, signing ``signs_after`` seconds from ``now``.

    Without a keys file yet, the file starts with the key in use today (``AUTH_SECRET``, or
    ``<db>.secret``, which is then removed), so tokens signed with it keep working.
    Returns the new key and the file it was written to.
    """
    target = _target_file(keys_path, db_path)
    replaced_secret_file = None
    if target.exists():
        keys = read_keys_file(target)
    elif environ.get(SECRET_ENV):
        keys = [_single_key(load_signing_secret(None, environ), created=now)]
    elif db_path is not None and secret_path_for(db_path).exists():
        replaced_secret_file = secret_path_for(db_path)
        made = min(replaced_secret_file.stat().st_mtime, now)
        keys = [_single_key(_read_secret_file(replaced_secret_file), created=made)]
    else:
        keys = []
    added = new_key(now, signs_after)
    write_keys_file(target, [*keys, added])
    if replaced_secret_file is not None:
        replaced_secret_file.unlink()
    return added, target


def retire_key(keys_path: Path | None, db_path: Path | None, kid: str, now: float) -> Path:
    """Mark a key of the keys file retired at ``now``; it verifies for one token lifetime more.

    Refused when the key is unknown or already retired, or when no other key could sign.
    Returns the file written.
    """
    target = _target_file(keys_path, db_path)
    if not target.exists():
        raise ValueError(f"no keys file {target}: add a key first (`keys add`)")
    keys = read_keys_file(target)
    retiring = next((key for key in keys if key.kid == kid), None)
    if retiring is None:
        raise ValueError(f"{target} has no key {kid!r}")
    if retiring.retired is not None:
        raise ValueError(f"key {kid!r} is retired already, since {format_time(retiring.retired)}")
    retired = [key if key is not retiring else _retired(key, now) for key in keys]
    try:
        KeySet(retired).signing_key(now)
    except ValueError:
        raise ValueError(
            f"retiring {kid!r} would leave no key to sign with now: add one first "
            "(`keys add`), and retire this one once the new one signs"
        ) from None
    write_keys_file(target, retired)
    return target


def read_keys_file(path: Path) -> list[SigningKey]:
    """Read a keys file, tightening its mode if someone loosened it."""
    _make_owner_only(path)
    keys = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                keys.append(_key_from_json(json.loads(line)))
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(f"{path}, line {number}: {error}") from None
    return keys


def write_keys_file(path: Path, keys: list[SigningKey]) -> None:
    """Replace the keys file in one rename, owner-only from its first byte."""
    text = "".join(json.dumps(_key_to_json(key)) + "\n" for key in keys)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".keys-")
    try:
        with os.fdopen(fd, "w") as temp:
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def format_time(timestamp: float) -> str:
    """Unix seconds as the keys file writes them: ISO 8601 in UTC, ``2026-12-01T10:00:00Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def load_signing_secret(db_path: Path | None, environ: Mapping[str, str] = os.environ) -> bytes:
    """Return the one HMAC key of a single-secret setup, creating it on first start.

    A key given in ``AUTH_SECRET`` wins and nothing is written. Otherwise the key file next
    to the database is read, or created with mode 0o600 so restarts keep tokens valid.
    """
    from_env = environ.get(SECRET_ENV)
    if from_env:
        secret = from_env.encode("utf-8")
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_BYTES} bytes long")
        return secret
    if db_path is None:
        raise ValueError(f"{SECRET_ENV} is not set and there is no database file to keep a key")
    path = secret_path_for(db_path)
    if not path.exists():
        _create_secret_file(path)
    return _read_secret_file(path)


def _keys_file(
    keys_path: Path | None, db_path: Path | None, must_exist: bool = True
) -> Path | None:
    """The keys file in use: the one given, else ``<db>.keys`` (if it exists, when asked)."""
    if keys_path is not None:
        return keys_path
    if db_path is not None and (not must_exist or keys_path_for(db_path).exists()):
        return keys_path_for(db_path)
    return None


def _target_file(keys_path: Path | None, db_path: Path | None) -> Path:
    """The keys file a command writes: the one given, else ``<db>.keys``."""
    target = _keys_file(keys_path, db_path, must_exist=False)
    if target is None:
        raise ValueError("give --keys PATH, or --db PATH to keep the keys beside an SQLite file")
    return target


def _single_key(secret: bytes, created: float) -> SigningKey:
    """The key of a single-secret setup, under the kid derived from it, signing since made."""
    return SigningKey(kid_of_secret(secret), secret, created=created, signs_from=created)


def _retired(key: SigningKey, now: float) -> SigningKey:
    return SigningKey(key.kid, key.secret, key.created, key.signs_from, retired=now)


def _key_to_json(key: SigningKey) -> dict[str, object]:
    return {
        "kid": key.kid,
        "secret": key.secret.hex(),
        "created": format_time(key.created),
        "signs_from": format_time(key.signs_from),
        "retired": None if key.retired is None else format_time(key.retired),
    }


def _key_from_json(entry: object) -> SigningKey:
    if not isinstance(entry, dict):
        raise ValueError("a key is a JSON object")
    unknown, missing = set(entry) - _FIELDS, _REQUIRED_FIELDS - set(entry)
    if unknown or missing:
        raise ValueError(f"unknown fields {sorted(unknown)}, missing fields {sorted(missing)}")
    if not isinstance(entry["kid"], str) or not isinstance(entry["secret"], str):
        raise ValueError("kid and secret must be strings")
    retired = entry.get("retired")
    return SigningKey(
        kid=entry["kid"],
        secret=bytes.fromhex(entry["secret"]),
        created=_time(entry["created"]),
        signs_from=_time(entry.get("signs_from", entry["created"])),
        retired=None if retired is None else _time(retired),
    )


def _time(text: object) -> float:
    """An ISO 8601 time with its zone (``2026-12-01T10:00:00Z``) as Unix seconds."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not an ISO 8601 time")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone (write Z for UTC)")
    return moment.timestamp()


def _make_owner_only(path: Path) -> None:
    """Tighten a key file that others may read; refuse one that cannot be tightened."""
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        try:
            path.chmod(0o600)
        except OSError:
            raise ValueError(f"{path} is readable by others: make it owner-only") from None


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
    _make_owner_only(path)
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise ValueError(f"{path} is not a hex-encoded secret") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"{path} holds fewer than {MIN_SECRET_BYTES} bytes")
    return secret
