"""The checks an ID token's claims must pass before a sign-in counts (OpenID Connect Core
§3.1.3.7): who issued it, for whom, when, and for which sign-in.

Its signature is checked apart, against the provider's keys (the browser's WebCrypto);
these checks are pure and run on both interpreters.
"""

import json

from refresh_gate._errors import SignInError
from refresh_gate._tokens import base64url_decode

LEEWAY = 60.0  # seconds of clock difference allowed either way on `exp` and `iat`


def id_token_parts(id_token: str) -> tuple:
    """The header and the claims of a JWS-compact ID token, as dicts, and the signed part
    and the signature; SignInError if it is not one."""
    pieces = id_token.split(".") if isinstance(id_token, str) else []
    if len(pieces) != 3:
        raise SignInError("the provider's ID token is not a signed JWT")
    try:
        header = json.loads(base64url_decode(pieces[0]).decode())
        claims = json.loads(base64url_decode(pieces[1]).decode())
        signature = base64url_decode(pieces[2])
    except (ValueError, UnicodeError):
        raise SignInError("the provider's ID token cannot be read") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise SignInError("the provider's ID token cannot be read")
    return header, claims, f"{pieces[0]}.{pieces[1]}", signature


def check_id_token_claims(
    claims: dict, *, issuer: str, client_id: str, nonce: str, now: float, leeway: float = LEEWAY
) -> None:
    """Raise SignInError, naming the claim, unless `claims` are those of an ID token that
    `issuer` made for `client_id` in the sign-in that sent `nonce`, and valid at `now`."""
    if claims.get("iss") != issuer:
        raise SignInError(f"the ID token was issued by {claims.get('iss')!r}, not {issuer!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise SignInError("the ID token's aud does not name this page's client")
    if "azp" in claims and claims["azp"] != client_id:
        raise SignInError("the ID token's azp names another client")
    if len(audiences) > 1 and "azp" not in claims:
        raise SignInError("the ID token names several audiences and no azp")
    expires, issued = claims.get("exp"), claims.get("iat")
    if not _is_number(expires) or expires + leeway <= now:
        raise SignInError("the ID token's exp has passed")
    if not _is_number(issued) or issued - leeway > now:
        raise SignInError("the ID token's iat is in the future")
    if claims.get("nonce") != nonce:
        raise SignInError("the ID token's nonce is not this sign-in's")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
