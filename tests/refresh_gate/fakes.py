"""A fake server for the refresh gate's unit tests: controllable timing, a log of the wire.

`FakeServer` is the gate's transport. It answers `/api/...` with 200 for the one valid access
token and 401 otherwise, and `POST /authorization/refresh` with a new pair for a live refresh
token (single use). A test can hold any request open, make the refresh fail, or read back
every request in the order it arrived. `OAuthServer` is the same server refreshed at
RFC 6749's token endpoint instead, rotating its refresh tokens or not.

Like the tests, this runs on CPython and on MicroPython (see `portable.py`): plain classes,
no `dataclasses`, `typing` or `contextlib`, and nothing of asyncio that MicroPython lacks.
"""

import asyncio
import base64
import itertools
import json
from collections import defaultdict

from refresh_gate import (
    MemoryTokenStore,
    NetworkError,
    OAuth2Refresh,
    RefreshGate,
    Request,
    Response,
    SeedRefresh,
    Tokens,
)
from refresh_gate._forms import form_decode
from refresh_gate._refresh import REFRESH_PATH
from tests.portable import monotonic

USERNAME = "andreyka26_"
PROTECTED_BODY = f"protected resources, username: {USERNAME}"
PASSWORD = "Mypass1*"  # the seeded user's, as in server_stub
SERVER_START = 1_700_000_000.0
_BEARER = "Bearer "


def make_jwt(iat: float, exp: float, **claims: object) -> str:
    """A JWT-shaped token whose `iat` and `exp` the gate can read; the signature is fake."""

    def segment(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    payload = {"iat": iat, "exp": exp}
    payload.update(claims)
    return segment({"alg": "HS256", "typ": "JWT"}) + "." + segment(payload) + ".sig"


class FakeClock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self, now: float = SERVER_START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Seen:
    """One request as the server received it; `status` stays None if it was never answered."""

    def __init__(self, method: str, path: str, authorization: str | None) -> None:
        self.method = method
        self.path = path
        self.authorization = authorization
        self.status: int | None = None

    @property
    def token(self) -> str | None:
        """The bearer token the request carried, if any."""
        if not self.authorization or not self.authorization.startswith(_BEARER):
            return self.authorization
        return self.authorization[len(_BEARER) :]


class Hold:
    """Keeps the next request to `path` open until `release` is set (never, to make it hang)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False
        self.cancelled_after = 0  # how many requests the server had seen by then


class FakeServer:
    """The API and its refresh endpoint, as an async callable `(Request) -> Response`."""

    def __init__(self, clock: FakeClock | None = None, lifetime: float = 300.0) -> None:
        self.clock = clock or FakeClock()
        self.lifetime = lifetime
        self.seen: list[Seen] = []
        self.valid_access: str | None = None
        # What the next refreshes get instead of a pair: a status, a whole Response, or an
        # exception to raise (NetworkError). None answers normally.
        self.refresh_outcome: int | Response | Exception | None = None
        # Every access token gets 401, even a fresh one (e.g. the user was banned meanwhile).
        self.refuse_every_access_token = False
        # The next this many refresh answers are lost on the way back, after the server has
        # exchanged the token: the page sees a network error.
        self.lose_refresh_answers = 0
        # Graceful rotation: a token spent within this many seconds gets the same answer
        # again (the successor pair it was exchanged for); None refuses it, as reuse.
        self.reuse_grace: float | None = None
        self._answered: dict = {}  # spent refresh token -> (when, the answer it got)
        self._live_refresh: set[str] = set()
        self._holds: list[Hold] = []
        self._serials = itertools.count(1)

    def issue(self) -> Tokens:
        """A new pair, as a login hands out; its access token becomes the one valid token."""
        serial = next(self._serials)
        self.pairs_issued = serial
        issued = self.clock()
        access = make_jwt(issued, issued + self.lifetime, sub=USERNAME, n=serial)
        refresh = f"refresh-{serial}"
        self.valid_access = access
        self._live_refresh.add(refresh)
        return Tokens(access, refresh)

    def expire_access(self) -> None:
        """The current access token runs out: every API call with it now gets 401."""
        self.valid_access = None

    def hold(self, path: str) -> Hold:
        hold = Hold(path)
        self._holds.append(hold)
        return hold

    @property
    def refresh_calls(self) -> int:
        return sum(seen.path == REFRESH_PATH for seen in self.seen)

    def to(self, path: str) -> list[Seen]:
        """The requests to `path`, in order."""
        return [seen for seen in self.seen if seen.path == path]

    def page_refresh(self) -> SeedRefresh:
        """How a page refreshes against this server: the seed's JSON refresh."""
        return SeedRefresh()

    async def __call__(self, request: Request) -> Response:
        seen = Seen(request.method, request.path, request.headers.get("Authorization"))
        self.seen.append(seen)
        hold = next((hold for hold in self._holds if hold.path == request.path), None)
        if hold is None:
            await asyncio.sleep(0)  # even a quick answer comes back on a later turn of the loop
        else:
            self._holds.remove(hold)
            hold.arrived.set()
            try:
                await hold.release.wait()
            except asyncio.CancelledError:
                hold.cancelled = True
                hold.cancelled_after = len(self.seen)
                raise
        response = self._answer(request)
        seen.status = response.status
        if request.path == REFRESH_PATH and self.lose_refresh_answers > 0:
            self.lose_refresh_answers -= 1
            raise NetworkError("the connection dropped before the answer came back")
        return response

    def _answer(self, request: Request) -> Response:
        if request.method == "POST" and request.path == REFRESH_PATH:
            return self._refresh(request)
        if request.path.startswith("/api/"):
            valid = self.valid_access is not None and not self.refuse_every_access_token
            if valid and request.headers.get("Authorization") == f"Bearer {self.valid_access}":
                return Response(200, PROTECTED_BODY)
            return Response(401, '{"detail": "Unauthorized"}')
        return Response(404, '{"detail": "Not Found"}')

    def _refresh(self, request: Request) -> Response:
        outcome = self.refresh_outcome
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, Response):
            return outcome
        if isinstance(outcome, int):
            return Response(outcome, '{"detail": "refresh failed"}')
        presented = json.loads(request.body or "{}").get("refreshToken")
        answered = self._answered.get(presented)
        if answered is not None and self.reuse_grace is not None:
            spent_at, answer = answered
            if self.clock() - spent_at <= self.reuse_grace:
                return answer
        if presented not in self._live_refresh:
            return Response(401, '{"detail": "invalid refresh token"}')
        self._live_refresh.remove(presented)
        tokens = self.issue()
        answer = Response(
            200, json.dumps({"authorizationToken": tokens.access, "refreshToken": tokens.refresh})
        )
        self._answered[presented] = (self.clock(), answer)
        return answer


