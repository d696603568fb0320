"""The refresh gate: every authorized call goes through it, and an expired token costs one refresh.

The rules, each of which the seed article's axios interceptor gets wrong somewhere:

1. Single flight: the first 401 starts one refresh; every other 401 awaits the same one.
2. Gate before sending: a call made while a refresh is in flight waits for it and goes out
   with the new token instead of earning another 401 with the stale one.
3. Stale-token check: a 401 for a call sent with an older token than the stored one is
   retried with the stored token, without a second refresh.
4. Retry once: a 401 on the retry, or a refresh the server refuses, ends the session.
5. Transient is not rejected: a network error, timeout, 429 or 5xx on the refresh keeps
   the tokens and fails the waiting calls with a retryable error.
6. Refresh before expiry: a call about to go out with a token that expires within the
   skew refreshes first, so that natural expiry costs no 401 at all.
7. One refresh across tabs: the refresh runs under a lock named for the refresh token,
   shared by every tab of the origin. The tab that exchanges the token holds that lock a
   while longer, so a tab that still has the spent token waits for the new pair to reach
   its storage instead of presenting the spent token to the server.

It imports only the standard library, so CPython tests drive it with a fake transport.
"""

import asyncio
import contextlib
import itertools
import json
import sys
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, TypeVar

from app.errors import NotLoggedIn, RefreshRejected, RequestTimeout, TransientError
from app.tokens import Tokens, TokenStore, access_token_lifetime, parse_token_pair

REFRESH_PATH = "/authorization/refresh"
T = TypeVar("T")

# Answers to a refresh that mean "this refresh token is no good": log out.
_REJECTING_STATUSES = frozenset({400, 401, 403})
_STORE_POLL = 0.01  # seconds between looks at the store while another tab's pair arrives


