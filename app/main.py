"""The demo app: wires the refresh gate to the pages, the history and the buttons.

PyScript runs this file once, on MicroPython (/) or Pyodide (/pyodide); it sets everything
up and returns. Work that takes time runs in tasks, so the page stays responsive.

One way in from outside, for `make bench`: `window.refreshGateFire(way, n)` sends n requests
for the resource at once and answers (a promise of) how many got their 200. `way` is "app"
(the page's own code path, timeline and all), "gate" (a refresh gate of its own on the
page's transport and store) or "plain" (the browser's fetch with the stored token).
"""

import asyncio
import json
import time

import js
from pyscript import config
from pyscript.ffi import create_proxy, to_js

from app import routes
from app.browser import (
    ACCESS_KEY,
    REFRESH_KEY,
    REQUEST_TIMEOUT,
    FetchTransport,
    LocalStorageTokenStore,
    page_gate,
)
from app.errors import AuthError, NotLoggedIn, RefreshRejected, TransientError
from app.gate import Call, RefreshGate, Request, start_eagerly
from app.interpreter import document, format_exception, window
from app.pages import PAGES, RESULT_SLOTS, View
from app.refresh import SeedRefresh, refresh_from_settings
from app.timeline import MAX_ROWS, Timeline
from app.tokens import Tokens, access_token_lifetime

RESOURCE = Request("GET", "/api/resources")
BROKEN_TOKEN = "sdf"  # what the seed article types into the console
NO_TOKEN = "none"
QUIET_TIME = 0.03  # seconds without a call starting or ending before the timeline is drawn
LATEST_TIME = 0.25  # the longest a change waits to be drawn

# Where this page's routes start: "" for the MicroPython page, "/pyodide" for the other.
_BASE = str(document.body.getAttribute("data-base") or "")
_view = View(MAX_ROWS)
_store = LocalStorageTokenStore(
    on_failure=lambda text: _storage_failed(text), on_change=lambda: _show_token_left()
)
_transport = FetchTransport(timeout=REQUEST_TIMEOUT)
_timeline = Timeline(time.time())
_tasks: set = set()
_clicks = 0  # clicks on Send 3 requests so far
_in_flight = 0  # requests for the resource not answered yet
_unpainted: dict[int, Call] = {}  # calls the timeline on screen does not show yet
_first_unpainted = 0.0  # time.time() of the oldest change not drawn yet
_last_change = 0.0  # ... and of the latest
_notice = ""  # a standing notice for the home page (storage refused), or nothing


def _spawn(work) -> None:
    """Run the coroutine `work` in the background, keeping a reference until it ends."""
    # Eager where Python can: a click's work runs (and its fetches leave) while the click is
    # being handled.
    task = start_eagerly(_reported(work))
    if not task.done():
        _tasks.add(task)


async def _reported(work) -> None:
    """Run `work`; a bug in it must not pass in silence. Then forget its task."""
    try:
        await work
    except Exception as error:
        window.console.error(f"Python error in a task:\n{format_exception(error)}")
    finally:
        _tasks.discard(asyncio.current_task())


def _storage_failed(text: str) -> None:
    """Tell the user that the session will not survive this tab; it stays on screen."""
    global _notice
    _notice = f"{text} You stay logged in in this tab only."
    window.console.warn(_notice)
    for page in PAGES:
        _view.say(page, _notice, error=False)


def _go(path: str, *, replace: bool = False) -> None:
    """Client-side navigation with the History API, then show the page for the new path."""
    if replace:
        window.history.replaceState(None, "", _BASE + path)
    else:
        window.history.pushState(None, "", _BASE + path)
    _render()


def _path() -> str:
    """The address bar's path within this page's routes ("/login", not "/pyodide/login")."""
    path = str(window.location.pathname)
    if _BASE and path.startswith(_BASE):
        path = path[len(_BASE) :]
    return path or "/"


def _here() -> str:
    return _path() + str(window.location.search)


def _session_ended() -> None:
    """The server refused the session: back to the login page, once."""
    _go(routes.login_url(_here()))
    _view.say("login", "Your session has ended. Please log in again.")


