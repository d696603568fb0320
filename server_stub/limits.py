"""Login attempt limits: a budget per user name and per client address, in memory.

The rule:

- At most ``parallel`` logins are checked at once; the others wait their turn. Each Argon2
  check holds 64 MiB for a moment, so a flood of logins cannot run the server out of memory,
  and the budget below is checked only once an attempt's turn has come.
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

Names are kept as SHA-256 digests, so long names cost no memory. Each table forgets the
least recently charged keys beyond ``max_keys``. Addresses are what the server sees: behind
a reverse proxy every client shares one address, so set the budget for that case too.
"""

import hashlib
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from server_stub.errors import ApiError

DEFAULT_ATTEMPTS = 10
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_MAX_KEYS = 10_000
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


class _Windows:
    """Sliding windows of charge times, one per key, forgetting the least recent keys."""

    def __init__(self, window: float, max_keys: int) -> None:
        self._window = window
        self._max_keys = max_keys
        self._charges: OrderedDict[str, deque[float]] = OrderedDict()

    def live(self, key: str, now: float) -> deque[float]:
        """The charges of ``key`` still inside the window (older ones are dropped)."""
        charges = self._charges.get(key)
        if charges is None:
            return deque()
        while charges and charges[0] <= now - self._window:
            charges.popleft()
        if not charges:
            del self._charges[key]
        return charges

    def charge(self, key: str, now: float) -> None:
        """Add one charge at ``now``, making ``key`` the most recently charged."""
        self._charges.setdefault(key, deque()).append(now)
        self._charges.move_to_end(key)
        while len(self._charges) > self._max_keys:
            self._charges.popitem(last=False)

    def refund(self, key: str, charged_at: float) -> None:
        """Take back one charge made at ``charged_at``, if it is still there."""
        charges = self._charges.get(key)
        if charges is not None and charged_at in charges:
            charges.remove(charged_at)

    def retry_after(self, charges: deque[float], now: float) -> int:
        """Whole seconds until the oldest of ``charges`` leaves the window (at least 1)."""
        return max(1, math.ceil(charges[0] + self._window - now))


class LoginLimiter:
    """Counts login attempts per user name and per client address (rules in the module doc)."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        window: float = DEFAULT_WINDOW_SECONDS,
        max_keys: int = DEFAULT_MAX_KEYS,
        parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        if attempts <= 0 or window <= 0 or parallel <= 0:
            raise ValueError("attempts, window and parallel must be positive")
        self._clock = clock
        self._attempts = attempts
        self._turns = threading.BoundedSemaphore(parallel)
        self._lock = threading.Lock()
        self._by_name = _Windows(window, max_keys)
        self._by_address = _Windows(window, max_keys)

    @contextmanager
    def attempt(self, name: str, address: str) -> Iterator[None]:
        """Guard one login: wait for a turn, then raise `TooManyAttempts` or run the body.

        The body is the password check; the charge is refunded if it does not raise.
        """
        with self._turns, self._charged(name, address):
            yield

    @contextmanager
    def _charged(self, name: str, address: str) -> Iterator[None]:
        name_key = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
        keys = ((self._by_name, name_key), (self._by_address, address))
        with self._lock:
            now = self._clock()
            for windows, key in keys:
                charges = windows.live(key, now)
                if len(charges) >= self._attempts:
                    raise TooManyAttempts(windows.retry_after(charges, now))
            for windows, key in keys:
                windows.charge(key, now)
        yield  # an exception here (wrong password, store error) leaves the charge in place
        with self._lock:
            for windows, key in keys:
                windows.refund(key, now)
