"""The refresh gate: every authorized call goes through it, and an expired token costs one refresh.

The rules, each of which the seed article's axios interceptor gets wrong somewhere:

1. Single flight: the first 401 starts one refresh; every other 401 awaits the same one.
2. Gate before sending: a call made while a refresh is in flight waits for it and goes out
   with the new token instead of earning another 401 with the stale one.
3. Stale-token check: a 401 for a call sent with an older token than the stored one is
   retried with the stored token, without a second refresh.
4. Retry once: a 401 on the retry, or a refresh the server refuses, ends the session.
5. Transient is not rejected: a network error, timeout, 429 or 5xx on the refresh keeps
   the tokens and fails the waiting calls with a retryable error. A refresh that got no
   answer at all is sent again once, at once: its answer may have been lost after the
   server exchanged the token, and the server's graceful rotation answers it again.
6. Refresh before expiry: a call about to go out with a token that expires within the
   skew refreshes first, so that natural expiry costs no 401 at all.
7. One refresh across tabs: the refresh runs under a lock named for the refresh token,
   shared by every tab of the origin. The tab that exchanges the token holds that lock a
   while longer, so a tab that still has the spent token waits for the new pair to reach
   its storage instead of presenting the spent token to the server.
8. Nothing queued with a refused token: where the transport sends only so many requests at
   once (a browser: six per origin over HTTP/1.1) and queues the rest, token and all, the
   gate hands it no more than that (Lanes) and the rest wait in the gate; each takes its
   token once it has a lane, so behind a 401 it waits for the refresh and goes out once,
   with the new token, instead of earning a 401 first.

It imports only what both of PyScript's interpreters have (CPython's asyncio in Pyodide,
MicroPython's own): no dataclasses, typing or contextlib, no asyncio futures. CPython tests
and MicroPython tests drive the same code with a fake transport.
"""

import asyncio
import itertools
import sys
import time

from app.errors import NetworkError, NotLoggedIn, RefreshRejected, RequestTimeout, TransientError
from app.refresh import REFRESH_PATH, SeedRefresh
from app.tokens import Tokens, access_token_lifetime
from app.wire import Request, Response

__all__ = ["REFRESH_PATH", "Call", "NoLock", "RefreshGate", "Request", "Response", "Transport"]
_STORE_POLL = 0.01  # seconds between looks at the store while another tab's pair arrives


class Transport:
    """What the gate sends with: an async callable `(Request) -> Response`.

    It raises NetworkError when no answer comes back (RequestTimeout when it times the
    request out itself), and cancelling the awaiting task cancels the request on the wire.
    Any object with such a `__call__` will do; this class only documents the shape.
    """

    async def __call__(self, request: Request) -> Response:
        raise NotImplementedError


