"""The request timeline: every call the gate puts on the wire, as rows and as bars on one axis.

Pure bookkeeping and geometry; the page draws what this computes.
"""

from dataclasses import dataclass

from app.gate import Call

MAX_ROWS = 100  # the panel keeps the latest calls; older ones are dropped, not retained
CHART_CALLS = 12  # the drawing shows the latest calls, enough for the demo's seven


@dataclass(frozen=True)
class Row:
    """One line of the table, as text."""

    call_id: int
    method: str
    path: str
    status: str
    start_ms: str
    duration_ms: str
    note: str
    kind: str


@dataclass(frozen=True)
class Bar:
    """One call on the shared time axis; x and width are fractions of the axis (0 to 1)."""

    call_id: int
    x: float
    width: float
    label: str
    tone: str


class Timeline:
    """The calls of this session, newest last."""

    def __init__(self, origin: float) -> None:
        self._origin = origin
        self._calls: dict[int, Call] = {}

    def record(self, call: Call) -> None:
        """Add or update a call (the gate reports each call when it starts and when it ends)."""
        self._calls[call.id] = call
        while len(self._calls) > MAX_ROWS:
            del self._calls[next(iter(self._calls))]

    def calls(self) -> list[Call]:
        """The calls kept, oldest first."""
        return list(self._calls.values())

    def row(self, call: Call) -> Row:
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

    def bars(self, now: float) -> list[Bar]:
        """The latest calls on one axis from the first one's start to the last one's end."""
        recent = self.calls()[-CHART_CALLS:]
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


def note(call: Call) -> str:
    """What the gate did with this call, in words."""
    if call.kind == "refresh":
        return "the refresh"
    notes = []
    if call.kind == "retry":
        notes.append("retried")
    if call.waited:
        notes.append("waited at the gate")
    return ", ".join(notes)


def tone(call: Call) -> str:
    """The colour class of a call: refresh, failed (4xx/5xx/error), ok or pending."""
    if call.kind == "refresh":
        return "refresh"
    if call.status is None:
        return "failed" if call.error else "pending"
    return "ok" if call.status < 400 else "failed"
