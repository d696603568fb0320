"""The demo page's state and what it does: log in, the three requests, log out.

Everything the page keeps lives in one Demo object, which app/main.py makes once and wires
to the page's events. It reaches the refresh gate only through the library's public names.
"""

import asyncio
import json
import time

from app import routes
from app.interpreter import format_exception, window
from app.pages import PAGES, RESULT_SLOTS, View
from app.painter import TimelinePainter
from app.provider import ProviderSignIn
from app.timeline import MAX_ROWS, Timeline
from refresh_gate import (
    AuthError,
    DPoPTransport,
    LocalStorageTokenStore,
    NotLoggedIn,
    RefreshRejected,
    Request,
    SeedRefresh,
    Tokens,
    TransientError,
    access_token_lifetime,
    page_gate,
    start_eagerly,
)

RESOURCE = Request("GET", "/api/resources")
REQUEST_TIMEOUT = 15.0  # seconds for any request, the refresh included
BROKEN_TOKEN = "sdf"  # what the seed article types into the console
NO_TOKEN = "none"


class Demo:
    """The seed's two pages on a refresh gate; `base` is where this page's routes start ("" for
    the MicroPython page, "/pyodide" for the other), `refresh` how the gate refreshes, and
    `sign_in` the page's OpenID Connect provider (an OidcSignIn), if it signs in there
    instead of with the seed's login form (app/provider.py); `transport` the page's
    (page_transport's: with DPoP proofs where the settings say `dpop = true`)."""

    def __init__(self, base: str, refresh, transport, sign_in=None) -> None:
        self.base = base
        self.provider = None if sign_in is None else ProviderSignIn(self, sign_in)
        self.view = View(MAX_ROWS)
        self.store = LocalStorageTokenStore(
            on_failure=self._storage_failed, on_change=self.show_token_left
        )
        self.transport = transport
        self.refresh = refresh
        self._painter = TimelinePainter(self.view, Timeline(time.time()), self._painted)
        self.gate = page_gate(
            self.transport,
            self.store,
            on_logout=self._session_ended,
            observe=self._painter.observe,
            refresh=self.refresh,
        )
        self._tasks: set = set()
        self._clicks = 0  # clicks on Send 3 requests so far
        self._in_flight = 0  # requests for the resource not answered yet
        self._notice = ""  # a standing notice for the home page (storage refused), or nothing

    def spawn(self, work) -> None:
        """Run the coroutine `work` in the background, keeping a reference until it ends."""
        # Eager where Python can: a click's work runs (and its fetches leave) while the click
        # is being handled.
        task = start_eagerly(self._reported(work))
        if not task.done():
            self._tasks.add(task)

    async def _reported(self, work) -> None:
        """Run `work`; a bug in it must not pass in silence. Then forget its task."""
        try:
            await work
        except Exception as error:
            window.console.error(f"Python error in a task:\n{format_exception(error)}")
        finally:
            self._tasks.discard(asyncio.current_task())

    def _storage_failed(self, text: str) -> None:
        """Tell the user that the session will not survive this tab; it stays on screen."""
        self._notice = f"{text} You stay logged in in this tab only."
        window.console.warn(self._notice)
        for page in PAGES:
            self.view.say(page, self._notice, error=False)

    def go(self, path: str, *, replace: bool = False) -> None:
        """Client-side navigation with the History API, then show the page for the new path."""
        if replace:
            window.history.replaceState(None, "", self.base + path)
        else:
            window.history.pushState(None, "", self.base + path)
        self.render()

    def path(self) -> str:
        """The address bar's path within this page's routes ("/login", not "/pyodide/login")."""
        path = str(window.location.pathname)
        if self.base and path.startswith(self.base):
            path = path[len(self.base) :]
        return path or "/"

    def _here(self) -> str:
        return self.path() + str(window.location.search)

    def _session_ended(self) -> None:
        """The server refused the session: back to the login page, once."""
        self.go(routes.login_url(self._here()))
        self.view.say("login", "Your session has ended. Please log in again.")

    def _painted(self) -> None:
        """What goes with each drawing of the timeline: the counters beside it."""
        self.view.set_text("refresh-count", str(self.gate.refresh_calls))
        self.show_token_left()

    def render(self, *_: object) -> None:
        """Show the page the address bar names; the home page needs a session."""
        page = routes.page_for(self.path())
        if page == "login":
            self.view.show("login")
            return
        if page == "callback":
            self.view.show("login")
            self.view.say("login", "Signing in…", error=False)
            self.spawn(self.provider.finish())
            return
        if self.store.load() is None:
            self.go(routes.login_url(self._here()), replace=True)
            if self.store.discarded:
                self.view.say("login", "The stored session could not be read. Please log in again.")
            return
        self.view.show("home")
        self.view.say("home", self._notice, error=False)
        self.spawn(self._load_home())

    def _count_in_flight(self, change: int) -> None:
        self._in_flight += change
        self.view.set_text("in-flight", str(self._in_flight))

    async def fetch_resource(self) -> str:
        """The protected resource as text, or a short description of why there is none."""
        self._count_in_flight(+1)
        try:
            return await self._resource_text()
        finally:
            self._count_in_flight(-1)

    async def _resource_text(self) -> str:
        try:
            response = await self.gate.send(RESOURCE)
        except NotLoggedIn:
            self.go(routes.login_url(self._here()), replace=True)
            return "not logged in"
        except RefreshRejected:
            return "logged out"
        except TransientError as error:
            self.view.say("home", f"{error}. You are still logged in; try again.")
            return "failed, try again"
        if response.status != 200:
            return f"error {response.status}"
        return response.body

    async def _load_home(self) -> None:
        self.view.set_text("data", "loading…")
        self.view.set_text("data", await self.fetch_resource())

    async def _fill_slot(self, slot: str, click: int) -> None:
        self.view.set_text(slot, "…")
        text = await self.fetch_resource()
        if click == self._clicks:  # an answer to an earlier click must not hide a newer one's
            self.view.set_text(slot, text)

    async def send_three(self) -> None:
        """The demo: three requests at once, each result beside its label."""
        self._clicks += 1
        self.view.say("home", self._notice, error=False)
        click = self._clicks
        await asyncio.gather(
            *(start_eagerly(self._fill_slot(slot, click)) for slot in RESULT_SLOTS)
        )

    async def log_in(self) -> None:
        """The login form: the refresh's own login request; the gate keeps the pair."""
        user, password = self.view.credentials()
        self.view.busy("submit", True)
        self.view.say("login", "")
        try:
            if isinstance(self.transport, DPoPTransport):
                await self.transport.new_key()  # a new sign-in, a new key, in this tab alone
            response = await self.transport(self.refresh.login(user, password))
        except AuthError as error:
            self.view.say("login", f"Could not reach the server: {error}")
            return
        finally:
            self.view.busy("submit", False)
        if response.status in self.refresh.wrong_credentials:
            self.view.say("login", "Wrong user name or password.")
            return
        if response.status == 429:
            self.view.say("login", "Too many failed attempts. Wait a minute, then try again.")
            return
        tokens = self.refresh.read_login(response)
        if tokens is None:
            self.view.say("login", f"The server could not log you in (status {response.status}).")
            return
        self.gate.accept(tokens)
        self.go(routes.return_path(str(window.location.search)))

    async def log_out(self) -> None:
        """Log out at once; tell the server so that the refresh token dies too."""
        tokens = self.store.load()
        self.gate.end_session()
        self.view.say("login", "You have logged out.", error=False)
        if self.provider is not None:
            await self.provider.log_out(tokens)
            return
        if tokens is not None and isinstance(self.refresh, SeedRefresh):
            body = json.dumps({"refreshToken": tokens.refresh})
            headers = {"Content-Type": "application/json"}
            try:
                await self.transport(Request("POST", "/authorization/logout", headers, body))
            except AuthError:
                pass  # not reached: the token dies by itself at its expiry

    def break_token(self) -> None:
        """What the seed asks the reader to type into the console."""
        tokens = self.store.load()
        if tokens is not None:
            self.store.save(Tokens(BROKEN_TOKEN, tokens.refresh, None, tokens.token_type))
        self.show_token_left()

    def show_token_left(self) -> None:
        """The stored access token's remaining lifetime, on screen."""
        access = self.store.stored_access()
        lifetime = access_token_lifetime(access) if access else None
        if not access:
            text = NO_TOKEN
        elif lifetime is None:
            text = "unreadable token"
        else:
            left = lifetime[1] - time.time()
            text = f"{left:.0f} s" if left > 0 else "expired"
        self.view.set_text("token-left", text)

    async def count_down(self) -> None:
        """Keep the token's remaining lifetime on screen current."""
        while True:
            self.show_token_left()
            await asyncio.sleep(1)

    def on_storage(self, event: object) -> None:
        """Another tab changed the tokens: use its refresh, follow its logout."""
        if event.key not in (None, self.store.access_key, self.store.refresh_key):
            return
        self.show_token_left()
        if self.store.load() is None and routes.page_for(self.path()) == "home":
            self.go(routes.login_url(self._here()))
            self.view.say("login", "You were logged out in another tab.", error=False)
