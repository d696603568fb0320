"""The request timeline: every call the gate puts on the wire, as rows and as bars.

Pure bookkeeping and geometry; the page draws what this computes. The table lists the
latest calls since the page loaded; the chart draws only the latest burst of calls (the
demo's three 401s, one refresh and three retries) on an axis of its own, so that a click
made minutes after the page loaded is drawn as wide as the first.
"""

from collections import OrderedDict

MAX_ROWS = 100  # the panel keeps the latest calls; older ones are dropped, not retained
CHART_CALLS = 12  # the drawing shows at most this many calls, enough for the demo's seven
# A call that starts this many seconds after every call before it has ended opens a burst.
BURST_GAP = 0.5


class Row:
    """One line of the table, as text."""

    def __init__(self, call_id, method, path, status, start_ms, duration_ms, note, kind):
        self.call_id = call_id
        self.method = method
        self.path = path
        self.status = status
        self.start_ms = start_ms
        self.duration_ms = duration_ms
        self.note = note
        self.kind = kind


class Bar:
    """One call on the chart's time axis; x and width are fractions of the axis (0 to 1)."""

    def __init__(self, call_id: int, x: float, width: float, label: str, tone: str) -> None:
        self.call_id = call_id
        self.x = x
        self.width = width
        self.label = label
        self.tone = tone


class Timeline:
    """The calls of this session, newest last."""

    def __init__(self, origin: float) -> None:
        self._origin = origin
        # Ordered by hand: MicroPython's dicts do not keep insertion order.
        self._calls = OrderedDict()

    def record(self, call) -> None:
        """Add or update a call (the gate reports each call when it starts and when it ends)."""
        self._calls[call.id] = call
        while len(self._calls) > MAX_ROWS:
            del self._calls[next(iter(self._calls))]

    def calls(self) -> list:
        """The calls kept, oldest first."""
        return list(self._calls.values())

    def row(self, call) -> Row:
        """How a call reads in the table."""
        status = str(call.status) if call.status is not None else (call.error or "pending")
        duration = "" if call.ended is None else f"{(call.ended - call.started) * 1000:.0f}"
        return Row(
            call.id,
            call.method,
            call.path,
            status,
            f"{(call.started - self._origin) * 1000:.0f}",
            duration,
            note(call),
            call.kind,
        )

    def latest_burst(self, now: float) -> list:
        """The calls since the last pause of BURST_GAP with nothing on the wire, oldest first."""
        burst: list = []
        busy_until = None
        for call in self.calls():
            if busy_until is not None and call.started > busy_until + BURST_GAP:
                burst = []
                busy_until = None
            burst.append(call)
            finish = call.ended if call.ended is not None else now
            busy_until = finish if busy_until is None else max(busy_until, finish)
        return burst[-CHART_CALLS:]

    def bars(self, now: float) -> list:
        """The latest burst on one axis, from its first call's start to its last one's end."""
        recent = self.latest_burst(now)
        if not recent:
            return []
        start = min(call.started for call in recent)
        end = max(call.ended if call.ended is not None else now for call in recent)
        span = max(end - start, 1e-3)
        bars = []
        for call in recent:
            finish = call.ended if call.ended is not None else now
            bars.append(
                Bar(
                    call.id,
                    (call.started - start) / span,
                    max((finish - call.started) / span, 0.004),
                    f"{call.method} {call.path} {self.row(call).status}",
                    tone(call),
                )
            )
        return bars


def note(call) -> str:
    """What the gate did with this call, in words."""
    if call.kind == "refresh":
        return "the refresh"
    notes = []
    if call.kind == "retry":
        notes.append("retried")
    if call.waited:
        notes.append("waited at the gate")
    return ", ".join(notes)


def tone(call) -> str:
    """The colour class of a call: refresh, failed (4xx/5xx/error), ok or pending."""
    if call.kind == "refresh":
        return "refresh"
    if call.status is None:
        return "failed" if call.error else "pending"
    return "ok" if call.status < 400 else "failed"
