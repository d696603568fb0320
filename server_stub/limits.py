"""Login attempt limits: a budget per user name and per client address, kept in the store.

The rule:

- At most ``parallel`` logins are checked at once in each process; the others wait their
  turn. Each Argon2 check holds 64 MiB for a moment, so a flood of logins cannot run the
  server out of memory, and the budget below is checked only once an attempt's turn has come.
- Every login attempt is charged, up front, to two sliding windows of ``window`` seconds:
  one for the user name and one for the client's address. A successful attempt takes its
  charge back, so only failures (and attempts still being checked) use up the budget.
  Charging up front means the few guesses being verified at once count already.
- When either window already holds ``attempts`` charges, the attempt is refused with 429
  and ``Retry-After`` (seconds until the oldest charge leaves the window), without checking
  the password. Refused attempts are not charged, so a lock always lifts by itself at most
  ``window`` seconds after the last failure, however hard someone keeps knocking.
- So one address guessing at many names is stopped by its address budget, and many
  addresses guessing at one name are stopped by that name's budget. Failures from other
  addresses can keep a user's name locked only by spending that name's whole budget: at
  worst ``attempts`` guesses a window for them, and the real user waits out one window.

The charges live in the store, so the budget is one for every worker and every node that
shares it; checking a budget and charging it are one step there (`AuthStore.charge_attempt`).
Names are kept as SHA-256 digests, so long names cost no space; charges older than the
window are pruned (server_stub/pruning.py). Addresses are what the server sees: behind a
reverse proxy every client shares one address, so set the budget for that case too.
"""

import hashlib
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from server_stub.errors import ApiError
from server_stub.store import AuthStore

DEFAULT_ATTEMPTS = 10
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_PARALLEL = 4  # at most 4 x 64 MiB of Argon2 memory at once


class TooManyAttempts(ApiError):
    """Too many failed logins for this name or from this address; try again later."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """When the client may try again (RFC 9110 §10.2.3)."""
        return {"Retry-After": str(self.retry_after)}


class LoginLimiter:
    """Counts login attempts per user name and per client address (rules in the module doc)."""

    def __init__(
        self,
        store: AuthStore,
        clock: Callable[[], float],
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        window: float = DEFAULT_WINDOW_SECONDS,
        parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        if attempts <= 0 or window <= 0 or parallel <= 0:
            raise ValueError("attempts, window and parallel must be positive")
        self._store = store
        self._clock = clock
        self._attempts = attempts
        self._window = window
        self._turns = threading.BoundedSemaphore(parallel)

    @property
    def window(self) -> float:
        """How long a failed attempt counts, in seconds."""
        return self._window

    @contextmanager
    def attempt(self, name: str, address: str) -> Iterator[None]:
        """Guard one login: wait for a turn, then raise `TooManyAttempts` or run the body.

        The body is the password check; the charge is refunded if it does not raise.
        """
        with self._turns:
            name_digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
            now = self._clock()
            charge = self._store.charge_attempt(
                (f"name:{name_digest}", f"address:{address}"),
                now=now,
                window=self._window,
                attempts=self._attempts,
            )
            if charge.blocked_until is not None:
                raise TooManyAttempts(max(1, math.ceil(charge.blocked_until - now)))
            yield  # an exception here (wrong password, store error) leaves the charge
            self._store.refund_attempt(charge.ids)
