"""The library's and the demo's unit tests once more, under MicroPython: the interpreter
the page runs at "/".

`runner.mjs` runs every test of tests/refresh_gate/ and tests/app/ in MicroPython under
Node, and each of them is one test here, named after it. So a construct of CPython's alone
in the core (or in a test) fails a test by name here, not a user on the page. The runner's
own tests at the end show that it fails what it should.
"""

import importlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import portable

HERE = Path(__file__).parent
REPOSITORY = HERE.parents[1]
RUNNER = HERE / "runner.mjs"
MICROPYTHON = (
    REPOSITORY / "node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs"
)
TEST_FOLDERS = ("tests/refresh_gate", "tests/app")  # as the runner's TEST_FOLDERS


def _portable_scenarios() -> list[str]:
    """Every case of the portable test modules, named as the runner names them."""
    names = []
    for folder in TEST_FOLDERS:
        for path in sorted((REPOSITORY / folder).glob("test_*.py")):
            module = importlib.import_module(f"{folder.replace('/', '.')}.{path.stem}")
            test_file = f"{folder}/{path.name}"
            names += [f"{test_file}::{name}" for name, _, _ in portable.scenarios(module)]
    return names


def run_under_micropython(*arguments: str) -> dict[str, dict]:
    """The runner's results for `arguments`, by test name."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed, so the gate's tests cannot run under MicroPython")
    if not MICROPYTHON.exists():
        pytest.fail(f"MicroPython is missing ({MICROPYTHON}): `make setup` installs it")
    completed = subprocess.run(
        [node, str(RUNNER), *arguments], capture_output=True, text=True, timeout=600, check=False
    )
    if completed.returncode not in (0, 1):
        pytest.fail(f"the MicroPython runner broke ({completed.returncode}):\n{completed.stderr}")
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    return {result["test"]: result for result in results}


@pytest.fixture(scope="module")
def micropython_results() -> dict[str, dict]:
    return run_under_micropython()


SCENARIOS = _portable_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIOS)  # pytest would shorten long ids
def test_passes_under_micropython(scenario: str, micropython_results: dict[str, dict]) -> None:
    module = scenario.partition("::")[0]
    unimportable = micropython_results.get(f"{module}::")
    if unimportable is not None:
        pytest.fail(
            f"MicroPython cannot import {module}:\n{unimportable['traceback']}", pytrace=False
        )
    result = micropython_results.get(scenario)
    if result is None:
        pytest.fail(f"{scenario} did not run under MicroPython", pytrace=False)
    if not result["passed"]:
        pytest.fail(f"{scenario} failed under MicroPython:\n{result['traceback']}", pytrace=False)


# The runner's own tests: a tree of its own, with what must fail and what must pass.
CORE = {
    "merged.py": "def merged(a, b):\n    return {**a, **b}\n",
    "records.py": "from dataclasses import dataclass\n\n@dataclass\nclass Pair:\n    a: int\n",
    "kinds.py": "def is_number(value):\n    return isinstance(value, int | float)\n",
}
TESTS = {
    "test_merged.py": "from app.merged import merged\n\ndef test_it():\n    merged({}, {})\n",
    "test_records.py": "from app.records import Pair\n\ndef test_it():\n    Pair(1)\n",
    "test_kinds.py": "from app.kinds import is_number\n\ndef test_it():\n    is_number(1)\n",
    "test_wrong.py": "def test_it():\n    assert 1 + 1 == 3\n",
    "test_unretrieved.py": (
        "import asyncio\n\nasync def fail():\n    raise ValueError('nobody awaits this')\n\n"
        "async def test_it():\n    asyncio.create_task(fail())\n    await asyncio.sleep(0.01)\n"
    ),
    "test_hangs.py": "import asyncio\n\nasync def test_it():\n    await asyncio.Event().wait()\n",
    "test_fine.py": (
        "import asyncio\nfrom tests.portable import parametrize, raises\n\n"
        "def test_sync():\n    with raises(KeyError):\n        {}[1]\n\n"
        "@parametrize('n', [1, 2])\nasync def test_async(n):\n    await asyncio.sleep(0)\n"
    ),
}
EXPECTED = [
    ("tests/app/test_merged.py::", "SyntaxError"),  # a whole module fails to compile
    ("tests/app/test_records.py::", "no module named 'dataclasses'"),
    ("tests/app/test_kinds.py::test_it", "TypeError"),  # isinstance with a union type
    ("tests/app/test_wrong.py::test_it", "AssertionError"),
    ("tests/app/test_unretrieved.py::test_it", "Task exception wasn't retrieved"),
    ("tests/app/test_hangs.py::test_it", "still running after 0.2 s"),
    ("tests/app/test_fine.py::test_sync", None),
    ("tests/app/test_fine.py::test_async[1]", None),
    ("tests/app/test_fine.py::test_async[2]", None),
]


@pytest.fixture(scope="module")
def sample_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("micropython-sample")
    (root / "app").mkdir()
    (root / "tests" / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "tests" / "__init__.py").write_text("")
    shutil.copy(REPOSITORY / "tests" / "portable.py", root / "tests")
    for folder, files in [("app", CORE), ("tests/app", TESTS)]:
        for name, source in files.items():
            (root / folder / name).write_text(source)
    modules = sorted(f"tests/app/{name}" for name in TESTS)
    return run_under_micropython("--root", str(root), "--timeout", "0.2", *modules)


@pytest.mark.parametrize(("test", "error"), EXPECTED)
def test_the_runner_fails_what_micropython_cannot_run(
    test: str, error: str | None, sample_results: dict[str, dict]
) -> None:
    result = sample_results[test]
    if error is None:
        assert result["passed"], result["traceback"]
    else:
        assert not result["passed"]
        assert error in result["traceback"]


def test_the_runner_reports_only_what_it_was_given(sample_results: dict[str, dict]) -> None:
    assert sorted(sample_results) == sorted(test for test, _ in EXPECTED)
