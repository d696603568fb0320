"""Drawing the request timeline while calls are on the wire, without delaying them."""

import time

import js
from pyscript.ffi import create_proxy

from refresh_gate import Call

QUIET_TIME = 0.03  # seconds without a call starting or ending before the timeline is drawn
LATEST_TIME = 0.25  # the longest a change waits to be drawn


class TimelinePainter:
    """Keeps `timeline` (app.timeline.Timeline) up to date with every call the gate makes,
    and draws it in `view` when the calls pause; `painted` is called after each drawing."""

    def __init__(self, view, timeline, painted) -> None:
        self._view = view
        self._timeline = timeline
        self._painted = painted
        self._unpainted: dict[int, Call] = {}  # calls the timeline on screen does not show yet
        self._first_unpainted = 0.0  # time.time() of the oldest change not drawn yet
        self._last_change = 0.0  # ... and of the latest
        self._paint_when_quiet_proxy = create_proxy(self._paint_when_quiet)

    def observe(self, call: Call) -> None:
        """Note every call the gate makes, as it starts and as it ends; paint when calls pause.

        Drawing takes the page's one thread for several milliseconds, and the browser renders
        the change after it. Drawn as each call started or ended, or even once a frame or when
        the browser fell idle, it landed between a 401 and the refresh it starts, or between
        the new token and the retries, and the demo recovered 20 to 40 ms later. So the
        timeline is drawn once no call has started or ended for QUIET_TIME, while the calls
        are on the wire, and at least every LATEST_TIME.
        """
        self._timeline.record(call)
        self._last_change = time.time()
        if not self._unpainted:
            self._first_unpainted = self._last_change
            js.setTimeout(self._paint_when_quiet_proxy, QUIET_TIME * 1000)
        self._unpainted[call.id] = call

    def _paint_when_quiet(self) -> None:
        """Paint, or look again once the calls have been quiet long enough."""
        due = min(self._last_change + QUIET_TIME, self._first_unpainted + LATEST_TIME)
        wait = due - time.time()
        if wait > 0:
            js.setTimeout(self._paint_when_quiet_proxy, wait * 1000)
        else:
            self._paint()

    def _paint(self) -> None:
        """Bring the timeline up to date."""
        # In the order the calls started: MicroPython's dicts keep no order.
        for call in sorted(self._unpainted.values(), key=lambda call: call.id):
            self._view.show_row(self._timeline.row(call))
        self._unpainted.clear()
        self._view.draw_bars(self._timeline.bars(time.time()))
        self._painted()
