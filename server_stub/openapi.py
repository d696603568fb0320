"""What /openapi.json says beyond what FastAPI infers: every error answer, and the links.

The schema is the contract the fuzz tests hold the server to (tests/server/test_fuzz.py),
so each route declares every status it can answer with; all errors share `ErrorBody`.
"""

from typing import Any

from server_stub.schemas import ErrorBody, OAuthErrorBody, OAuthTokenResponse

_ERROR_CONTENT = {"application/json": {"schema": ErrorBody.model_json_schema()}}

_WHY = {
    400: "The request body cannot be decoded (it is not UTF-8 text).",
    401: "The credentials, refresh token or access token are not accepted.",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not sent as application/json.",
    422: "The request body does not have the fields this operation needs.",
    429: "Too many failed logins for this user name or from this address.",
    503: "The session store is busy; try again.",
}

_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "Seconds until a login may be tried again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds until the request may be tried again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}

BEARER_CHALLENGE = {
    "WWW-Authenticate": {
        "description": "The Bearer challenge (RFC 6750 §3), or where DPoP is at stake the DPoP "
        'one (RFC 9449 §7.1): `DPoP error="invalid_token" | "invalid_dpop_proof" | '
        '"use_dpop_nonce", error_description="...", algs="ES256 PS256 RS256 EdDSA"`.',
        "required": True,
        "schema": {"type": "string"},
    }
}
# RFC 9449 §8, §9: the server's nonce, with use_dpop_nonce and when it has changed.
DPOP_NONCE = {
    "DPoP-Nonce": {
        "description": "The nonce the next DPoP proof must carry (with --dpop-nonce).",
        "required": False,
        "schema": {"type": "string", "pattern": "^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$"},
    }
}
DPOP_PROOF_PARAMETER = {
    "name": "DPoP",
    "in": "header",
    "required": False,
    "description": "A DPoP proof JWT (RFC 9449 §4): typ dpop+jwt, alg ES256, PS256, RS256 or "
    "EdDSA, the public jwk; jti, htm, htu, iat, and at the API ath. Checked when sent to the "
    "token endpoint or with a DPoP token (at most 8192 characters); beside a Bearer token "
    "it is ignored.",
    "schema": {"type": "string"},
}


def error_responses(
    *statuses: int, headers: dict[int, dict[str, Any]] | None = None
) -> dict[int | str, Any]:
    """Responses in the shared error shape for ``statuses``, for a route's ``responses=``.

    ``headers`` adds response headers to a status, such as `BEARER_CHALLENGE` to a 401.
    """
    extra = {**_HEADERS, **(headers or {})}
    responses: dict[int | str, Any] = {}
    for status in statuses:
        response: dict[str, Any] = {"description": _WHY[status], "content": _ERROR_CONTENT}
        if status in extra:
            response["headers"] = extra[status]
        responses[status] = response
    return responses


def refresh_token_links() -> dict[str, Any]:
    """Links from a new token pair to the operations that take its refresh token."""
    return _links_for("$response.body#/refreshToken")


def _links_for(refresh_token: str) -> dict[str, Any]:
    """Links to the seed's refresh and logout and to the OAuth 2.0 refresh, with that token."""
    carry = {"refreshToken": refresh_token}
    return {
        "RefreshWithIt": {"operationId": "refresh", "requestBody": carry},
        "LogOutWithIt": {"operationId": "logOut", "requestBody": carry},
        "RefreshWithOAuth": {
            "operationId": "oauthToken",
            "requestBody": {"grant_type": "refresh_token", "refresh_token": refresh_token},
        },
    }


_BOUNDED_TEXT = {"type": "string", "minLength": 1, "maxLength": 4096}
_OAUTH_FORM = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
        "username": _BOUNDED_TEXT,
        "password": _BOUNDED_TEXT,
        "refresh_token": _BOUNDED_TEXT,
        "client_id": {**_BOUNDED_TEXT, "pattern": "^[\\x20-\\x7e]+$"},
        "scope": {"type": "string", "enum": ["resources"]},
    },
}
_NO_CACHE_HEADERS = {
    name: {"description": "RFC 6749 §5.1.", "required": True, "schema": {"type": "string"}}
    for name in ("Cache-Control", "Pragma")
}


def oauth_token_openapi() -> dict[str, Any]:
    """What the schema says of `POST /oauth/token`, as keyword arguments for its route."""

    def answer(why: str, body: type, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        schema = {"application/json": {"schema": body.model_json_schema()}}
        return {
            "description": why,
            "content": schema,
            "headers": {**_NO_CACHE_HEADERS, **(headers or {})},
        }

    unauthorized = {
        "WWW-Authenticate": {
            "description": "The scheme the client tried to authenticate with.",
            "required": True,
            "schema": {"type": "string"},
        }
    }
    return {
        "operation_id": "oauthToken",
        "openapi_extra": {
            "parameters": [DPOP_PROOF_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": _OAUTH_FORM}},
            },
        },
        "responses": {
            200: {
                **answer(
                    "A new token pair (RFC 6749 §5.1); DPoP-bound with a DPoP proof.",
                    OAuthTokenResponse,
                    DPOP_NONCE,
                ),
                "links": _links_for("$response.body#/refresh_token"),
            },
            400: answer(
                "An error of RFC 6749 §5.2, or of RFC 9449: invalid_dpop_proof, use_dpop_nonce.",
                OAuthErrorBody,
                DPOP_NONCE,
            ),
            401: answer(
                "invalid_client: this server has no confidential clients.",
                OAuthErrorBody,
                unauthorized,
            ),
            413: answer(_WHY[413], ErrorBody),
            429: answer(_WHY[429], OAuthErrorBody, _HEADERS[429]),
            503: answer(_WHY[503], ErrorBody, _HEADERS[503]),
        },
    }


# An empty value counts as omitted (RFC 6749 §3.1), and a hint the server does not know is
# ignored (RFC 7009 §2.1): the schema says what the server accepts.
_REVOKE_FORM = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": _BOUNDED_TEXT,
        "token_type_hint": {"type": "string", "maxLength": 4096},
        "client_id": {"type": "string", "maxLength": 4096, "pattern": "^[\\x20-\\x7e]*$"},
    },
}


def oauth_revoke_openapi() -> dict[str, Any]:
    """What the schema says of `POST /oauth/revoke` (RFC 7009), as keyword arguments."""
    error = {
        "description": "An error of RFC 7009 §2.2.1 or RFC 6749 §5.2.",
        "content": {"application/json": {"schema": OAuthErrorBody.model_json_schema()}},
    }
    return {
        "operation_id": "oauthRevoke",
        "openapi_extra": {
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": _REVOKE_FORM}},
            }
        },
        "responses": {
            200: {"description": "Revoked, or not a token this server knows (RFC 7009 §2.2)."},
            400: error,
            401: error,
            413: {"description": _WHY[413], "content": _ERROR_CONTENT},
            503: {"description": _WHY[503], "content": _ERROR_CONTENT, "headers": _HEADERS[503]},
        },
    }
