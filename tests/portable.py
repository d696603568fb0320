"""What lets one test module run unchanged under pytest on CPython and under MicroPython.

The gate's unit tests run on both interpreters the page runs on (`micropython.mjs` drives
them under MicroPython). So a test module uses these in place of pytest's own: `parametrize`
for cases, `raises` for an expected error, and `async def` tests, which `conftest.py` runs
with `asyncio.run` and the MicroPython runner awaits. `scenarios` lists a module's tests,
one entry a case, named the same on both interpreters. `monotonic` times a real wait.
"""

import time

try:
    import pytest
except ImportError:  # MicroPython: the runner reads the cases from `scenarios` instead
    pytest = None

# Test function -> its cases as (id, arguments). MicroPython functions take no attributes.
_CASES = {}
_LONGEST_ID = 40  # a longer value is named by its argument and position, as pytest does
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


class _Case:
    def __init__(self, values: tuple, case_id: str) -> None:
        self.values = values
        self.id = case_id


def case(*values: object, id: str) -> _Case:
    """One case of `parametrize` with a name of its own, as `pytest.param(..., id=...)`."""
    return _Case(values, id)


def parametrize(names: str, values: list, ids: list | None = None):
    """Run the decorated test once for each of `values`, as `pytest.mark.parametrize` does.

    `names` is one argument name or several separated by commas (each value is then a
    tuple); a value may be a `case`. Each case is named by `ids`, its `case` id or its value.
    """
    argnames = [name.strip() for name in names.split(",")]
    named = []
    for index, value in enumerate(values):
        if isinstance(value, _Case):
            named.append((value.id, value.values))
            continue
        args = tuple(value) if len(argnames) > 1 else (value,)
        named.append((_case_id(argnames, args, index) if ids is None else ids[index], args))
    cases = [(_unique(named, index), args) for index, (_, args) in enumerate(named)]

    def decorate(test):
        _CASES[test] = [(_escaped(case_id), args) for case_id, args in cases]
        if pytest is None:
            return test
        params = [pytest.param(*args, id=case_id) for case_id, args in cases]
        return pytest.mark.parametrize(argnames, params)(test)

    return decorate


def scenarios(module: object) -> list:
    """Every test in `module` as (name, test, arguments), one entry a case, sorted by name."""
    found = []
    for name in sorted(dir(module)):
        test = getattr(module, name)
        if not name.startswith("test_") or not callable(test):
            continue
        for case_id, args in _CASES.get(test, [(None, ())]):
            found.append((name if case_id is None else f"{name}[{case_id}]", test, args))
    return found


async def run(test: object, args: tuple) -> None:
    """Run one case of a test, awaiting it if it is a coroutine."""
    outcome = test(*args)
    if outcome is not None and hasattr(outcome, "send"):
        await outcome


class _Raises:
    def __init__(self, expected: type) -> None:
        self.expected = expected
        self.value = None

    def __enter__(self) -> "_Raises":
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> bool:
        if kind is None:
            raise AssertionError(f"{self.expected.__name__} was not raised")
        if not issubclass(kind, self.expected):
            return False  # another error: let it fail the test as it is
        self.value = value
        return True


def raises(expected: type) -> _Raises:
    """`with raises(SomeError) as caught:` fails unless the block raises SomeError or a
    subclass of it, which is then `caught.value`; `pytest.raises`, on both interpreters."""
    return _Raises(expected)


def monotonic() -> float:
    """Seconds on the clock asyncio times its sleeps with, to measure how long a wait took:
    CPython's loop reads time.monotonic, MicroPython's time.ticks_ms (which wraps only after
    2**30 ms of the interpreter's life)."""
    if hasattr(time, "ticks_ms"):
        return time.ticks_ms() / 1000
    return time.monotonic()


def _case_id(argnames: list, args: tuple, index: int) -> str:
    # Not zip(): MicroPython's takes no strict=, which ruff asks for.
    return "-".join(_value_id(argnames[i], arg, index) for i, arg in enumerate(args))


def _value_id(argname: str, value: object, index: int) -> str:
    if value is None or isinstance(value, (bool, int, float)):
        return str(value)
    if isinstance(value, str) and len(value) <= _LONGEST_ID:
        return value
    return f"{argname}{index}"


def _unique(named: list, index: int) -> str:
    case_id = named[index][0]
    if sum(other == case_id for other, _ in named) > 1:
        return f"{case_id}{index}"
    return case_id


def _escaped(text: str) -> str:
    """`text` in printable ASCII, as pytest writes an id (Python's "unicode_escape")."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)
