"""The request timeline: what the panel lists and draws for the seed's demo."""

from app.timeline import BURST_GAP, CHART_CALLS, MAX_ROWS, Timeline
from refresh_gate import Call

RESOURCES = "/api/resources"


def _demo_calls(first_id: int = 1, at: float = 1.0) -> list[Call]:
    """The demo's seven calls, numbered from `first_id`, the first leaving just after `at`."""
    unauthorized = [
        Call(first_id + n, "request", "GET", RESOURCES, at + (n + 1) / 1000, status=401)
        for n in range(3)
    ]
    refresh = Call(first_id + 3, "refresh", "POST", "/authorization/refresh", at + 0.05, status=200)
    retried = [
        Call(first_id + n, "retry", "GET", RESOURCES, at + 0.1, waited=True, status=200)
        for n in (4, 5, 6)
    ]
    for call in unauthorized:
        call.ended = at + 0.04
    refresh.ended = at + 0.09
    for call in retried:
        call.ended = at + 0.2
    return unauthorized + [refresh] + retried


def _call(call_id: int, started: float, ended: float | None) -> Call:
    status = None if ended is None else 200
    return Call(call_id, "request", "GET", RESOURCES, started, status=status, ended=ended)


def _timeline(calls: list) -> Timeline:
    timeline = Timeline(origin=calls[0].started)
    for call in calls:
        timeline.record(call)
    return timeline


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def test_the_demo_reads_as_three_401s_one_refresh_three_retried_200s() -> None:
    timeline = Timeline(origin=1.0)
    for call in _demo_calls():
        timeline.record(call)

    rows = [timeline.row(call) for call in timeline.calls()]

    assert [(row.status, row.note) for row in rows] == [
        ("401", ""),
        ("401", ""),
        ("401", ""),
        ("200", "the refresh"),
        ("200", "retried, waited at the gate"),
        ("200", "retried, waited at the gate"),
        ("200", "retried, waited at the gate"),
    ]
    assert (rows[0].start_ms, rows[0].duration_ms) == ("1", "39")


def test_the_demo_is_drawn_from_its_first_start_to_its_last_end_however_late_it_is_drawn() -> None:
    timeline = _timeline(_demo_calls())

    bars = timeline.bars(now=60.0)  # a minute later: the axis still ends at the last answer

    assert [bar.tone for bar in bars] == ["failed"] * 3 + ["refresh"] + ["ok"] * 3
    assert bars[0].x == 0
    assert _close(max(bar.x + bar.width for bar in bars), 1)
    refresh = bars[3]
    assert all(bar.x + bar.width <= refresh.x for bar in bars[:3])  # the 401s came back first
    assert all(bar.x >= refresh.x + refresh.width for bar in bars[4:])  # then the retries left


def test_a_click_seconds_after_the_first_call_is_drawn_across_the_whole_width() -> None:
    home_page = _call(1, 1.0, 1.03)  # the home page's own request when the page loaded
    click = _demo_calls(first_id=2, at=1.03 + 5.0)
    timeline = _timeline([home_page] + click)

    bars = timeline.bars(now=7.0)

    assert [bar.call_id for bar in bars] == [call.id for call in click]
    assert bars[0].x == 0
    assert _close(max(bar.x + bar.width for bar in bars), 1)
    assert min(bar.width for bar in bars) > 0.1  # each of the seven reads, none a sliver
    assert timeline.calls() == [home_page] + click  # the table still lists the first call
    assert timeline.row(home_page).status == "200"


def test_calls_that_start_within_the_gap_after_the_last_answer_stay_in_one_burst() -> None:
    first = _call(1, 1.0, 1.1)
    within_gap = _call(2, 1.1 + BURST_GAP * 0.8, 2.0)
    after_gap = _call(3, 2.0 + BURST_GAP * 1.5, 3.0)
    timeline = _timeline([first, within_gap])

    assert timeline.latest_burst(now=5.0) == [first, within_gap]
    assert [bar.call_id for bar in timeline.bars(now=5.0)] == [1, 2]

    timeline.record(after_gap)

    assert timeline.latest_burst(now=5.0) == [after_gap]


def test_a_call_that_starts_while_a_slow_one_is_still_out_joins_its_burst() -> None:
    slow = _call(1, 1.0, 4.0)
    quick = _call(2, 1.1, 1.2)
    late = _call(3, 3.5, 3.6)  # long after `quick` ended, but `slow` is still on the wire
    timeline = _timeline([slow, quick, late])

    assert timeline.latest_burst(now=5.0) == [slow, quick, late]


def test_a_call_still_on_the_wire_keeps_its_burst_open_until_now() -> None:
    pending = _call(1, 1.0, None)
    later = _call(2, 4.0, 4.1)
    timeline = _timeline([pending, later])

    bars = timeline.bars(now=5.0)

    assert [bar.call_id for bar in bars] == [1, 2]
    assert _close(bars[0].width, 1)  # the pending call reaches the axis's end, now


def test_a_burst_longer_than_the_chart_draws_its_latest_calls() -> None:
    calls = [_call(n, 1.0 + n / 100, 1.0 + n / 100 + 0.05) for n in range(1, CHART_CALLS + 6)]
    timeline = _timeline(calls)

    bars = timeline.bars(now=5.0)

    assert [bar.call_id for bar in bars] == [call.id for call in calls[-CHART_CALLS:]]
    assert bars[0].x == 0


def test_a_call_still_on_the_wire_reads_as_pending() -> None:
    timeline = Timeline(origin=0.0)
    call = Call(1, "request", "GET", "/api/resources", 0.5)
    timeline.record(call)

    assert timeline.row(call).status == "pending"
    assert timeline.bars(now=1.0)[0].tone == "pending"


def test_the_timeline_keeps_only_the_latest_calls() -> None:
    timeline = Timeline(origin=0.0)
    for number in range(MAX_ROWS + 50):
        timeline.record(Call(number, "request", "GET", "/api/resources", float(number)))

    kept = timeline.calls()
    assert len(kept) == MAX_ROWS
    assert kept[0].id == 50
