"""Every request the gate puts on the wire, timed out and reported to an observer as a
network panel would list it."""

import asyncio
import itertools

from refresh_gate._errors import RequestTimeout, TransientError
from refresh_gate._wire import Request, Response


class Call:
    """One request on the wire, as a network panel would list it.

    `kind` is "request", "retry" or "refresh"; `status` and `ended` stay None until the
    answer is in, `error` says why there was none.
    """

    def __init__(
        self,
        id: int,
        kind: str,
        method: str,
        path: str,
        started: float,
        waited: bool = False,
        status: int | None = None,
        ended: float | None = None,
        error: str | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.method = method
        self.path = path
        self.started = started
        self.waited = waited
        self.status = status
        self.ended = ended
        self.error = error

    def __repr__(self) -> str:
        return f"Call({self.id}, {self.kind!r}, {self.method} {self.path}, {self.status})"


def ignore_call(call: Call) -> None:
    """The default observer."""


class ObservedWire:
    """Sends with `transport`, telling `observe` of each Call as it starts and as it ends."""

    def __init__(self, transport, observe, clock) -> None:
        self._transport = transport
        self._observe = observe
        self._clock = clock
        self._ids = itertools.count(1)

    async def send(
        self, request: Request, kind: str, waited: bool, timeout: float | None
    ) -> Response:
        """Put one request on the wire under a timeout, reporting it to the observer.

        A `timeout` of None leaves it to the transport, which may have a cheaper timer: an
        asyncio timer in Pyodide lives on as a JavaScript timeout after it is cancelled.
        """
        call = Call(next(self._ids), kind, request.method, request.path, self._clock(), waited)
        self._observe(call)
        try:
            sending = self._transport(request)
            if timeout is not None:
                sending = asyncio.wait_for(sending, timeout)
            response = await sending
        except asyncio.TimeoutError:
            call.error = "timeout"
            raise RequestTimeout(
                f"{request.method} {request.path} got no answer within {timeout:g} s"
            ) from None
        except RequestTimeout:
            call.error = "timeout"
            raise
        except TransientError as error:
            call.error = str(error) or "network error"
            raise
        except asyncio.CancelledError:
            call.error = "cancelled"
            raise
        else:
            call.status = response.status
            return response
        finally:
            call.ended = self._clock()
            self._observe(call)
