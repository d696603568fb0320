"""The request timeline: what the panel lists and draws for the seed's demo."""

from app.gate import Call
from app.timeline import MAX_ROWS, Timeline


def _demo_calls() -> list[Call]:
    calls = [Call(n, "request", "GET", "/api/resources", 1.00 + n / 1000) for n in (1, 2, 3)]
    calls.append(Call(4, "refresh", "POST", "/authorization/refresh", 1.05, status=200))
    calls += [
        Call(n, "retry", "GET", "/api/resources", 1.10, waited=True, status=200, ended=1.2)
        for n in (5, 6, 7)
    ]
    for call in calls[:3]:
        call.status, call.ended = 401, 1.04
    calls[3].ended = 1.09
    return calls


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


def test_the_bars_share_one_axis_from_the_first_start_to_the_last_end() -> None:
    timeline = Timeline(origin=1.0)
    for call in _demo_calls():
        timeline.record(call)

    bars = timeline.bars(now=2.0)

    assert [bar.tone for bar in bars] == ["failed"] * 3 + ["refresh"] + ["ok"] * 3
    assert min(bar.x for bar in bars) == 0
    assert max(bar.x + bar.width for bar in bars) == 1
    assert bars[3].x > bars[0].x  # the refresh starts after the first 401 went out


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