class Call:
    """One request on the wire, as a network panel would list it.

    `kind` is "request", "retry" or "refresh"; `status` and `ended` stay None until the
    answer is in, `error` says why there was none.
    """

    def __init__(
        self,
        id: int,
        kind: str,
        method: str,
        path: str,
        started: float,
        waited: bool = False,
        status: int | None = None,
        ended: float | None = None,
        error: str | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.method = method
        self.path = path
        self.started = started
        self.waited = waited
        self.status = status
        self.ended = ended
        self.error = error

    def __repr__(self) -> str:
        return f"Call({self.id}, {self.kind!r}, {self.method} {self.path}, {self.status})"


def _ignore_call(call: Call) -> None:
    """The default observer."""


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


def start_eagerly(work):
    """A task for `work`, run at once up to its first wait where Python can (CPython 3.12 and
    later, as in Pyodide); a task started the usual way costs a turn of the event loop first,
    and in the browser each turn between a 401 and its refresh is time the user waits.
    MicroPython has no eager tasks: there it is a task started the usual way."""
    if sys.implementation.name == "cpython" and sys.version_info >= (3, 12):
        return asyncio.Task(work, loop=asyncio.get_running_loop(), eager_start=True)
    return asyncio.create_task(work)


class _Outcome:
    """What one piece of work ended with, and an event set once it has ended."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()
        self.value = None
        self.error: BaseException | None = None

    async def run(self, work):
        """Run `work`, keeping its result or its error here; never raises but cancellation."""
        try:
            self.value = await work
        except Exception as error:
            self.error = error
        except BaseException as error:  # cancelled: the waiters hear of it too
            self.error = error
            raise
        finally:
            self.ended.set()

    async def result(self):
        """Wait for the end; the work's result, or its error raised here."""
        if not self.ended.is_set():
            await self.ended.wait()
        if self.error is not None:
            raise self.error
        return self.value


class SingleFlight:
    """At most one run of a piece of work at a time; every caller meanwhile shares it.

    Callers wait on an event and read the outcome kept beside it (as micropython-async's
    Message does), so cancelling one caller's wait leaves the run and the others be.
    """

    def __init__(self) -> None:
        self._current: _Outcome | None = None
        self._task = None  # the run's task, referenced so that it is not collected

    @property
    def running(self) -> bool:
        """Whether a run is in flight right now."""
        return self._current is not None

    async def share(self, start):
        """The outcome of the run in flight, or of a new one of `start()` if none is."""
        outcome = self._current
        if outcome is None:
            outcome = self._current = _Outcome()
            self._task = start_eagerly(self._run(outcome, start()))
        return await outcome.result()

    async def joined(self):
        """The outcome of the run in flight (there must be one)."""
        outcome = self._current
        assert outcome is not None
        return await outcome.result()

    async def _run(self, outcome: _Outcome, work) -> None:
        try:
            await outcome.run(work)
        finally:
            if self._current is outcome:
                self._current = None
                self._task = None


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
        locking, watching = _Outcome(), _Outcome()
        either = asyncio.Event()
        lock_task = start_eagerly(_then_set(locking.run(self._lock.__aenter__()), either))
        watch_task = start_eagerly(
            _then_set(watching.run(newer_pair(self._store, self._stale)), either)
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


async def _then_set(work, event: asyncio.Event) -> None:
    try:
        await work
    finally:
        event.set()


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
        await asyncio.sleep(_STORE_POLL)


class Lanes:
    """As many requests handed to the transport at once as it has connections; the others
    wait here, oldest first.

    A browser has six requests on the wire to one origin over HTTP/1.1 (Chromium, Firefox and
    Safari alike) and queues the rest itself, each with the token it was given: the moment a
    401 frees a connection, it sends the next one in its queue, before the page has read
    that 401. Waiting here instead, a request takes its token once it has a lane, when the
    gate has heard every answer before it. A request holds a lane only while it is on the
    wire: the lane passes on the moment its answer is in, before the gate reads it, so a
    request waiting for a refresh holds none, and the refresh needs none. With `connections`
    None, every request goes to the transport as it comes.
    """

    def __init__(self, connections: int | None) -> None:
        self._free = connections
        self._waiting: list = []  # an Event for each request waiting for a lane

    async def enter(self) -> bool:
        """Take a lane, waiting for one if none is free: whether it waited. Cancelled
        meanwhile, the place (or the lane) passes on."""
        if self._free is None:
            return False
        if self._free > 0:
            self._free -= 1
            return False
        turn = asyncio.Event()
        self._waiting.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn in self._waiting:
                self._waiting.remove(turn)
            else:
                self.leave()  # handed the lane just as it was cancelled
            raise
        return True

    def leave(self) -> None:
        """The request is done with its lane: the oldest one waiting gets it."""
        if self._free is None:
            return
        if self._waiting:
            self._waiting.pop(0).set()
        else:
            self._free += 1


class RefreshGate:
    """Sends authorized calls, refreshing the token once however many calls need it.

    `transport` sends a Request (see Transport); `store` keeps the pair (see
    app.tokens.TokenStore); `refresh_lock` makes one refresh across tabs (see NoLock);
    `connections` is how many requests the transport has on the wire at once, if it queues
    the rest (see Lanes; None: it sends every request as it comes).
    """

    def __init__(
        self,
        transport,
        store,
        *,
        on_logout=None,
        observe=_ignore_call,
        refresh_lock=NoLock,
        request_timeout: float | None = 15.0,
        refresh_timeout: float | None = 15.0,
        expiry_skew: float = 10.0,
        settle_time: float = 0.0,
        clock=time.time,
        refresh=None,
        connections: int | None = None,
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
        # How to refresh (see app.refresh): the seed's JSON endpoint unless told otherwise.
        self._refresh_with = SeedRefresh() if refresh is None else refresh
        self._refresh = SingleFlight()
        self._lanes = Lanes(connections)
        # How far this machine's clock runs ahead of the server's, learnt from the `iat` of
        # each pair received, so that a wrong clock does not turn every call into a refresh.
        self._clock_ahead = 0.0
        # The access token a refresh before expiry was last started for: never twice.
        self._early_refresh_for: str | None = None
        # For an access token the gate cannot read (not a JWT): when it was received and
        # when it expires by the answer's `expires_in`, on this machine's clock.
        self._told_lifetime: tuple | None = None
        self._ids = itertools.count(1)
        self.refresh_calls = 0

    @property
    def refreshing(self) -> bool:
        """Whether a refresh is in flight right now."""
        return self._refresh.running

    async def send(self, request: Request) -> Response:
        """Send `request` with the current access token; refresh and retry once on a 401.

        Raises RefreshRejected (logged out), TransientError (tokens kept) or NotLoggedIn.
        """
        token, waited = await self._lane_and_token()
        response = await self._send_in_lane(request, token, "request", waited)
        if response.status != 401:
            return response
        fresh = await self._token_after_401(token)
        await self._lanes.enter()
        response = await self._send_in_lane(request, fresh, "retry", True)
        if response.status != 401:
            return response
        current = self._store.load()
        if current is not None and current.access != fresh:
            # The session moved on while the retry was out (another call refreshed): its
            # 401 says nothing about the stored token, so keep it.
            raise TransientError("the token changed during the retry; try again")
        self.end_session()
        raise RefreshRejected("the server refused the refreshed access token")

    async def _lane_and_token(self) -> tuple:
        """A lane (see Lanes), and the token to send with: the one current once the lane is
        had, and whether the call had to wait for a refresh."""
        token, waited = await self._token_for_sending()
        while await self._lanes.enter():
            # It waited for its lane: a 401 read meanwhile may have started a refresh, which
            # it waits for without a lane, or the stored pair may have changed.
            if not self._refresh.running:
                current = self._store.load()
                if current is not None and current.access == token:
                    break
            self._lanes.leave()
            token, _ = await self._token_for_sending()
            waited = True
        return token, waited

    async def _send_in_lane(self, request: Request, token: str, kind: str, waited: bool):
        """`request` with `token`, on the lane it holds, which passes on once the answer
        (or the error) is in."""
        try:
            return await self._send_with(request, token, kind, waited)
        finally:
            self._lanes.leave()

    def accept(self, tokens: Tokens) -> None:
        """Store a pair just received from the server (a login or a refresh)."""
        now = self._clock()
        lifetime = access_token_lifetime(tokens.access)
        if lifetime is not None:
            self._clock_ahead = now - lifetime[0]
        elif tokens.expires_in is not None:
            self._told_lifetime = (tokens.access, now, now + tokens.expires_in)
        self._store.save(tokens)

    def end_session(self) -> None:
        """Drop the tokens; tell the page once, however many calls find the session over."""
        had_tokens = self._store.load() is not None
        self._store.clear()
        if had_tokens and self._on_logout is not None:
            self._on_logout()

    async def _token_for_sending(self) -> tuple:
        """The token to send with, and whether the call had to wait for a refresh."""
        if self._refresh.running:
            return await self._refresh.joined(), True
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
        if self._refresh.running:
            return await self._refresh.joined()
        tokens = self._load()
        if tokens.access != sent:
            return tokens.access
        return await self._join_refresh(tokens)

    def _load(self) -> Tokens:
        tokens = self._store.load()
        if tokens is None:
            raise NotLoggedIn("no tokens are stored; log in first")
        return tokens

    def _time_left(self, access: str) -> tuple | None:
        """Seconds until `access` expires by the server's clock, and the refresh skew for it.

        The skew is the configured one, at most half the token's lifetime; None means the
        token is not worth refreshing early (unreadable, or already tried).
        """
        if access == self._early_refresh_for:
            return None
        lifetime = access_token_lifetime(access)
        if lifetime is not None:
            issued, expires = lifetime
            now = self._clock() - self._clock_ahead  # the server's clock
        elif self._told_lifetime is not None and self._told_lifetime[0] == access:
            _, issued, expires = self._told_lifetime
            now = self._clock()  # expires_in was counted from this machine's receipt
        else:
            return None
        return expires - now, min(self._expiry_skew, (expires - issued) / 2)

    async def _join_refresh(self, stale: Tokens) -> str:
        return await self._refresh.share(lambda: self._run_refresh(stale))

    async def _run_refresh(self, stale: Tokens) -> str:
        race = TabRace(self._store, self._refresh_lock(stale.refresh), stale)
        try:
            held = await race.__aenter__()
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
                newer = await newer_pair(self._store, current, self._settle_time)
                if newer is None:
                    self.end_session()
                    raise
                return newer.access
            if held is not None:
                held.spent()
            return access
        finally:
            await race.__aexit__(None, None, None)

    async def _exchange(self, refresh_token: str) -> str:
        """Exchange `refresh_token` for a new pair (see app.refresh for the answer's rule).

        A refresh that got no answer at all is sent again at once, once: the connection may
        have dropped after the server exchanged the token, and a server with graceful
        rotation answers the same token, presented again within its reuse grace, with the
        same new pair. A timeout is not retried: the user has waited long enough.
        """
        request = self._refresh_with.request(refresh_token)
        try:
            response = await self._send_refresh(request)
        except NetworkError:
            response = await self._send_refresh(request)
        tokens = self._refresh_with.read(response, refresh_token)
        self.accept(tokens)
        return tokens.access

    async def _send_refresh(self, request: Request) -> Response:
        self.refresh_calls += 1
        return await self._wire(request, "refresh", False, self._refresh_timeout)

    async def _send_with(self, request: Request, token: str, kind: str, waited: bool) -> Response:
        authorized = request.with_header("Authorization", f"Bearer {token}")
        return await self._wire(authorized, kind, waited, self._request_timeout)

    async def _wire(
        self, request: Request, kind: str, waited: bool, timeout: float | None
    ) -> Response:
        """Put one request on the wire under a timeout, reporting it to the observer.

        A `timeout` of None leaves it to the transport, which may have a cheaper timer: an
        asyncio timer in Pyodide lives on as a JavaScript timeout after it is cancelled.
        """
        call = Call(next(self._ids), kind, request.method, request.path, self._clock(), waited)
        self._observe(call)
        try:
            sending = self._transport(request)
            if timeout is not None:
                sending = asyncio.wait_for(sending, timeout)
            response = await sending
        except asyncio.TimeoutError:
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
