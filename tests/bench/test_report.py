"""`make bench` holds the app's recovery to the best JavaScript client that answered every
request: a client that drops requests is fast only because it stops waiting for them."""

from bench.contest import SCENARIOS, Run
from bench.report import Results, _recovery_row

TWO_TABS = next(scenario for scenario in SCENARIOS if scenario.key == "two-tabs")


def _run(ms: float, *, refreshes: int = 1, ok: int = 6) -> Run:
    return Run(refreshes=refreshes, unauthorized=6, ok=ok, issued=6, logged_out=False, ms=ms)


def _results(spoilt: dict[str, Run]) -> Results:
    results = Results(meta={})
    for key, run in spoilt.items():
        results.runs[(key, TWO_TABS.key)] = [run]
        results.baselines[(key, TWO_TABS.action)] = [_run(100.0, refreshes=0)]
    return results


def test_a_client_that_lost_requests_is_not_the_bar_when_one_lost_none() -> None:
    results = _results(
        {
            "mpy": _run(290.0),
            "seed": _run(300.0, refreshes=2),  # two refreshes, every answer
            "aar": _run(260.0, refreshes=2, ok=2),  # faster, but four requests lost
        }
    )

    row = _recovery_row(results, TWO_TABS)

    assert "seed interceptor 3.00x" in row.target
    assert row.cells["mpy"].endswith("PASS")


def test_a_client_that_got_it_right_is_the_bar_before_one_that_refreshed_twice() -> None:
    results = _results({"mpy": _run(290.0), "seed": _run(250.0, refreshes=2), "aar": _run(280.0)})

    row = _recovery_row(results, TWO_TABS)

    assert "axios-auth-refresh 2.80x" in row.target
    assert row.cells["mpy"].endswith("MISS")
