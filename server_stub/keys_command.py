"""``python -m server_stub keys add|retire|list``: change the signing keys, logging nobody out."""

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from server_stub.config import Config
from server_stub.keys import KeySet, SigningKey
from server_stub.secret import add_key, format_time, keys_path_for, read_keys_file, retire_key

_RESTART = "Restart every server that reads it to take the change."


def _non_negative_seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be zero or more seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--keys",
        type=Path,
        metavar="PATH",
        help="the keys file the servers read (default: <db>.keys beside the SQLite file)",
    )
    where.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        default=Config().db_path,
        help="the SQLite file whose keys to change, without --keys (default: %(default)s)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m server_stub keys",
        description="Add, retire or list the keys access tokens are signed with.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser(
        "add",
        parents=[where],
        help="add a new key; it signs new tokens from --sign-after on, the others still verify",
    )
    add.add_argument(
        "--sign-after",
        type=_non_negative_seconds,
        default=0.0,
        metavar="S",
        help="seconds until the new key starts signing: with several nodes, longer than it "
        "takes to give every node the file and restart it (default: 0, at once)",
    )
    retire = commands.add_parser(
        "retire",
        parents=[where],
        help="retire a key: its tokens verify for one access-token lifetime more, then never",
    )
    retire.add_argument("kid", help="the key to retire, as `keys list` shows it")
    commands.add_parser("list", parents=[where], help="show every key and what it does now")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run one ``keys`` command; prints what changed, or why nothing did (exit status 1)."""
    args = _parser().parse_args(argv)
    now = time.time()
    try:
        if args.command == "add":
            key, path = add_key(args.keys, args.db, now, signs_after=args.sign_after)
            print(f"added key {key.kid} to {path}; it signs from {format_time(key.signs_from)}.")
            print(_RESTART)
        elif args.command == "retire":
            path = retire_key(args.keys, args.db, args.kid, now)
            print(f"retired key {args.kid} in {path}: its tokens verify until they expire.")
            print(_RESTART)
        else:
            path = args.keys or keys_path_for(args.db)
            if not path.exists():
                raise ValueError(f"no keys file {path}: `keys add` starts one")
            for line in _describe(read_keys_file(path), now):
                print(line)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _describe(keys: list[SigningKey], now: float) -> list[str]:
    """One line a key: kid, what it does now, and its times."""
    signing = KeySet(keys).signing_key(now) if any(key.can_sign(now) for key in keys) else None
    lines = []
    for key in keys:
        if key is signing:
            state = "signs"
        elif key.retired is not None:
            state = f"retired {format_time(key.retired)}"
        elif key.signs_from > now:
            state = f"signs from {format_time(key.signs_from)}"
        else:
            state = "verifies"
        lines.append(f"{key.kid}  created {format_time(key.created)}  {state}")
    return lines
