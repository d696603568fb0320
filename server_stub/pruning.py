"""Old rows go away: a background thread in each server process prunes the store.

Spent and expired refresh tokens would otherwise stay for ever, and the table would grow
with every refresh. A refresh token is deleted once it is past its own expiry: until then
reuse detection needs it (a replayed spent token revokes its family), after that it could
only be refused anyway. A family goes once it has no token left; a sealed successor is
wiped once the reuse grace is over; a failed-login charge once it left its window.

Why a thread rather than a few rows at the end of some requests: a request never pays for
pruning, not even a little, and a quiet server still prunes. Each batch is its own short
transaction of at most `BATCH` rows of each kind (milliseconds of SQLite's write lock;
on PostgreSQL rows in use are skipped, not waited for), with a pause between batches, so
requests get the database between them. Every process prunes; on a shared store the
work is just shared.
"""

import logging
import threading
from collections.abc import Callable

from server_stub.store import AuthStore, StoreUnavailable

logger = logging.getLogger(__name__)

BATCH = 500
PAUSE_BETWEEN_BATCHES = 0.05


class Pruner:
    """Prunes ``store`` every ``every`` seconds in a daemon thread, once started."""

    def __init__(
        self,
        store: AuthStore,
        clock: Callable[[], float],
        *,
        every: float,
        reuse_grace: float,
        login_window: float,
        batch: int = BATCH,
    ) -> None:
        self._store = store
        self._clock = clock
        self._every = every
        self._reuse_grace = reuse_grace
        self._login_window = login_window
        self._batch = batch
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One pass: prune batch after batch until nothing is left; return the rows touched."""
        total = 0
        while not self._stopped.is_set():
            touched = self._store.prune(
                now=self._clock(),
                reuse_grace=self._reuse_grace,
                login_window=self._login_window,
                limit=self._batch,
            )
            total += touched
            if touched < self._batch:
                return total
            self._stopped.wait(PAUSE_BETWEEN_BATCHES)
        return total

    def start(self) -> None:
        """Prune now and then every ``every`` seconds, until `stop`; 0 never starts."""
        if self._every <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="pruner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after the batch it is in, if any."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.run_once()
            except StoreUnavailable as error:  # busy or unreachable: the next pass tries again
                logger.warning("pruning skipped: %s", error)
            self._stopped.wait(self._every)
