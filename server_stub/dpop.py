"""A DPoP proof (RFC 9449), checked on its own: what §4.3 asks of the JWT and its request.

A proof is a JWT the client signs with a key of its own, in the request's `DPoP` header:
header `typ: dpop+jwt`, an asymmetric `alg` from `ALGORITHMS`, the public key as `jwk`;
claims `jti`, `htm` (the request's method), `htu` (its URL without query and fragment),
`iat`, and at the API `ath`, the hash of the access token it comes with. The key's RFC 7638
thumbprint (`jkt`) is what tokens are bound to. Nothing here keeps state: whether a `jti`
was seen before, and which nonce the server expects, are `server_stub/dpop_checks.py`'s.
"""

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt

PROOF_TYPE = "dpop+jwt"
# Asymmetric only: never `none`, never a MAC (the "key" would be public, in the proof).
ALGORITHMS = ("ES256", "PS256", "RS256", "EdDSA")
# A proof's `iat` may be this many seconds behind or ahead of the server's clock.
IAT_WINDOW = 60.0
MAX_PROOF_LENGTH = 8192
MAX_JTI_LENGTH = 256
MIN_RSA_BITS = 2048
# Members of a private JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# The key type and curve each algorithm signs with, and the RFC 7638 members of that type.
_KEY_OF = {"ES256": ("EC", "P-256"), "PS256": ("RSA", None), "RS256": ("RSA", None)}
_KEY_OF["EdDSA"] = ("OKP", "Ed25519")
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}
_THUMBPRINT_MEMBERS["OKP"] = ("crv", "kty", "x")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]")


class InvalidProof(Exception):
    """The proof fails a check of RFC 9449 §4.3: `invalid_dpop_proof`."""


@dataclass(frozen=True)
class Proof:
    """A proof that passed every stateless check."""

    jkt: str  # the RFC 7638 SHA-256 thumbprint of its key
    jti: str
    htu: str  # normalized
    iat: float
    nonce: str | None


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token_hash(access_token: str) -> str:
    """`ath`: base64url of the SHA-256 of the access token's ASCII (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(access_token.encode("ascii", "replace")).digest())


def jwk_thumbprint(jwk: dict) -> str:
    """The RFC 7638 thumbprint: SHA-256 of the key's required members, sorted, no spaces."""
    members = _THUMBPRINT_MEMBERS.get(jwk.get("kty"))  # type: ignore[arg-type]
    if members is None or not all(isinstance(jwk.get(name), str) for name in members):
        raise InvalidProof("jwk is not a public EC, RSA or OKP key")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def normalize_url(url: str) -> str:
    """The URL as `htu` is compared (RFC 9449 §4.3, RFC 3986 §6.2.2 and §6.2.3): lower-case
    scheme and host, no default port, percent-encodings upper-case and unreserved ones
    decoded, dot segments removed, an empty path as `/`; query and fragment dropped.

    Raises InvalidProof for anything but an absolute http(s) URL without user info.
    """
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), (parts.hostname or ""), parts.port
    except ValueError:
        raise InvalidProof("htu is not a URL") from None
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        raise InvalidProof("htu is not an http(s) URL")
    host = f"[{host}]" if ":" in host else host  # urlsplit drops an IPv6 literal's brackets
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{authority}{_normalize_path(parts.path)}"


def _normalize_path(path: str) -> str:
    def percent(match: re.Match[str]) -> str:
        character = chr(int(match.group(0)[1:], 16))
        return character if _UNRESERVED.fullmatch(character) else match.group(0).upper()

    segments: list[str] = []
    for segment in _PERCENT.sub(percent, path).split("/")[1:]:
        if segment == "..":
            segments = segments[:-1]
        elif segment != ".":
            segments.append(segment)
    dotted_end = path.endswith(("/.", "/.."))
    return "/" + "/".join(segments) + ("/" if dotted_end and segments else "")


def read_proof(
    proof: str, *, method: str, url: str, now: float, access_token: str | None = None
) -> Proof:
    """Check a proof for a request of `method` to `url` at `now`; with `access_token`, its
    `ath` too. Returns the proof, or raises InvalidProof saying which check failed."""
    if len(proof) > MAX_PROOF_LENGTH:
        raise InvalidProof("DPoP proof is too long")
    try:
        header = jwt.get_unverified_header(proof)
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidProof("DPoP proof is not a JWT") from None
    if header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f"DPoP proof's typ is not {PROOF_TYPE}")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidProof(f"DPoP proof's alg is not one of {' '.join(ALGORITHMS)}")
    key = _public_key(header.get("jwk"), algorithm)
    try:
        claims = jwt.decode(
            proof,
            key.key,
            algorithms=[algorithm],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidProof("DPoP proof's signature does not verify with its jwk") from None
    return _checked_claims(claims, header["jwk"], method, url, now, access_token)


def _public_key(jwk: object, algorithm: str) -> jwt.PyJWK:
    if not isinstance(jwk, dict):
        raise InvalidProof("DPoP proof has no jwk")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise InvalidProof("DPoP proof's jwk holds a private key")
    kty, curve = _KEY_OF[algorithm]
    if jwk.get("kty") != kty or (curve is not None and jwk.get("crv") != curve):
        raise InvalidProof(f"DPoP proof's jwk is not a key for {algorithm}")
    try:
        key = jwt.PyJWK(jwk, algorithm=algorithm)
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidProof("DPoP proof's jwk is not a valid key") from None
    if kty == "RSA" and key.key.key_size < MIN_RSA_BITS:
        raise InvalidProof(f"DPoP proof's RSA key has fewer than {MIN_RSA_BITS} bits")
    return key


def _checked_claims(
    claims: dict, jwk: dict, method: str, url: str, now: float, access_token: str | None
) -> Proof:
    jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise InvalidProof("DPoP proof has no jti")
    if not isinstance(htm, str) or not isinstance(htu, str):
        raise InvalidProof("DPoP proof has no htm or htu")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidProof("DPoP proof has no iat")
    if htm != method:
        raise InvalidProof("DPoP proof's htm is not the request's method")
    if normalize_url(htu) != normalize_url(url):
        raise InvalidProof("DPoP proof's htu is not the request's URL")
    if abs(now - iat) > IAT_WINDOW:
        raise InvalidProof(f"DPoP proof's iat is more than {IAT_WINDOW:g} s from now")
    if access_token is not None:
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(
            ath.encode("ascii", "replace"), access_token_hash(access_token).encode("ascii")
        ):
            raise InvalidProof("DPoP proof's ath is not the access token's hash")
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise InvalidProof("DPoP proof's nonce is not a string")
    return Proof(jwk_thumbprint(jwk), jti, normalize_url(htu), float(iat), nonce)
