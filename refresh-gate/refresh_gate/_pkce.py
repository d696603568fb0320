"""PKCE (RFC 7636): the secret a sign-in proves it started, so that a stolen authorization
code is worth nothing to whoever took it.

The verifier is made from random bytes the caller draws (`crypto.getRandomValues` in the
browser, os.urandom in tests), so this module stays pure and runs on both interpreters.
"""

import binascii
import hashlib

VERIFIER_BYTES = 32  # 43 characters once encoded, the shortest RFC 7636 §4.1 allows
CHALLENGE_METHOD = "S256"


def base64url(data: bytes) -> str:
    """`data` in base64url without padding (RFC 7636 Appendix A). By hand: MicroPython's
    base64 has no urlsafe_b64encode."""
    text = binascii.b2a_base64(data).decode().strip().rstrip("=")
    return text.replace("+", "-").replace("/", "_")


def code_verifier(random_bytes: bytes) -> str:
    """A code verifier from `random_bytes` (at least VERIFIER_BYTES of them)."""
    if len(random_bytes) < VERIFIER_BYTES:
        raise ValueError(f"a code verifier needs {VERIFIER_BYTES} random bytes")
    return base64url(random_bytes)


def code_challenge(verifier: str) -> str:
    """The S256 code challenge of `verifier`: base64url(SHA-256(verifier))."""
    return base64url(hashlib.sha256(verifier.encode()).digest())