def _observe(call: Call) -> None:
    """Note every call the gate makes, as it starts and as it ends; paint when calls pause.

    Drawing takes the page's one thread for several milliseconds, and the browser renders
    the change after it. Drawn as each call started or ended, or even once a frame or when
    the browser fell idle, it landed between a 401 and the refresh it starts, or between the
    new token and the retries, and the demo recovered 20 to 40 ms later. So the timeline is
    drawn once no call has started or ended for QUIET_TIME, while the calls are on the wire,
    and at least every LATEST_TIME.
    """
    global _first_unpainted, _last_change
    _timeline.record(call)
    _last_change = time.time()
    if not _unpainted:
        _first_unpainted = _last_change
        js.setTimeout(_paint_when_quiet_proxy, QUIET_TIME * 1000)
    _unpainted[call.id] = call


def _paint_when_quiet() -> None:
    """Paint, or look again once the calls have been quiet long enough."""
    due = min(_last_change + QUIET_TIME, _first_unpainted + LATEST_TIME)
    wait = due - time.time()
    if wait > 0:
        js.setTimeout(_paint_when_quiet_proxy, wait * 1000)
    else:
        _paint()


_paint_when_quiet_proxy = create_proxy(_paint_when_quiet)


def _paint() -> None:
    """Bring the timeline up to date."""
    # In the order the calls started: MicroPython's dicts keep no order.
    for call in sorted(_unpainted.values(), key=lambda call: call.id):
        _view.show_row(_timeline.row(call))
    _unpainted.clear()
    _view.draw_bars(_timeline.bars(time.time()))
    _view.set_text("refresh-count", str(_gate.refresh_calls))
    _show_token_left()


_refresh = refresh_from_settings(config.get("refresh-gate") or {})
_gate = page_gate(_transport, _store, on_logout=_session_ended, observe=_observe, refresh=_refresh)


def _render(*_: object) -> None:
    """Show the page the address bar names; the home page needs a session."""
    if routes.page_for(_path()) == "login":
        _view.show("login")
        return
    if _store.load() is None:
        _go(routes.login_url(_here()), replace=True)
        if _store.discarded:
            _view.say("login", "The stored session could not be read. Please log in again.")
        return
    _view.show("home")
    _view.say("home", _notice, error=False)
    _spawn(_load_home())


def _count_in_flight(change: int) -> None:
    global _in_flight
    _in_flight += change
    _view.set_text("in-flight", str(_in_flight))


async def _fetch_resource() -> str:
    """The protected resource as text, or a short description of why there is none."""
    _count_in_flight(+1)
    try:
        return await _resource_text()
    finally:
        _count_in_flight(-1)


async def _resource_text() -> str:
    try:
        response = await _gate.send(RESOURCE)
    except NotLoggedIn:
        _go(routes.login_url(_here()), replace=True)
        return "not logged in"
    except RefreshRejected:
        return "logged out"
    except TransientError as error:
        _view.say("home", f"{error}. You are still logged in; try again.")
        return "failed, try again"
    if response.status != 200:
        return f"error {response.status}"
    return response.body


async def _load_home() -> None:
    _view.set_text("data", "loading…")
    _view.set_text("data", await _fetch_resource())


async def _fill_slot(slot: str, click: int) -> None:
    _view.set_text(slot, "…")
    text = await _fetch_resource()
    if click == _clicks:  # an answer to an earlier click must not hide a newer one's wait
        _view.set_text(slot, text)


async def _send_three() -> None:
    """The demo: three requests at once, each result beside its label."""
    global _clicks
    _clicks += 1
    _view.say("home", _notice, error=False)
    await asyncio.gather(*(start_eagerly(_fill_slot(slot, _clicks)) for slot in RESULT_SLOTS))


