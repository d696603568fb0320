"""One run of a piece of work at a time, shared by every caller that asks meanwhile: the
gate's first rule, one refresh however many 401s."""

from refresh_gate._tasks import Outcome, start_eagerly


class SingleFlight:
    """At most one run of a piece of work at a time; every caller meanwhile shares it.

    Callers wait on an event and read the outcome kept beside it (as micropython-async's
    Message does), so cancelling one caller's wait leaves the run and the others be.
    """

    def __init__(self) -> None:
        self._current: Outcome | None = None
        self._task = None  # the run's task, referenced so that it is not collected

    @property
    def running(self) -> bool:
        """Whether a run is in flight right now."""
        return self._current is not None

    async def share(self, start):
        """The outcome of the run in flight, or of a new one of `start()` if none is."""
        outcome = self._current
        if outcome is None:
            outcome = self._current = Outcome()
            self._task = start_eagerly(self._run(outcome, start()))
        return await outcome.result()

    async def joined(self):
        """The outcome of the run in flight (there must be one)."""
        outcome = self._current
        assert outcome is not None
        return await outcome.result()

    async def _run(self, outcome: Outcome, work) -> None:
        try:
            await outcome.run(work)
        finally:
            if self._current is outcome:
                self._current = None
                self._task = None
