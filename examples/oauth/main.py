"""The refresh gate in a page of your own: log in with OAuth 2.0, or sign in with your
OpenID Connect provider, then send 3 requests at once.

It uses only the library's public API (`refresh_gate`, one line of pyscript.toml):
`page_transport` is the browser's fetch, with DPoP proofs where the [refresh-gate] settings
there say `dpop = true`; `refresh_from_settings` builds the OAuth 2.0 refresh from them, or
`page_sign_in` the provider's sign-in (`refresh = "oidc"`); `page_gate` puts a gate on the
transport and localStorage. A 401 costs one refresh however many requests get
it. The same file runs on MicroPython and on Pyodide.
"""

import asyncio

import js
from pyscript import config, document, when

from refresh_gate import (
    AuthError,
    DPoPTransport,
    LocalStorageTokenStore,
    Request,
    Tokens,
    page_gate,
    page_sign_in,
    page_transport,
    refresh_from_settings,
)

SETTINGS = config.get("refresh-gate") or {}
RESOURCE = Request("GET", "/api/resources")  # your API: a path here, or a whole URL

# The browser's fetch, with a DPoP proof (RFC 9449) on every request where `dpop = true`.
transport = page_transport(SETTINGS)
if SETTINGS.get("refresh") == "oidc":  # sign in with your provider, found by its issuer
    sign_in = page_sign_in(SETTINGS, transport)
    await sign_in.metadata()  # noqa: F704 (PyScript runs a page's script with top-level await)
    refresh = sign_in.refresh()
else:  # RFC 6749's password grant at token-url
    sign_in = None
    refresh = refresh_from_settings(SETTINGS)
store = LocalStorageTokenStore(
    access_key=SETTINGS.get("access-key", "token"),
    refresh_key=SETTINGS.get("refresh-key", "refreshToken"),
)
gate = page_gate(transport, store, refresh=refresh, on_logout=lambda: say("Logged out."))
_running = set()  # tasks in flight


def say(text: str, element_id: str = "status") -> None:
    """Show `text` in an element, as text."""
    document.getElementById(element_id).textContent = text


def in_background(work) -> None:
    """Run the coroutine `work` as a task, referenced until it ends."""
    task = asyncio.create_task(_forget_when_done(work))
    _running.add(task)


async def _forget_when_done(work) -> None:
    try:
        await work
    finally:
        _running.discard(asyncio.current_task())


@when("submit", "#login-form")
def submit(event) -> None:
    """Log in from Python, not by the browser's own form submission. Stopped here, in a
    plain function: Pyodide runs an async handler only after the event is over."""
    event.preventDefault()
    in_background(log_in())


async def log_in() -> None:
    """RFC 6749's password grant at the token URL, or off to your provider to sign in; the
    gate keeps the pair either answers."""
    if sign_in is not None:
        js.location.assign(await sign_in.begin())
        return
    user = document.getElementById("user-name").value
    password = document.getElementById("password").value
    try:
        if isinstance(transport, DPoPTransport):
            await transport.new_key()  # a new sign-in, a new key
        answer = await transport(refresh.login(user, password))
    except AuthError as error:
        say(f"Could not reach the server: {error}")
        return
    tokens = refresh.read_login(answer)
    if tokens is None:
        say(f"Not logged in (status {answer.status}).")
        return
    gate.accept(tokens)
    say("Logged in.")


async def fill(slot: str) -> None:
    """One request through the gate, its answer (or why there is none) in `slot`."""
    say("…", slot)
    try:
        answer = await gate.send(RESOURCE)
    except AuthError as error:  # logged out, or a failure that kept the session
        say(str(error), slot)
        return
    say(answer.body if answer.status == 200 else f"error {answer.status}", slot)


@when("click", "#send-three")
async def send_three() -> None:
    """Three requests at once; with a broken token: three 401s, one refresh, three 200s."""
    await asyncio.gather(*(fill(slot) for slot in ("first", "second", "third")))


@when("click", "#break-token")
def break_token() -> None:
    """Spoil the stored access token, as the seed article does from the console."""
    tokens = store.load()
    if tokens is not None:
        store.save(Tokens("sdf", tokens.refresh, None, tokens.token_type))


async def back_from_the_provider() -> None:
    """The provider sent the user back here (redirect-path): check its answer, keep the pair."""
    try:
        gate.accept((await sign_in.finish(str(js.location.search))).tokens)
    except AuthError as error:  # refused, replayed or tampered: no tokens
        say(f"Not signed in: {error}")
        return
    js.history.replaceState(None, "", str(js.location.pathname))
    say("Logged in.")


for button in ("log-in", "send-three", "break-token"):
    document.getElementById(button).disabled = False
say("Logged in." if store.load() else "Log in to start.")
if sign_in is not None and "state=" in str(js.location.search):
    await back_from_the_provider()  # noqa: F704
document.body.setAttribute("data-ready", "true")