class App:
    """What a page holds: the gate, its token store, and how often it was told to log out."""

    def __init__(self, server: FakeServer, store: MemoryTokenStore) -> None:
        self.server = server
        self.store = store
        self.gate: RefreshGate | None = None  # set by open_app or open_tab
        self.logouts = 0
        self.logged_out_at: list[float] = []  # `monotonic` at each logout

    def get(self, path: str = "/api/resource") -> asyncio.Task:
        """Start `GET path` through the gate, as a click on the page would."""
        return asyncio.create_task(self.gate.send(Request("GET", path)))

    def _logout(self) -> None:
        self.logouts += 1
        self.logged_out_at.append(monotonic())


def open_app(server: FakeServer, *, logged_in: bool = True, **gate_options: object) -> App:
    """A page on `server`, logged in with a fresh pair unless `logged_in` is False."""
    app = App(server, MemoryTokenStore(server.issue() if logged_in else None))
    gate_options.setdefault("clock", server.clock)
    gate_options.setdefault("refresh", server.page_refresh())
    app.gate = RefreshGate(server, app.store, on_logout=app._logout, **gate_options)
    return app


OAUTH_TOKEN_PATH = "/oauth/token"
_FORM = "application/x-www-form-urlencoded"


class OAuthServer(FakeServer):
    """The same API, refreshed at RFC 6749's token endpoint: `POST /oauth/token`, a form.

    The `refresh_token` grant (§6) and the `password` grant (§4.3, a login) are answered
    `access_token`, `token_type` and `expires_in` (the `lifetime`), with a new single-use
    `refresh_token` where the server `rotate`s; one that does not rotate answers none and
    keeps the presented token live. Access tokens are JWTs, or strings the gate cannot read
    where `opaque`. Anything else is a §5.2 error; `refresh_outcome` works as for the seed's
    server (a status is answered with a body that names no error). `forms` holds every form
    sent to the token endpoint, decoded (None where it was not a well-formed one).
    """

    def __init__(
        self,
        clock: FakeClock | None = None,
        lifetime: float = 300.0,
        *,
        rotate: bool = True,
        opaque: bool = False,
        client_id: str | None = None,
        scopes: tuple = ("resources",),
    ) -> None:
        super().__init__(clock, lifetime)
        self.rotate = rotate
        self.opaque = opaque
        self.client_id = client_id  # when set, every request must name this client
        self.scopes = scopes  # the scopes a request may ask for
        self.forms: list = []
        # Fields every successful answer also carries, in place of its own (garbage, say).
        self.also_answer: dict = {}
        self._opaque_serials = itertools.count(1)

    def page_refresh(self) -> OAuth2Refresh:
        """How a page refreshes against this server: RFC 6749's refresh, as its client."""
        return OAuth2Refresh(OAUTH_TOKEN_PATH, client_id=self.client_id)

    def issue(self) -> Tokens:
        """A new pair, as the password grant hands out; its access token is the valid one."""
        tokens = super().issue()
        if not self.opaque:
            return tokens
        self.valid_access = f"opaque-access-{next(self._opaque_serials)}"
        return Tokens(self.valid_access, tokens.refresh)

    @property
    def refresh_calls(self) -> int:
        return len(self.presented)

    @property
    def presented(self) -> list:
        """The refresh token of each `refresh_token` grant, in the order they came."""
        grants = [form for form in self.forms if form and form.get("grant_type") == "refresh_token"]
        return [form.get("refresh_token") for form in grants]

    async def __call__(self, request: Request) -> Response:
        if request.path == OAUTH_TOKEN_PATH:
            self.forms.append(form_decode(request.body or ""))
        return await super().__call__(request)

    def _answer(self, request: Request) -> Response:
        if request.path != OAUTH_TOKEN_PATH:
            if request.path.startswith("/api/"):
                return super()._answer(request)
            return Response(404, '{"detail": "Not Found"}')
        form = self.forms[-1]
        content_type = request.headers.get("Content-Type", "")
        if request.method != "POST" or not content_type.startswith(_FORM):
            return _oauth_error(400, "invalid_request")
        if form is None or "grant_type" not in form:
            return _oauth_error(400, "invalid_request")
        if self.client_id is not None and form.get("client_id") != self.client_id:
            return _oauth_error(401, "invalid_client")
        asked = form.get("scope", "").split()
        if any(scope not in self.scopes for scope in asked):
            return _oauth_error(400, "invalid_scope")
        if form["grant_type"] == "password":
            return self._log_in(form)
        if form["grant_type"] == "refresh_token":
            return self._refresh_grant(request, form)
        return _oauth_error(400, "unsupported_grant_type")

    def _log_in(self, form: dict) -> Response:
        if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
            return _oauth_error(400, "invalid_grant")
        tokens = self.issue()
        return self._granted(tokens.access, tokens.refresh)

    def _refresh_grant(self, request: Request, form: dict) -> Response:
        if self.refresh_outcome is not None:
            return super()._refresh(request)  # told what to answer: as the seed's server does
        presented = form.get("refresh_token")
        if presented is None:
            return _oauth_error(400, "invalid_request")
        if presented not in self._live_refresh:
            return _oauth_error(400, "invalid_grant")
        tokens = self.issue()
        if self.rotate:
            self._live_refresh.remove(presented)
            return self._granted(tokens.access, tokens.refresh)
        self._live_refresh.remove(tokens.refresh)  # the presented token stays the only one
        return self._granted(tokens.access, None)

    def _granted(self, access: str, refresh: str | None) -> Response:
        answer = {"access_token": access, "token_type": "Bearer", "expires_in": self.lifetime}
        if refresh is not None:
            answer["refresh_token"] = refresh
        answer.update(self.also_answer)
        return Response(200, json.dumps(answer))


