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

Its parts each have a module: SingleFlight (_single_flight), TabRace (_tab_race), Lanes
(_lanes), the timing of rule 6 (_expiry) and the calls it reports (_calls). Like them, it
imports only what both of PyScript's interpreters have (CPython's asyncio in Pyodide,
MicroPython's own): no dataclasses, typing or contextlib, no asyncio futures. CPython tests
and MicroPython tests drive the same code with a fake transport.
"""

import time

from refresh_gate._calls import ObservedWire, ignore_call
from refresh_gate._errors import NetworkError, NotLoggedIn, RefreshRejected, TransientError
from refresh_gate._expiry import ExpiryTiming
from refresh_gate._lanes import Lanes
from refresh_gate._refresh import SeedRefresh
from refresh_gate._single_flight import SingleFlight
from refresh_gate._tab_race import NoLock, TabRace, newer_pair
from refresh_gate._tokens import BEARER, Tokens
from refresh_gate._wire import Request, Response


class Transport:
    """What the gate sends with: an async callable `(Request) -> Response`.

    It raises NetworkError when no answer comes back (RequestTimeout when it times the
    request out itself), and cancelling the awaiting task cancels the request on the wire.
    Any object with such a `__call__` will do; this class only documents the shape. One
    that keeps something for the session may also have `session_ended()`, which the gate
    calls as it drops the tokens (a DPoPTransport deletes its key there).
    """

    async def __call__(self, request: Request) -> Response:
        raise NotImplementedError


class RefreshGate:
    """Sends authorized calls, refreshing the token once however many calls need it.

    `transport` sends a Request (see Transport); `store` keeps the pair (see
    TokenStore); `refresh_lock` makes one refresh across tabs (see NoLock);
    `connections` is how many requests the transport has on the wire at once, if it queues
    the rest (see Lanes; None: it sends every request as it comes).
    """

    def __init__(
        self,
        transport,
        store,
        *,
        on_logout=None,
        observe=ignore_call,
        refresh_lock=NoLock,
        request_timeout: float | None = 15.0,
        refresh_timeout: float | None = 15.0,
        expiry_skew: float = 10.0,
        settle_time: float = 0.0,
        clock=time.time,
        refresh=None,
        connections: int | None = None,
    ) -> None:
        self._wire = ObservedWire(transport, observe, clock)
        self._session_ended = getattr(transport, "session_ended", None)
        self._store = store
        self._on_logout = on_logout
        self._refresh_lock = refresh_lock
        self._request_timeout = request_timeout
        self._refresh_timeout = refresh_timeout
        # How long a refused refresh waits for another tab's pair to reach the store
        # before logging out; 0 where no other tab shares the store.
        self._settle_time = settle_time
        # How to refresh (SeedRefresh, OAuth2Refresh or any other): the seed's unless told.
        self._refresh_with = SeedRefresh() if refresh is None else refresh
        self._refresh = SingleFlight()
        self._lanes = Lanes(connections)
        self._expiry = ExpiryTiming(clock, expiry_skew)
        # The Authorization scheme of the pair last read or received: every pair of a
        # session has the same token type, so it is kept here, not looked up for each call.
        self._scheme = BEARER
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
        self._expiry.received(tokens)
        self._scheme = tokens.token_type
        self._store.save(tokens)

    def end_session(self) -> None:
        """Drop the tokens; tell the page once, however many calls find the session over."""
        had_tokens = self._store.load() is not None
        self._store.clear()
        if self._session_ended is not None:
            self._session_ended()
        if had_tokens and self._on_logout is not None:
            self._on_logout()

    async def _token_for_sending(self) -> tuple:
        """The token to send with, and whether the call had to wait for a refresh."""
        if self._refresh.running:
            return await self._refresh.joined(), True
        tokens = self._load()
        if not tokens.access:  # nothing worth sending: refresh first
            return await self._join_refresh(tokens), True
        timing = self._expiry.time_left(tokens.access)
        if timing is None or timing[0] > timing[1]:
            return tokens.access, False
        self._expiry.refreshing_early(tokens.access)
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
        self._scheme = tokens.token_type
        return tokens

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
        """Exchange `refresh_token` for a new pair (see _refresh for the answer's rule).

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
        return await self._wire.send(request, "refresh", False, self._refresh_timeout)

    async def _send_with(self, request: Request, token: str, kind: str, waited: bool) -> Response:
        authorized = request.with_header("Authorization", f"{self._scheme} {token}")
        return await self._wire.send(authorized, kind, waited, self._request_timeout)
