"""Password hashing with Argon2id, timed the same whether or not the user exists."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class PasswordChecker:
    """Hashes new passwords and verifies login attempts in constant time."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Made up front with the same parameters, so even the first unknown name costs the same.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        """Return an Argon2id hash (with its own salt and parameters) of ``password``."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Tell whether ``password`` matches ``password_hash``.

        With no hash (unknown user) a dummy hash is verified instead, so the answer takes as
        long as for a real user and response time does not reveal which names exist.
        """
        candidate = password_hash if password_hash is not None else self._dummy_hash
        try:
            matches = self._hasher.verify(candidate, password)
        except (VerificationError, InvalidHashError):
            return False
        return matches and password_hash is not None
