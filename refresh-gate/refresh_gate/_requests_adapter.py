"""`requests` through the gate on Pyodide, without a synchronous XMLHttpRequest.

`GateAdapter.send` turns requests' PreparedRequest into the gate's Request, sends it with
`gate.send`, and waits for that with `pyodide.ffi.run_sync` (WebAssembly JSPI): the Python
stack is suspended, not the browser's main thread, so the page goes on painting and every
other task (the gate's work for other callers included) goes on running. Pyodide can
suspend only code entered asynchronously: an asyncio task, an `async` handler, PyScript's
top level. Anywhere else `send` refuses, where urllib3 and pyodide-http would fall back to
a synchronous XMLHttpRequest that freezes the page (docs/pyodide-http.md).

This module imports `requests`, which Pyodide's core lacks: only `mount_gate`
(`_requests_session`) imports it, when a page calls that.
"""

from http import HTTPStatus
from io import BytesIO
from urllib.parse import urlsplit

import requests
from pyodide.ffi import can_run_sync, run_sync
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from refresh_gate._wire import Request

# Headers requests adds by itself that a browser sets (or refuses) on its own, and the one
# the gate sets itself: a second Authorization would be joined to the gate's by fetch.
_NOT_FORWARDED = frozenset(
    ("user-agent", "accept-encoding", "connection", "content-length", "authorization")
)


class NeedsAsyncEntry(RuntimeError):
    """`requests` was called where Pyodide cannot suspend Python: it would block the page."""


class GateAdapter(BaseAdapter):
    """A requests transport adapter that sends through a RefreshGate (mount it with
    `mount_gate`). The gate's errors come out of `session.get` and the like unchanged:
    RefreshRejected (log in again) apart from TransientError (try again)."""

    def __init__(self, gate, origin: str) -> None:
        super().__init__()
        self._gate = gate
        self._origin = origin.rstrip("/")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: object = None,
        verify: object = True,
        cert: object = None,
        proxies: object = None,
    ) -> requests.Response:
        """Send `request` through the gate; the whole body comes back at once, and the
        transport's own timeout applies, whatever `stream` and `timeout` say."""
        if not can_run_sync():
            raise NeedsAsyncEntry(
                f"{request.method} {request.url}: requests through the refresh gate must be "
                "called from an asyncio task, an async handler or the page's top level; "
                "here it could only block the page, so nothing was sent"
            )
        answer, error = run_sync(_outcome(self._gate.send(self._gate_request(request))))
        if error is not None:
            raise error
        response = requests.Response()
        response.status_code = answer.status
        response.reason = _reason(answer.status)
        response.headers = CaseInsensitiveDict()  # the gate's Response carries no headers
        response.encoding = "utf-8"
        response.raw = BytesIO(answer.body.encode("utf-8"))
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        """Nothing to close: the browser owns the connections."""

    def _gate_request(self, request: requests.PreparedRequest) -> Request:
        """The gate's Request for `request`: a path where it is for the mounted origin."""
        parts = urlsplit(request.url)
        path = request.url
        if f"{parts.scheme}://{parts.netloc}".lower() == self._origin.lower():
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() not in _NOT_FORWARDED
        }
        return Request(request.method, path, headers, _text_body(request))


async def _outcome(sending) -> tuple:
    """(the Response, None) or (None, the error) of `sending`, which never fails itself.

    In Pyodide 314.0.8 (Chromium 156), when several stacks wait in run_sync and their
    awaitables fail together, only the first gets its exception back; the others get
    RuntimeError("Cannot stack switch ...") instead (tests/e2e/test_requests_adapter.py,
    three calls and a refused refresh). An awaitable that returns its error does not.
    """
    try:
        return await sending, None
    except Exception as error:
        return None, error


def _text_body(request: requests.PreparedRequest) -> str | None:
    """The body as text, which is all the gate's wire carries."""
    body = request.body
    if body is None or isinstance(body, str):
        return body
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    raise ValueError(
        f"{request.method} {request.url}: the refresh gate sends text bodies only "
        "(UTF-8), not binary data, files or streams"
    )


def _reason(status: int) -> str:
    """The status's reason phrase, for `raise_for_status` and the like."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
