"""DPoP proofs (RFC 9449 §4): the signed JWT a page sends with each request, so that tokens
bound to its key are worth nothing to anyone who copies them without it.

Pure: the key signs through the object it is given (WebCrypto's non-extractable key on a
page, a fixed signature in tests), and the clock and the random bytes come in too, so a
test can check a proof exactly. The JSON is written from ordered pairs, as MicroPython's
dicts keep no order.
"""

import hashlib
import json

from refresh_gate._pkce import base64url

PROOF_TYPE = "dpop+jwt"
ALGORITHM = "ES256"  # ECDSA on P-256 with SHA-256: WebCrypto has it, every DPoP server takes it
_PUBLIC_MEMBERS = ("crv", "kty", "x", "y")  # an EC public key's, in RFC 7638's order
_JTI_BYTES = 16
_SIGNATURE_BYTES = 64  # r‖s, 32 bytes each: the JWS form of an ES256 signature
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class DPoPKey:
    """What signs the proofs: the page's P-256 key pair, whose private half never leaves it.

    Any object with these methods will do; this class only documents the shape.
    """

    async def public_jwk(self) -> dict | None:
        """The current key's public JWK (kty, crv, x, y), or None if there is no key."""
        raise NotImplementedError

    async def sign(self, signing_input: str) -> bytes:
        """The ES256 signature of `signing_input` by that key: 64 bytes, r‖s."""
        raise NotImplementedError

    async def renew(self) -> dict:
        """Make a new key pair in place of any old one (a new sign-in); its public JWK."""
        raise NotImplementedError

    def forget(self) -> None:
        """Delete the key (the session is over): its tokens become worthless everywhere."""
        raise NotImplementedError


def target_uri(path: str, origin: str) -> str:
    """The proof's `htu` for a request to `path`: an absolute URL without query and
    fragment (RFC 9449 §4.2), a path resolved against `origin`, the page's own; scheme and
    host in lower case and no default port (RFC 3986 §6.2.2-3), as servers compare it."""
    if path.startswith("/") and not path.startswith("//"):
        path = origin.rstrip("/") + path
    path = path.partition("#")[0].partition("?")[0]
    scheme, separator, rest = path.partition("://")
    if not separator:
        raise ValueError(f"not an absolute URL or a path on this origin: {path!r}")
    authority, slash, rest_of_path = rest.partition("/")
    return f"{_origin(scheme, authority)}/{rest_of_path if slash else ''}"


def origin_of(url: str) -> str:
    """The origin of an absolute URL `url` (scheme://host[:port]), as target_uri writes it."""
    scheme, _, rest = url.partition("://")
    return _origin(scheme, rest.partition("/")[0])


def _origin(scheme: str, authority: str) -> str:
    scheme = scheme.lower()
    userinfo, at, host = authority.rpartition("@")
    host = host.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and host.endswith(":" + default):
        host = host[: -len(default) - 1]
    return f"{scheme}://{userinfo}{at}{host}"


def access_token_hash(access_token: str) -> str:
    """The proof's `ath`: base64url(SHA-256(the access token's ASCII)), RFC 9449 §4.2."""
    return base64url(hashlib.sha256(access_token.encode()).digest())


def jwk_thumbprint(jwk: dict) -> str:
    """The RFC 7638 SHA-256 thumbprint of an EC public key, base64url: the `jkt` a server
    binds tokens to, and the `dpop_jkt` of an authorization request (RFC 9449 §10)."""
    return base64url(hashlib.sha256(_json_object(_public_members(jwk)).encode()).digest())


class DPoPProofs:
    """Writes the proofs for one DPoPKey.

    `clock` gives seconds since the epoch (`iat`), `random_bytes(n)` n random bytes (`jti`).
    """

    def __init__(self, key, *, clock, random_bytes) -> None:
        self.key = key
        self._clock = clock
        self._random_bytes = random_bytes
        # The last key's header segment and the last token's `ath`, made again only when
        # they change: on MicroPython each costs a good part of a proof's time.
        self._header = (None, "")
        self._ath = (None, "")

    async def proof(
        self, method: str, target: str, *, access_token: str | None = None, nonce: str | None = None
    ) -> str | None:
        """The proof for `method` on `target` (an htu, see target_uri): with `ath` where it
        goes with `access_token`, and the server's `nonce` where it gave one. None where
        there is no key (nobody signed in with DPoP): the request goes out without one."""
        jwk = await self.key.public_jwk()
        if jwk is None:
            return None
        claims = [
            ("jti", base64url(self._random_bytes(_JTI_BYTES))),
            ("htm", method.upper()),
            ("htu", target),
            ("iat", int(self._clock())),
        ]
        if access_token is not None:
            claims.append(("ath", self._token_hash(access_token)))
        if nonce is not None:
            claims.append(("nonce", nonce))
        signing_input = f"{self._header_segment(jwk)}.{_segment(claims)}"
        signature = await self.key.sign(signing_input)
        if len(signature) != _SIGNATURE_BYTES:
            raise ValueError(f"an ES256 signature is 64 bytes (r‖s), not {len(signature)}")
        return f"{signing_input}.{base64url(signature)}"

    def _header_segment(self, jwk: dict) -> str:
        if self._header[0] is not jwk:
            header = [("typ", PROOF_TYPE), ("alg", ALGORITHM), ("jwk", _public_members(jwk))]
            self._header = (jwk, _segment(header))
        return self._header[1]

    def _token_hash(self, access_token: str) -> str:
        if self._ath[0] != access_token:
            self._ath = (access_token, access_token_hash(access_token))
        return self._ath[1]


def _public_members(jwk: dict) -> list:
    """The members of an EC public key that identify it (RFC 7638 §3.2), and nothing else:
    a JWK from WebCrypto also carries `ext` and `key_ops`."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("a DPoP key for ES256 is an EC key on P-256")
    return [(name, jwk[name]) for name in _PUBLIC_MEMBERS]


def _segment(pairs: list) -> str:
    return base64url(_json_object(pairs).encode())


def _json_object(pairs: list) -> str:
    """A JSON object with its members in the order of `pairs`, without whitespace; a value
    that is itself a list of pairs is an object too."""
    members = []
    for name, value in pairs:
        text = _json_object(value) if isinstance(value, list) else json.dumps(value)
        members.append(f"{json.dumps(name)}:{text}")
    return "{" + ",".join(members) + "}"
