"""One refresh across every tab of the origin: the browser's Web Locks."""

import binascii
import hashlib

import js

from refresh_gate._errors import TransientError
from refresh_gate._interpreter import JsException
from refresh_gate._javascript import browser_calls

LOCK_NAME = "refresh-gate"
LOCK_TIMEOUT = 20.0  # longer than a refresh may take, so only a hung tab trips it
# How long a tab keeps the lock of a refresh token it exchanged: the other tabs take the new
# pair from storage meanwhile. Kept under the server's reuse grace (5 s by default), so that
# a tab that still presents the spent token later is refused without ending the session.
SPENT_HOLD = 2.0


def has_web_locks() -> bool:
    """Whether this browser offers the Web Locks API (secure contexts only)."""
    return bool(getattr(js.navigator, "locks", None))


class HeldWebLock:
    """A Web Lock while this tab holds it; see NoLock for what `spent` means."""

    def __init__(self, spent_hold: float) -> None:
        self._spent_hold = spent_hold
        self.hold_after = 0.0  # seconds to keep the lock once its block ends

    def spent(self) -> None:
        """Keep the lock `spent_hold` seconds after the block, for the other tabs' sake."""
        self.hold_after = self._spent_hold


class WebLock:
    """The exclusive Web Lock `name`, shared by every tab of this origin, as an async
    context manager (a refresh lock for RefreshGate).

    Waiting longer than `timeout` for it raises TransientError, so a tab that hangs while
    holding it cannot hang the others; cancelling the wait withdraws the request. The
    browser frees a closed tab's locks by itself.
    """

    def __init__(self, name: str, timeout: float, spent_hold: float) -> None:
        self._name = name
        self._timeout_ms = int(timeout * 1000)
        self._spent_hold = spent_hold
        self._release = None
        self._held: HeldWebLock | None = None

    async def __aenter__(self) -> HeldWebLock:
        withdraw = js.AbortController.new()
        try:
            # browser_calls.js
            self._release = await browser_calls().requestLock(
                self._name, self._timeout_ms, withdraw.signal
            )
        except JsException:  # an AbortError: not granted in time
            raise TransientError(
                "another tab held the refresh lock for too long; try again"
            ) from None
        except BaseException:
            withdraw.abort()  # withdraws the request, or lets go of a lock granted just now
            raise
        self._held = HeldWebLock(self._spent_hold)
        return self._held

    async def __aexit__(self, *_exc: object) -> bool:
        release, held = self._release, self._held
        self._release = self._held = None
        if release is not None:
            if held is not None and held.hold_after > 0:
                # browser_calls.js: kept for this tab meanwhile, then let go.
                browser_calls().keepLock(self._name, release, int(held.hold_after * 1000))
            else:
                release()
        return False


def cross_tab_lock(refresh_token: str) -> WebLock:
    """One refresh of `refresh_token` across every tab of this origin, on either interpreter:
    the lock is named for a hash of the token, never for the token itself."""
    digest = hashlib.sha256(refresh_token.encode()).digest()
    fingerprint = binascii.hexlify(digest).decode()[:32]
    return WebLock(f"{LOCK_NAME}:{fingerprint}", LOCK_TIMEOUT, SPENT_HOLD)
