"""A refresh token's successor, sealed with the token itself for the reuse grace.

A client whose refresh answer was lost presents the spent token again and must get the
same successor back, yet the server keeps refresh tokens only as hashes. So it keeps the
successor encrypted under a key that only the spent token gives: a keystream of
HMAC-SHA256(token, label + counter), XORed with the successor. Whoever reads the database
holds the token's SHA-256 hash, not the token, and cannot unseal it.

Each token seals exactly one value (it is exchanged once), so the keystream is a one-time
pad and is never reused. The store keeps the successor's hash beside the seal, and an
unsealed value is used only if it matches that hash.
"""

import hashlib
import hmac
import itertools

_LABEL = b"server_stub sealed successor "


def seal(successor: str, token: str) -> bytes:
    """Encrypt ``successor`` so that only the holder of ``token`` can read it back."""
    plain = successor.encode("utf-8")
    return bytes(a ^ b for a, b in zip(plain, _keystream(token, len(plain)), strict=True))


def unseal(sealed: bytes, token: str, successor_hash: str) -> str | None:
    """The successor `seal` hid, or None if ``token`` or the stored hash does not fit it."""
    plain = bytes(a ^ b for a, b in zip(sealed, _keystream(token, len(sealed)), strict=True))
    try:
        successor = plain.decode("utf-8")
    except UnicodeDecodeError:
        return None
    digest = hashlib.sha256(plain).hexdigest()
    return successor if hmac.compare_digest(digest, successor_hash) else None


def _keystream(token: str, length: int) -> bytes:
    key = token.encode("utf-8", "surrogatepass")
    blocks = (
        hmac.digest(key, _LABEL + counter.to_bytes(4, "big"), "sha256")
        for counter in itertools.count()
    )
    return b"".join(itertools.islice(blocks, -(-length // 32)))[:length]
