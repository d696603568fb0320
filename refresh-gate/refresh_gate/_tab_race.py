"""Waiting for another tab: the refresh lock every tab of the origin shares, and the race
between getting it and seeing another tab's new pair arrive in the shared storage."""

import asyncio
import time

from refresh_gate._tasks import Outcome, start_eagerly, then_set
from refresh_gate._tokens import Tokens

STORE_POLL = 0.01  # seconds between looks at the store while another tab's pair arrives


class NoLock:
    """The default refresh lock: the in-tab single flight is the whole guarantee.

    A refresh lock is a callable `(refresh_token) -> lock`, where `lock` is an async context
    manager shared by every tab of the origin; entering it gives an object whose `spent()`
    asks to keep the lock a while after the block ends (the token was exchanged: other tabs
    waiting for it then take the new pair from the shared storage, where it arrives moments
    later, instead of getting the lock and presenting the spent token), or None. The tab
    that keeps a lock so may enter it again at once: with a server that does not rotate, its
    next refresh needs the lock of the same token.
    """

    def __init__(self, _refresh_token: str = "") -> None:
        pass

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_exc: object) -> bool:
        return False


class TabRace:
    """The refresh lock of a stale pair, or that pair's successor from another tab, whichever
    comes first: a tab waiting for the lock while another tab refreshes takes the new pair
    from the shared storage as soon as it appears, instead of presenting the spent token."""

    def __init__(self, store, lock, stale: Tokens) -> None:
        self._store = store
        self._lock = lock
        self._stale = stale
        self._entered = False

    async def __aenter__(self):
        """The held lock (or None from a lock that has no handle), or the newer pair."""
        locking, watching = Outcome(), Outcome()
        either = asyncio.Event()
        lock_task = start_eagerly(then_set(locking.run(self._lock.__aenter__()), either))
        watch_task = start_eagerly(
            then_set(watching.run(newer_pair(self._store, self._stale)), either)
        )
        try:
            await either.wait()
        finally:
            watch_task.cancel()
            if not locking.ended.is_set():
                lock_task.cancel()
                # Let the cancelled request finish: a lock granted meanwhile is then let go
                # by __aexit__, which the caller runs however this ends.
                await locking.ended.wait()
            self._entered = locking.error is None
        if watching.ended.is_set() and watching.error is None and watching.value is not None:
            await self.__aexit__(None, None, None)
            return watching.value
        if locking.error is not None:
            raise locking.error
        return locking.value

    async def __aexit__(self, *exc: object) -> bool:
        if self._entered:
            self._entered = False
            await self._lock.__aexit__(None, None, None)
        return False


async def newer_pair(store, spent: Tokens, wait: float | None = None) -> Tokens | None:
    """A pair that replaced `spent` in `store` within `wait` seconds (None: forever)."""
    deadline = None if wait is None else time.time() + wait
    while True:
        tokens = store.load()
        # A new refresh token, or with a server that does not rotate, a new access token.
        if tokens is not None and (tokens.refresh, tokens.access) != (spent.refresh, spent.access):
            return tokens
        if deadline is not None and time.time() >= deadline:
            return None
        await asyncio.sleep(STORE_POLL)