def _oauth_error(status: int, error: str) -> Response:
    return Response(status, json.dumps({"error": error}))


class TabStorage(MemoryTokenStore):
    """One tab's view of a `SharedStorage`."""

    def __init__(self, shared: "SharedStorage", tokens: Tokens | None) -> None:
        super().__init__(tokens)
        self._shared = shared

    def save(self, tokens: Tokens) -> None:
        """Store the pair here at once, in the other tabs a moment later."""
        super().save(tokens)
        self._shared.spread(self, tokens)

    def clear(self) -> None:
        """Drop the pair here at once, in the other tabs a moment later."""
        super().clear()
        self._shared.spread(self, None)


class SharedStorage:
    """localStorage as tabs share it: each tab sees its own writes at once, the others' only
    `lag` seconds later (Chromium hands them to other renderers asynchronously)."""

    def __init__(self, tokens: Tokens, lag: float) -> None:
        self._tokens = tokens
        self._lag = lag
        self._tabs: list[TabStorage] = []

    def tab(self) -> TabStorage:
        """The storage of a tab opened now."""
        tab = TabStorage(self, self._tokens)
        self._tabs.append(tab)
        return tab

    def spread(self, writer: TabStorage, tokens: Tokens | None) -> None:
        self._tokens = tokens
        for tab in self._tabs:
            if tab is not writer:
                later(self._lag, MemoryTokenStore.save, tab, tokens)


