"""`requests` through the refresh gate on Pyodide: parallel calls, one refresh, no sync XHR.

Code that sends with `requests` (a page's own, or a library it uses) goes behind the gate
with one line, `mount_gate(requests.Session(), gate)`: each `session.get` on this origin is
a `gate.send` through the browser's asynchronous fetch, waited for with Pyodide's
`run_sync` (WebAssembly JSPI), so the page never freezes on a synchronous XMLHttpRequest.
The calls are plain synchronous `requests` calls, run in parallel as asyncio tasks; a
synchronous callback could not wait at all, and gets an error instead. Public names only.
"""

import asyncio

import requests
from pyscript import config, document, when, window

from refresh_gate import (
    AuthError,
    FetchTransport,
    LocalStorageTokenStore,
    Tokens,
    mount_gate,
    page_gate,
    refresh_from_settings,
)

SETTINGS = config.get("refresh-gate") or {}
RESOURCE = str(window.location.origin) + "/api/resources"  # requests wants a whole URL

refresh = refresh_from_settings(SETTINGS)
store = LocalStorageTokenStore(
    access_key=SETTINGS.get("access-key", "token"),
    refresh_key=SETTINGS.get("refresh-key", "refreshToken"),
)
transport = FetchTransport(timeout=15)
gate = page_gate(transport, store, refresh=refresh, on_logout=lambda: say("Logged out."))
session = mount_gate(requests.Session(), gate)  # this origin's requests go through the gate
_running = set()  # tasks in flight


def say(text: str, element_id: str = "status") -> None:
    """Show `text` in an element, as text."""
    document.getElementById(element_id).textContent = text


def get_resource() -> str:
    """One `requests` call, synchronous as third-party code makes it: what came back."""
    response = session.get(RESOURCE)
    return f"{response.status_code} {response.text}"


async def in_a_task() -> str:
    """`get_resource` in a task of its own, where Pyodide may suspend it; or why it failed."""
    try:
        return get_resource()
    except AuthError as error:  # the gate's errors: RefreshRejected means log in again
        return f"{type(error).__name__}: {error}"


@when("click", "#send")
async def send() -> None:
    """`count` requests at once; with a broken token: one refresh, every call 200."""
    count = int(document.getElementById("count").value or "1")
    say("…", "summary")
    answers = await asyncio.gather(*(in_a_task() for _ in range(count)))
    listing = document.getElementById("answers")
    listing.replaceChildren()
    for answer in answers:
        item = document.createElement("li")
        item.textContent = answer
        listing.append(item)
    ok = sum(answer.startswith("200 ") for answer in answers)
    say(f"{ok} of {count} answered 200", "summary")


@when("click", "#send-blocking")
def send_from_a_plain_handler() -> None:
    """One call from a synchronous handler, where Pyodide cannot suspend: the adapter
    refuses (RuntimeError) rather than freeze the page on a synchronous XMLHttpRequest."""
    try:
        say(get_resource(), "summary")
    except RuntimeError as error:
        say(f"Refused: {error}", "summary")


@when("submit", "#login-form")
def submit(event) -> None:
    """Log in from Python, not by the browser's own form submission. Stopped here, in a
    plain function: Pyodide runs an async handler only after the event is over."""
    event.preventDefault()
    task = asyncio.create_task(log_in())
    _running.add(task)
    task.add_done_callback(_running.discard)


async def log_in() -> None:
    """RFC 6749's password grant at the token URL; the gate keeps the pair it answers."""
    user = document.getElementById("user-name").value
    password = document.getElementById("password").value
    try:
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


@when("click", "#break-token")
def break_token() -> None:
    """Spoil the stored access token, as the seed article does from the console."""
    tokens = store.load()
    if tokens is not None:
        store.save(Tokens("sdf", tokens.refresh))


for button in ("log-in", "send", "send-blocking", "break-token"):
    document.getElementById(button).disabled = False
say("Logged in." if store.load() else "Log in to start.")
document.body.setAttribute("data-ready", "true")