async def _log_in() -> None:
    user, password = _view.credentials()
    _view.busy("submit", True)
    _view.say("login", "")
    try:
        response = await _transport(_refresh.login(user, password))
    except AuthError as error:
        _view.say("login", f"Could not reach the server: {error}")
        return
    finally:
        _view.busy("submit", False)
    if response.status in _refresh.wrong_credentials:
        _view.say("login", "Wrong user name or password.")
        return
    if response.status == 429:
        _view.say("login", "Too many failed attempts. Wait a minute, then try again.")
        return
    tokens = _refresh.read_login(response)
    if tokens is None:
        _view.say("login", f"The server could not log you in (status {response.status}).")
        return
    _gate.accept(tokens)
    _go(routes.return_path(str(window.location.search)))


async def _log_out() -> None:
    tokens = _store.load()
    _gate.end_session()
    _view.say("login", "You have logged out.", error=False)
    if tokens is not None and isinstance(_refresh, SeedRefresh):
        # Tell the server so the refresh token dies too; the page is already logged out.
        body = json.dumps({"refreshToken": tokens.refresh})
        try:
            await _transport(
                Request("POST", "/authorization/logout", {"Content-Type": "application/json"}, body)
            )
        except AuthError:
            pass  # not reached: the token dies by itself at its expiry


def _break_token() -> None:
    """What the seed asks the reader to type into the console."""
    tokens = _store.load()
    if tokens is not None:
        _store.save(Tokens(BROKEN_TOKEN, tokens.refresh))
    _show_token_left()


def _show_token_left() -> None:
    access = _store.stored_access()
    lifetime = access_token_lifetime(access) if access else None
    if not access:
        text = NO_TOKEN
    elif lifetime is None:
        text = "unreadable token"
    else:
        left = lifetime[1] - time.time()
        text = f"{left:.0f} s" if left > 0 else "expired"
    _view.set_text("token-left", text)


async def _count_down() -> None:
    """Keep the token's remaining lifetime on screen current."""
    while True:
        _show_token_left()
        await asyncio.sleep(1)


def _on_storage(event: object) -> None:
    """Another tab changed the tokens: use its refresh, follow its logout."""
    if event.key not in (None, ACCESS_KEY, REFRESH_KEY):
        return
    _show_token_left()
    if _store.load() is None and routes.page_for(_path()) == "home":
        _go(routes.login_url(_here()))
        _view.say("login", "You were logged out in another tab.", error=False)


def _on_submit(event: object) -> None:
    event.preventDefault()
    _spawn(_log_in())


def _listen(element_id: str, event: str, handler) -> None:
    window.document.getElementById(element_id).addEventListener(event, create_proxy(handler))


_listen("login-form", "submit", _on_submit)
_listen("send-three", "click", lambda _event: _spawn(_send_three()))
_listen("log-out", "click", lambda _event: _spawn(_log_out()))
_listen("break-token", "click", lambda _event: _break_token())
window.addEventListener("popstate", create_proxy(_render))
window.addEventListener("storage", create_proxy(_on_storage))


async def _fire(way: str, n: int) -> int:
    """`window.refreshGateFire`: n requests at once one `way`; how many got their 200."""
    if way == "app":
        texts = await asyncio.gather(*(_fetch_resource() for _ in range(n)))
        return sum(1 for text in texts if text.startswith("protected resources"))
    if way == "gate":
        # Timed out by the transport, as the page's own gate is.
        gate = RefreshGate(_transport, _store, request_timeout=None, refresh_timeout=None)
        sent = (gate.send(RESOURCE) for _ in range(n))
        answers = await asyncio.gather(*sent, return_exceptions=True)
        return sum(1 for answer in answers if getattr(answer, "status", None) == 200)
    if way == "plain":
        token = _store.stored_access()
        init = to_js({"headers": {"Authorization": f"Bearer {token}"}, "cache": "no-store"})
        statuses = await asyncio.gather(*(_plain_status(init) for _ in range(n)))
        return statuses.count(200)
    raise ValueError(f"no way to fire called {way!r}")


async def _plain_status(init: object) -> int:
    response = await js.fetch(RESOURCE.path, init)
    await response.text()
    return int(response.status)


_render()
_spawn(_count_down())
window.refreshGateFire = create_proxy(_fire)
_view.set_ready()