class HeldLock:
    """A lock of `SharedLocks` while a tab holds it."""

    def __init__(self) -> None:
        self.is_spent = False

    def spent(self) -> None:
        self.is_spent = True


class SharedLocks:
    """navigator.locks for the tabs of one origin: one exclusive lock per name. A lock marked
    spent is kept `spent_hold` seconds after its block ends, as the page's Web Lock is, and
    the tab that keeps it may enter it again meanwhile. Each tab asks through `tab()`."""

    def __init__(self, spent_hold: float) -> None:
        self.spent_hold = spent_hold
        self.names: list[str] = []  # every name asked for, in order
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.kept: dict = {}  # name -> [the tab keeping it, whether it still does]

    def __call__(self, name: str) -> "SharedLockBlock":
        """The block to run under the lock `name`, for a tab of its own."""
        return SharedLockBlock(self, name, object())

    def tab(self) -> object:
        """The refresh lock of one tab: `async with locks.tab()(name) as held:`."""
        me = object()
        return lambda name: SharedLockBlock(self, name, me)

    def lock_for(self, name: str) -> asyncio.Lock:
        """The lock named `name`, noting that it was asked for."""
        self.names.append(name)
        return self._locks[name]


class SharedLockBlock:
    """One request of one tab for a lock of `SharedLocks`, as an async context manager."""

    def __init__(self, locks: SharedLocks, name: str, tab: object) -> None:
        self._locks = locks
        self._name = name
        self._tab = tab
        self._lock: asyncio.Lock | None = None
        self._held: HeldLock | None = None

    async def __aenter__(self) -> HeldLock:
        self._lock = self._locks.lock_for(self._name)
        kept = self._locks.kept.get(self._name)
        if kept is not None and kept[0] is self._tab:
            del self._locks.kept[self._name]
            kept[1] = False  # this tab holds it still: its pending release is called off
        else:
            await self._lock.acquire()
        self._held = HeldLock()
        return self._held

    async def __aexit__(self, *exc_info: object) -> None:
        if not self._held.is_spent:
            self._lock.release()
            return
        keeping = [self._tab, True]
        self._locks.kept[self._name] = keeping
        later(self._locks.spent_hold, self._let_go, keeping)

    def _let_go(self, keeping: list) -> None:
        if keeping[1]:
            if self._locks.kept.get(self._name) is keeping:
                del self._locks.kept[self._name]
            self._lock.release()


def open_tab(
    server: FakeServer, storage: SharedStorage, locks: SharedLocks, **gate_options: object
) -> App:
    """A tab of the page on `server`, sharing `storage` and `locks` with the other tabs."""
    app = App(server, storage.tab())
    gate_options.setdefault("clock", server.clock)
    gate_options.setdefault("refresh", server.page_refresh())
    app.gate = RefreshGate(
        server, app.store, on_logout=app._logout, refresh_lock=locks.tab(), **gate_options
    )
    return app


def later(delay: float, action: object, *args: object) -> asyncio.Task:
    """Call `action(*args)` `delay` seconds from now (MicroPython's loop has no call_later)."""

    async def wait_then_act() -> None:
        await asyncio.sleep(delay)
        action(*args)

    return asyncio.create_task(wait_then_act())


async def within(awaitable: object, seconds: float = 2.0) -> object:
    """Await `awaitable`, failing the test instead of hanging if the gate never gives up."""
    return await asyncio.wait_for(awaitable, seconds)


async def settle(turns: int = 20) -> None:
    """Let every task that can run do so (the fake has no real I/O, so a few turns suffice)."""
    for _ in range(turns):
        await asyncio.sleep(0)


class SessionStorage:
    """The browser's sessionStorage (its two calls a sign-in uses), on a dict: one tab's own."""

    def __init__(self) -> None:
        self.items: dict = {}

    def getItem(self, key: str) -> str | None:
        return self.items.get(key)

    def setItem(self, key: str, value: str) -> None:
        self.items[key] = value
