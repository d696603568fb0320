"""Runs inside the app page's own interpreter (bench/run.py loads it): fire n requests at once.

Three ways, to tell the gate's cost from the page's:

- `fire_app`: the page's own `_fetch_resource`, exactly what each result slot awaits (the
  gate, plus the page's request timeline and messages);
- `fire_gate`: a `RefreshGate` of its own on the page's fetch transport and token store,
  without the page's observer (the request timeline);
- `fire_plain`: the browser's fetch straight from Python with the stored token, sent as the
  app's transport sends it (`cache: "no-store"`, which keeps parallel GETs parallel).

Each answers how many requests got their 200.
"""

import asyncio

import js
from pyscript.ffi import to_js

import __main__
from app.gate import RefreshGate, Request

RESOURCE = Request("GET", "/api/resources")
DATA = "protected resources"


async def fire_app(n: int) -> int:
    """Through the page's own code path."""
    texts = await asyncio.gather(*(__main__._fetch_resource() for _ in range(n)))
    return sum(1 for text in texts if text.startswith(DATA))


async def fire_gate(n: int) -> int:
    """Through a refresh gate of its own, without the page around it."""
    gate = RefreshGate(
        __main__._transport, __main__._store, request_timeout=None, refresh_timeout=None
    )  # timed out by the transport, as the page's own gate is
    answers = await asyncio.gather(*(gate.send(RESOURCE) for _ in range(n)), return_exceptions=True)
    return sum(1 for answer in answers if getattr(answer, "status", None) == 200)


async def _plain_fetch(init: object) -> int:
    response = await js.fetch(RESOURCE.path, init)
    await response.text()
    return int(response.status)


async def fire_plain(n: int) -> int:
    """With the runtime's plain fetch: no gate at all."""
    token = js.localStorage.getItem("token")
    init = to_js({"headers": {"Authorization": f"Bearer {token}"}, "cache": "no-store"})
    statuses = await asyncio.gather(*(_plain_fetch(init) for _ in range(n)))
    return statuses.count(200)
