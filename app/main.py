"""The demo app's entry: makes the Demo (app/demo.py) and wires it to the page's events.

PyScript runs this file once, on MicroPython (/) or Pyodide (/pyodide); it sets everything
up and returns. Work that takes time runs in tasks, so the page stays responsive.

One way in from outside, for `make bench`: `window.refreshGateFire(way, n)` sends n requests
for the resource at once and answers (a promise of) how many got their 200. `way` is "app"
(the page's own code path, timeline and all), "gate" (a refresh gate of its own on the
page's transport and store) or "plain" (the browser's fetch with the stored token).
"""

import asyncio

import js
from pyscript import config
from pyscript.ffi import create_proxy, to_js

from app.demo import REQUEST_TIMEOUT, RESOURCE, Demo
from app.interpreter import document, window
from refresh_gate import (
    AuthError,
    RefreshGate,
    page_sign_in,
    page_transport,
    refresh_from_settings,
    start_eagerly,
)


async def fire(demo: Demo, way: str, n: int) -> int:
    """`window.refreshGateFire`: n requests at once one `way`; how many got their 200."""
    if way == "app":
        texts = await asyncio.gather(*(demo.fetch_resource() for _ in range(n)))
        return sum(1 for text in texts if text.startswith("protected resources"))
    if way == "gate":
        # Timed out by the transport, as the page's own gate is.
        gate = RefreshGate(demo.transport, demo.store, request_timeout=None, refresh_timeout=None)
        sent = (gate.send(RESOURCE) for _ in range(n))
        answers = await asyncio.gather(*sent, return_exceptions=True)
        return sum(1 for answer in answers if getattr(answer, "status", None) == 200)
    if way == "plain":
        token = demo.store.stored_access()
        init = to_js({"headers": {"Authorization": f"Bearer {token}"}, "cache": "no-store"})
        statuses = await asyncio.gather(*(_plain_status(init) for _ in range(n)))
        return statuses.count(200)
    raise ValueError(f"no way to fire called {way!r}")


async def _plain_status(init: object) -> int:
    response = await js.fetch(RESOURCE.path, init)
    await response.text()
    return int(response.status)


def _on_submit(demo: Demo, event: object) -> None:
    event.preventDefault()
    demo.spawn(demo.log_in())


def _listen(element_id: str, event: str, handler) -> None:
    window.document.getElementById(element_id).addEventListener(event, create_proxy(handler))


async def _start_with_provider(base: str, settings: dict) -> None:
    """The page signs in with an OpenID Connect provider (`refresh = "oidc"`): read its
    discovery first, for the gate refreshes at the token endpoint it names."""
    transport = page_transport(settings, timeout=REQUEST_TIMEOUT)
    sign_in = page_sign_in(settings, transport)
    try:
        await sign_in.metadata()
    except AuthError as error:
        document.getElementById("login-page").hidden = False
        document.getElementById("login-message").textContent = f"Cannot sign in: {error}"
        return
    demo = Demo(base, sign_in.refresh(), transport, sign_in)
    button = demo.view.offer_provider_sign_in()
    go = create_proxy(lambda _event: demo.spawn(demo.provider.begin()))
    button.addEventListener("click", go)
    _wire(demo)


def start() -> None:
    """Make the page's Demo, wire it to the page, show the page the address names."""
    base = str(document.body.getAttribute("data-base") or "")
    settings = config.get("refresh-gate") or {}
    if settings.get("refresh") == "oidc":
        _STARTING.add(start_eagerly(_start_with_provider(base, settings)))
    else:
        transport = page_transport(settings, timeout=REQUEST_TIMEOUT)
        _wire(Demo(base, refresh_from_settings(settings), transport))


def _wire(demo: Demo) -> None:
    """Wire `demo` to the page's events, show the page the address names, say it is ready."""
    _listen("login-form", "submit", lambda event: _on_submit(demo, event))
    _listen("send-three", "click", lambda _event: demo.spawn(demo.send_three()))
    _listen("log-out", "click", lambda _event: demo.spawn(demo.log_out()))
    _listen("break-token", "click", lambda _event: demo.break_token())
    window.addEventListener("popstate", create_proxy(demo.render))
    window.addEventListener("storage", create_proxy(demo.on_storage))
    demo.render()
    demo.spawn(demo.count_down())
    window.refreshGateFire = create_proxy(lambda way, n: fire(demo, way, n))
    demo.view.set_ready()


_STARTING: set = set()  # the start with a provider, referenced until the page unloads
start()
