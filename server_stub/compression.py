"""Which stored copy of a vendored file to send: brotli, else gzip, else the file as it is.

The copies sit beside each file, named for it plus a suffix (`pyodide.asm.wasm.br`), and
are written once at set-up by server_stub/precompress.py. Nothing is compressed per request.
"""

import os
import stat
from dataclasses import dataclass

# Content codings this server has stored copies for, best first, with each copy's suffix.
CODINGS = (("br", ".br"), ("gzip", ".gz"))
_ALIASES = {"x-gzip": "gzip"}  # RFC 9110 §8.4.1.3: treat x-gzip as gzip


@dataclass(frozen=True)
class Variant:
    """One stored copy of a file: where it is, its stat, and its coding (None: as is)."""

    path: str
    stat_result: os.stat_result
    coding: str | None


def accepted_codings(accept_encoding: str | None) -> frozenset[str]:
    """The codings of `CODINGS` an Accept-Encoding header allows (weight above zero).

    No header at all gets the file as it is: RFC 9110 would allow any coding, but a
    client that does not say what it decodes is better served plain.
    """
    if not accept_encoding:
        return frozenset()
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, *parameters = (part.strip() for part in item.split(";"))
        weight = _weight(parameters)
        if name and weight is not None:
            weights[_ALIASES.get(name.lower(), name.lower())] = weight
    wildcard = weights.get("*", 0.0)
    return frozenset(coding for coding, _ in CODINGS if weights.get(coding, wildcard) > 0)


def _weight(parameters: list[str]) -> float | None:
    """The q value among an item's parameters (1 when absent), or None when malformed."""
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return None
            return weight if 0 <= weight <= 1 else None
    return 1.0


def best_variant(path: str, stat_result: os.stat_result, accept_encoding: str | None) -> Variant:
    """The first stored copy of `path` the request accepts, else the file itself.

    A copy older than its file is stale (the file was replaced without running the set-up
    again) and is never sent; neither is a copy that is a link rather than a file.
    """
    accepted = accepted_codings(accept_encoding)
    for coding, suffix in CODINGS:
        if coding not in accepted:
            continue
        try:
            copy = os.lstat(path + suffix)
        except OSError:
            continue
        if stat.S_ISREG(copy.st_mode) and copy.st_mtime >= stat_result.st_mtime:
            return Variant(path + suffix, copy, coding)
    return Variant(path, stat_result, None)


def is_stored_copy(path: str) -> bool:
    """Tell whether `path` is a compressed copy of a file beside it (never sent by name)."""
    return any(
        path.endswith(suffix) and os.path.isfile(path.removesuffix(suffix)) for _, suffix in CODINGS
    )
