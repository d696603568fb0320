"""The library as a stranger takes it: the built wheel (`make dist`), not the source tree.

On CPython, installed in a clean virtual environment; under MicroPython, unpacked as
PyScript unpacks a wheel listed in a MicroPython page's `packages`, then loaded by Node's
`loadMicroPython`. Both run the gate's core scenarios (single flight, tab race, lanes,
failures, both refreshes) from tests/refresh_gate/ on the wheel's code.
"""

import json
import subprocess
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from tests.micropython.test_under_micropython import run_under_micropython

REPOSITORY = Path(__file__).resolve().parents[2]
INIT = REPOSITORY / "refresh-gate" / "refresh_gate" / "__init__.py"
# The scenarios the wheel must pass: the gate's rules, one module each.
CORE_SCENARIOS = [
    "test_single_flight",
    "test_tab_race",
    "test_lanes",
    "test_gate_failures",
    "test_gate_both_refreshes",
    "test_public_api",
]


def _version() -> str:
    for line in INIT.read_text().splitlines():
        if line.startswith("__version__ = "):
            return line.split('"')[1]
    raise AssertionError("refresh_gate/__init__.py names no __version__")


@pytest.fixture(scope="module")
def wheel() -> Path:
    built = REPOSITORY / "dist" / f"refresh_gate-{_version()}-py3-none-any.whl"
    if not built.exists():
        pytest.fail(f"{built.name} is not built: `make dist` (part of make test) builds it")
    newest_source = max(
        path.stat().st_mtime for path in INIT.parent.rglob("*") if "__pycache__" not in path.parts
    )
    assert built.stat().st_mtime >= newest_source, "the wheel is older than the library: make dist"
    return built


def test_the_wheel_holds_the_package_its_javascript_half_and_nothing_of_the_app(
    wheel: Path,
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"refresh_gate-{_version()}.dist-info/METADATA").decode()

    assert "refresh_gate/__init__.py" in names
    assert "refresh_gate/browser_calls.js" in names
    assert not [name for name in names if not name.startswith(("refresh_gate/", "refresh_gate-"))]
    assert f"Version: {_version()}" in metadata.splitlines()
    assert "Requires-Dist" not in metadata  # nothing else to install, on either interpreter


def test_the_wheel_installed_in_a_clean_virtual_environment_runs_the_gates_core_scenarios(
    wheel: Path, tmp_path: Path
) -> None:
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-index", "--disable-pip-version-check", wheel],
        check=True,
    )
    scenarios = Path(__file__).with_name("scenarios.py")
    completed = subprocess.run(
        [python, "-I", scenarios, REPOSITORY, *CORE_SCENARIOS],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    found = json.loads(completed.stdout)

    assert Path(found["file"]).is_relative_to(environment), found["file"]
    assert found["version"] == found["distribution"] == _version()
    assert found["missing"] == []
    failed = {case: error for case, error in found["results"].items() if error is not None}
    assert failed == {}, "\n".join(failed.values())
    assert len(found["results"]) > 50  # every case of the modules above ran


def test_the_wheel_unpacked_runs_the_gates_core_scenarios_under_micropython(
    wheel: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)  # what PyScript does with a .whl in `packages`
    modules = [f"tests/refresh_gate/{name}.py" for name in CORE_SCENARIOS]

    results = run_under_micropython("--library", str(tmp_path), *modules)

    failed = {test: result["traceback"] for test, result in results.items() if not result["passed"]}
    assert failed == {}, "\n".join(f"{test}: {error}" for test, error in failed.items())
    assert {test.partition("::")[0] for test in results} == set(modules)
    assert len(results) > 50


@pytest.mark.parametrize("example", ["oauth", "oauth-pyodide"])
def test_each_example_takes_the_built_wheel_in_one_line_of_its_config(example: str) -> None:
    config = tomllib.loads((REPOSITORY / "examples" / example / "pyscript.toml").read_text())

    assert config["packages"] == [f"/dist/refresh_gate-{_version()}-py3-none-any.whl"]
    assert "files" not in config  # nothing of the library copied file by file