@dataclass(frozen=True)
class Request:
    """An HTTP request relative to the page's origin."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass(frozen=True)
class Response:
    """What came back: the status and the body as text (never parsed as HTML)."""

    status: int
    body: str = ""


class Transport(Protocol):
    """Sends one request; raises NetworkError when no answer comes back.

    Cancelling the awaiting task must cancel the request on the wire too.
    """

    async def __call__(self, request: Request) -> Response: ...


CallKind = Literal["request", "retry", "refresh"]


@dataclass
class Call:
    """One request on the wire, as a network panel would list it."""

    id: int
    kind: CallKind
    method: str
    path: str
    started: float
    waited: bool = False
    status: int | None = None
    ended: float | None = None
    error: str | None = None


CallObserver = Callable[[Call], None]


def _ignore_call(call: Call) -> None:
    """The default observer."""


class HeldLock(Protocol):
    """The refresh lock of one refresh token, while this tab holds it."""

    def spent(self) -> None:
        """The token was exchanged: keep the lock a while after the block ends.

        Other tabs waiting for it then take the new pair from the shared storage, where it
        arrives moments later, instead of getting the lock and presenting the spent token.
        """


RefreshLock = Callable[[str], AbstractAsyncContextManager[HeldLock | None]]


def _no_lock(_refresh_token: str) -> AbstractAsyncContextManager[HeldLock | None]:
    """The default refresh lock: the in-tab single flight is the whole guarantee."""
    return contextlib.nullcontext()


def start_eagerly(work: Coroutine[object, object, T]) -> asyncio.Task[T]:
    """A task for `work`, run at once up to its first wait where Python can (3.12 and later,
    as in the browser); a task started the usual way costs a turn of the event loop first,
    and in the browser each turn between a 401 and its refresh is time the user waits."""
    loop = asyncio.get_running_loop()
    if sys.version_info >= (3, 12):
        return asyncio.Task(work, loop=loop, eager_start=True)
    return loop.create_task(work)


class RefreshGate:
    """Sends authorized calls, refreshing the token once however many calls need it."""

    def __init__(
        self,
        transport: Transport,
        store: TokenStore,
        *,
        on_logout: Callable[[], None] = lambda: None,
        observe: CallObserver = _ignore_call,
        refresh_lock: RefreshLock = _no_lock,
        request_timeout: float | None = 15.0,
        refresh_timeout: float | None = 15.0,
        expiry_skew: float = 10.0,
        settle_time: float = 0.0,
        clock: Callable[[], float] = time.time,
        refresh_path: str = REFRESH_PATH,
    ) -> None:
        self._transport = transport
        self._store = store
        self._on_logout = on_logout
        self._observe = observe
        self._refresh_lock = refresh_lock
        self._request_timeout = request_timeout
        self._refresh_timeout = refresh_timeout
        self._expiry_skew = expiry_skew
        # How long a refused refresh waits for another tab's pair to reach the store
        # before logging out; 0 where no other tab shares the store.
        self._settle_time = settle_time
        self._clock = clock
        self._refresh_path = refresh_path
        self._refresh: asyncio.Future[str] | None = None
        self._refresh_waiters: list[asyncio.Future[str]] = []
        # How far this machine's clock runs ahead of the server's, learnt from the `iat` of
        # each pair received, so that a wrong clock does not turn every call into a refresh.
        self._clock_ahead = 0.0
        # The access token a refresh before expiry was last started for: never twice.
        self._early_refresh_for: str | None = None
        self._ids = itertools.count(1)
        self.refresh_calls = 0

    @property
    def refreshing(self) -> bool:
        """Whether a refresh is in flight right now."""
        return self._refresh is not None

    async def send(self, request: Request) -> Response:
        """Send `request` with the current access token; refresh and retry once on a 401.

        Raises RefreshRejected (logged out), TransientError (tokens kept) or NotLoggedIn.
        """
        token, waited = await self._token_for_sending()
        response = await self._send_with(request, token, "request", waited)
        if response.status != 401:
            return response
        fresh = await self._token_after_401(token)
        response = await self._send_with(request, fresh, "retry", True)
        if response.status != 401:
            return response
        current = self._store.load()
        if current is not None and current.access != fresh:
            # The session moved on while the retry was out (another call refreshed): its
            # 401 says nothing about the stored token, so keep it.
            raise TransientError("the token changed during the retry; try again")
        self.end_session()
        raise RefreshRejected("the server refused the refreshed access token")

    def accept(self, tokens: Tokens) -> None:
        """Store a pair just received from the server (a login or a refresh)."""
        lifetime = access_token_lifetime(tokens.access)
        if lifetime is not None:
            self._clock_ahead = self._clock() - lifetime[0]
        self._store.save(tokens)

    def end_session(self) -> None:
        """Drop the tokens; tell the page once, however many calls find the session over."""
        had_tokens = self._store.load() is not None
        self._store.clear()
        if had_tokens:
            self._on_logout()

    async def _token_for_sending(self) -> tuple[str, bool]:
        """The token to send with, and whether the call had to wait for a refresh."""
        if self._refresh is not None:
            return await self._refreshed(), True
        tokens = self._load()
        if not tokens.access:  # nothing worth sending: refresh first
            return await self._join_refresh(tokens), True
        timing = self._time_left(tokens.access)
        if timing is None or timing[0] > timing[1]:
            return tokens.access, False
        self._early_refresh_for = tokens.access
        try:
            return await self._join_refresh(tokens), True
        except TransientError:
            if timing[0] <= 0:
                raise
            # The refresh can wait: the token still works for a moment, so use it.
            return tokens.access, True

    async def _token_after_401(self, sent: str) -> str:
        """The token to retry with: the stored one if it is newer, else a (shared) refresh."""
        if self._refresh is None:
            tokens = self._load()
            if tokens.access != sent:
                return tokens.access
            return await self._join_refresh(tokens)
        return await self._refreshed()

    def _load(self) -> Tokens:
        tokens = self._store.load()
        if tokens is None:
            raise NotLoggedIn("no tokens are stored; log in first")
        return tokens

    def _time_left(self, access: str) -> tuple[float, float] | None:
        """Seconds until `access` expires by the server's clock, and the refresh skew for it.

        The skew is the configured one, at most half the token's lifetime; None means the
        token is not worth refreshing early (unreadable, or already tried).
        """
        lifetime = access_token_lifetime(access)
        if lifetime is None or access == self._early_refresh_for:
            return None
        issued, expires = lifetime
        left = expires - (self._clock() - self._clock_ahead)
        return left, min(self._expiry_skew, (expires - issued) / 2)

    async def _join_refresh(self, stale: Tokens) -> str:
        if self._refresh is None:
            task = start_eagerly(self._refresh_and_tell(stale))
            task.add_done_callback(self._refresh_done)
            self._refresh = task
        return await self._refreshed()

    async def _refreshed(self) -> str:
        """The running refresh's outcome; cancelling one caller's wait leaves the refresh be.

        Each caller waits on a future of its own, which the refresh settles as it ends: one
        turn of the event loop sooner than asyncio.shield, whose outer future is settled
        only by a callback of the refresh's task.
        """
        refresh = self._refresh
        assert refresh is not None
        if refresh.done():  # ended this very turn; its done-callback has not run yet
            return refresh.result()
        waiter = asyncio.get_running_loop().create_future()
        self._refresh_waiters.append(waiter)
        return await waiter

    async def _refresh_and_tell(self, stale: Tokens) -> str:
        try:
            access = await self._run_refresh(stale)
        except BaseException as error:
            self._tell(error)
            raise
        self._tell(access)
        return access

    def _tell(self, outcome: str | BaseException) -> None:
        """Settle every caller's wait with the refresh's new access token or its error."""
        waiters, self._refresh_waiters = self._refresh_waiters, []
        for waiter in waiters:
            if waiter.done():  # a caller that was cancelled has stopped waiting
                continue
            if isinstance(outcome, asyncio.CancelledError):
                waiter.cancel()
            elif isinstance(outcome, BaseException):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)

    def _refresh_done(self, task: asyncio.Future[str]) -> None:
        if self._refresh is task:
            self._refresh = None
        # Retrieve the outcome so that a refresh whose callers were all cancelled does not
        # log "exception was never retrieved".
        if not task.cancelled():
            task.exception()

    async def _run_refresh(self, stale: Tokens) -> str:
        async with contextlib.AsyncExitStack() as stack:
            held = await self._lock_or_newer_pair(stack, stale)
            if isinstance(held, Tokens):
                return held.access  # another tab refreshed; its pair is in our storage now
            # Another tab may have refreshed while this one waited for the lock.
            current = self._load()
            if current.access != stale.access:
                return current.access
            try:
                access = await self._exchange(current.refresh)
            except RefreshRejected:
                # Another tab's refresh may have won the race and its new pair may still be
                # on its way into this tab's storage: the server refuses a token spent
                # moments ago without ending the session, so look again before giving up.
                newer = await self._newer_than(current, self._settle_time)
                if newer is None:
                    self.end_session()
                    raise
                return newer.access
            if held is not None:
                held.spent()
            return access

    async def _lock_or_newer_pair(
        self, stack: contextlib.AsyncExitStack, stale: Tokens
    ) -> HeldLock | Tokens | None:
        """Take the refresh lock of `stale`, unless another tab's new pair shows up first.

        A lock taken meanwhile stays on `stack`, which lets it go.
        """
        locking = start_eagerly(stack.enter_async_context(self._refresh_lock(stale.refresh)))
        newer = start_eagerly(self._newer_than(stale, None))
        try:
            await asyncio.wait({locking, newer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            found = newer.done() and not newer.cancelled()
            newer.cancel()
            if not locking.done():
                locking.cancel()
                # Let the cancelled request finish, so that a lock granted meanwhile is let go.
                await asyncio.wait({locking})
        pair = newer.result() if found else None
        if pair is None:
            return locking.result()
        if not locking.cancelled():
            locking.exception()  # a lock timeout does not matter once the pair is here
        return pair

    async def _newer_than(self, spent: Tokens, wait: float | None) -> Tokens | None:
        """A pair that replaced `spent` in the store within `wait` seconds (None: forever)."""
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else loop.time() + wait
        while True:
            tokens = self._store.load()
            if tokens is not None and tokens.refresh != spent.refresh:
                return tokens
            if deadline is not None and loop.time() >= deadline:
                return None
            await asyncio.sleep(_STORE_POLL)

    async def _exchange(self, refresh_token: str) -> str:
        request = Request(
            "POST",
            self._refresh_path,
            {"Content-Type": "application/json"},
            json.dumps({"refreshToken": refresh_token}),
        )
        self.refresh_calls += 1
        response = await self._wire(request, "refresh", False, self._refresh_timeout)
        if response.status in _REJECTING_STATUSES:
            raise RefreshRejected(f"the server refused the refresh ({response.status})")
        if not 200 <= response.status < 300:
            raise TransientError(
                f"the refresh failed with {response.status}; your session is kept, try again"
            )
        try:
            tokens = parse_token_pair(json.loads(response.body))
        except ValueError:
            tokens = None
        if tokens is None:
            # The server took the refresh token but gave no usable pair back: the old one is
            # spent, and presenting it again would trip reuse detection.
            raise RefreshRejected("the refresh answer held no usable tokens")
        self.accept(tokens)
        return tokens.access

    async def _send_with(self, request: Request, token: str, kind: CallKind, waited: bool):
        authorized = replace(
            request, headers={**request.headers, "Authorization": f"Bearer {token}"}
        )
        return await self._wire(authorized, kind, waited, self._request_timeout)

    async def _wire(
        self, request: Request, kind: CallKind, waited: bool, timeout: float | None
    ) -> Response:
        """Put one request on the wire under a timeout, reporting it to the observer.

        A `timeout` of None leaves it to the transport, which may have a cheaper timer: an
        asyncio timer in Pyodide lives on as a JavaScript timeout after it is cancelled.
        """
        call = Call(next(self._ids), kind, request.method, request.path, self._clock(), waited)
        self._observe(call)
        try:
            sending = self._transport(request)
            response = await (sending if timeout is None else asyncio.wait_for(sending, timeout))
        except TimeoutError:
            call.error = "timeout"
            raise RequestTimeout(
                f"{request.method} {request.path} got no answer within {timeout:g} s"
            ) from None
        except RequestTimeout:
            call.error = "timeout"
            raise
        except TransientError as error:
            call.error = str(error) or "network error"
            raise
        except asyncio.CancelledError:
            call.error = "cancelled"
            raise
        else:
            call.status = response.status
            return response
        finally:
            call.ended = self._clock()
            self._observe(call)
