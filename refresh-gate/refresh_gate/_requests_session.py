"""`mount_gate`: a Pyodide page's `requests.Session` sending through the gate.

Public on Pyodide only (`refresh_gate.__init__`). It imports `requests` (through
`_requests_adapter`) when called, not when the library is imported: Pyodide's core has no
`requests`, and a page that does not use it should not need it.
"""


def mount_gate(session, gate, origin: str | None = None):
    """Send `session`'s requests for `origin` through `gate`, and return `session`.

    `origin` is the page's own unless given (e.g. "https://api.example.org"); requests to
    other origins keep requests' own transport. Call `session.get` and the like from an
    asyncio task, an `async` handler or the page's top level: elsewhere they raise a
    RuntimeError rather than block the page. Needs a browser with WebAssembly JSPI.
    """
    from refresh_gate._requests_adapter import GateAdapter  # imports requests

    if origin is None:
        import js

        origin = str(js.location.origin)
    origin = origin.rstrip("/")
    session.mount(origin + "/", GateAdapter(gate, origin))
    return session
