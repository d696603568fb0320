"""What the library promises: every name in `__all__` is there, on whichever interpreter.

Portable: on CPython the pure core's names, under MicroPython in Node (a "webassembly"
platform, as in the page) the browser edge's too, for the edge is imported there; the
`requests` adapter's only on Pyodide ("emscripten").
"""

import sys

import refresh_gate

BROWSER_NAMES = [
    "FetchTransport",
    "LocalStorageTokenStore",
    "StorageRefused",
    "WebLock",
    "cross_tab_lock",
    "page_gate",
    "page_sign_in",
    "page_transport",
]
PYODIDE_NAMES = ["mount_gate"]


def test_every_name_in_all_exists() -> None:
    missing = [name for name in refresh_gate.__all__ if not hasattr(refresh_gate, name)]
    assert missing == [], missing


def test_all_names_no_private_name_and_no_name_twice() -> None:
    assert [
        name for name in refresh_gate.__all__ if name.startswith("_") and name != "__version__"
    ] == []
    assert len(set(refresh_gate.__all__)) == len(refresh_gate.__all__)


def test_the_browser_edge_is_public_exactly_where_there_is_a_browser() -> None:
    in_browser = sys.platform in ("webassembly", "emscripten")
    for name in BROWSER_NAMES:
        assert (name in refresh_gate.__all__) == in_browser, name


def test_the_requests_adapter_is_public_on_pyodide_alone() -> None:
    on_pyodide = sys.platform == "emscripten"
    for name in PYODIDE_NAMES:
        assert (name in refresh_gate.__all__) == on_pyodide, name


def test_the_version_is_three_numbers() -> None:
    parts = refresh_gate.__version__.split(".")
    assert len(parts) == 3 and all(part.isdigit() for part in parts), refresh_gate.__version__
