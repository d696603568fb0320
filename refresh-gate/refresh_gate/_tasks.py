"""The few pieces of asyncio the gate builds on that MicroPython's asyncio lacks.

MicroPython has no futures, no eager tasks and no `asyncio.wait`: an outcome kept beside an
Event (as micropython-async's Message does) stands in for a future, and a task started
eagerly where Python can saves the browser a turn of its event loop.
"""

import asyncio
import sys


def start_eagerly(work):
    """A task for `work`, run at once up to its first wait where Python can (CPython 3.12 and
    later, as in Pyodide); a task started the usual way costs a turn of the event loop first,
    and in the browser each turn between a 401 and its refresh is time the user waits.
    MicroPython has no eager tasks: there it is a task started the usual way."""
    if sys.implementation.name == "cpython" and sys.version_info >= (3, 12):
        return asyncio.Task(work, loop=asyncio.get_running_loop(), eager_start=True)
    return asyncio.create_task(work)


class Outcome:
    """What one piece of work ended with, and an event set once it has ended."""

    def __init__(self) -> None:
        self.ended = asyncio.Event()
        self.value = None
        self.error: BaseException | None = None

    async def run(self, work):
        """Run `work`, keeping its result or its error here; never raises but cancellation."""
        try:
            self.value = await work
        except Exception as error:
            self.error = error
        except BaseException as error:  # cancelled: the waiters hear of it too
            self.error = error
            raise
        finally:
            self.ended.set()

    async def result(self):
        """Wait for the end; the work's result, or its error raised here."""
        if not self.ended.is_set():
            await self.ended.wait()
        if self.error is not None:
            raise self.error
        return self.value


async def then_set(work, event: asyncio.Event) -> None:
    """Await `work`, then set `event`, however it ended."""
    try:
        await work
    finally:
        event.set()
