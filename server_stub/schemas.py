"""The JSON bodies of the authorization API, with bounds on every string."""

from typing import Annotated

from pydantic import BaseModel, Field

MAX_FIELD_LENGTH = 4096

# strict: a number or a list is refused, not coerced; the bound keeps huge strings out of
# Argon2 and SQLite (pydantic also refuses strings that are not valid Unicode).
BoundedText = Annotated[str, Field(strict=True, min_length=1, max_length=MAX_FIELD_LENGTH)]


class Credentials(BaseModel):
    """Body of ``POST /authorization/token``."""

    userName: BoundedText
    password: BoundedText


class RefreshRequest(BaseModel):
    """Body of ``POST /authorization/refresh`` and ``POST /authorization/logout``."""

    refreshToken: BoundedText


class TokenResponse(BaseModel):
    """A new token pair; ``expiresIn`` is the access token's lifetime in seconds."""

    userId: str
    authorizationToken: str
    refreshToken: str
    expiresIn: int


class ErrorBody(BaseModel):
    """Every error answer: a stable machine-readable ``error`` code and a human ``message``."""

    error: str
    message: str


class OAuthTokenResponse(BaseModel):
    """A successful answer of ``POST /oauth/token`` (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str


class OAuthErrorBody(BaseModel):
    """An error answer of ``POST /oauth/token`` (RFC 6749 §5.2)."""

    error: str
    error_description: str
