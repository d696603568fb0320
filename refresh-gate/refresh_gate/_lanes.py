"""Handing the transport only as many requests as it has connections, so that none waits in
the browser's own queue with a token the server has just refused."""

import asyncio


class Lanes:
    """As many requests handed to the transport at once as it has connections; the others
    wait here, oldest first.

    A browser has six requests on the wire to one origin over HTTP/1.1 (Chromium, Firefox and
    Safari alike) and queues the rest itself, each with the token it was given: the moment a
    401 frees a connection, it sends the next one in its queue, before the page has read
    that 401. Waiting here instead, a request takes its token once it has a lane, when the
    gate has heard every answer before it. A request holds a lane only while it is on the
    wire: the lane passes on the moment its answer is in, before the gate reads it, so a
    request waiting for a refresh holds none, and the refresh needs none. With `connections`
    None, every request goes to the transport as it comes.
    """

    def __init__(self, connections: int | None) -> None:
        self._free = connections
        self._waiting: list = []  # an Event for each request waiting for a lane

    async def enter(self) -> bool:
        """Take a lane, waiting for one if none is free: whether it waited. Cancelled
        meanwhile, the place (or the lane) passes on."""
        if self._free is None:
            return False
        if self._free > 0:
            self._free -= 1
            return False
        turn = asyncio.Event()
        self._waiting.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn in self._waiting:
                self._waiting.remove(turn)
            else:
                self.leave()  # handed the lane just as it was cancelled
            raise
        return True

    def leave(self) -> None:
        """The request is done with its lane: the oldest one waiting gets it."""
        if self._free is None:
            return
        if self._waiting:
            self._waiting.pop(0).set()
        else:
            self._free += 1
