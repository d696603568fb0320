"""Outside the library, code uses only what `refresh_gate.__all__` names.

The demo, the examples, the bench and the server are the library's users: importing a name
that starts with "_" from it (or any of its private modules) would tie them to what may
change in any release. The library's own tests (tests/refresh_gate/) test its private parts
and are its inside, as is the library itself.
"""

import ast
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
INSIDE = ("refresh-gate", "tests/refresh_gate", ".venv", "node_modules", "static/vendor")
LIBRARY = "refresh_gate"


def private_uses(source: str) -> list[str]:
    """Each place `source` reaches a private name of the library, as "line: what"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != LIBRARY:
                continue
            names = [alias.name for alias in node.names]
            if any(_private(part) for part in parts[1:]):
                found.append(f"{node.lineno}: from {node.module} import {', '.join(names)}")
            found += [f"{node.lineno}: {node.module}.{n}" for n in names if _private(n)]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == LIBRARY and any(_private(part) for part in parts[1:]):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id == LIBRARY
        ):
            found.append(f"{node.lineno}: {LIBRARY}.{node.attr}")
    return found


def _private(name: str) -> bool:
    """A name with a leading underscore that is not a dunder (__version__, __file__, ...)."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _outside() -> list[Path]:
    return sorted(
        path
        for path in REPOSITORY.rglob("*.py")
        if not path.relative_to(REPOSITORY).as_posix().startswith(INSIDE)
    )


def test_no_module_outside_the_library_uses_a_private_name_of_it() -> None:
    uses = {
        path.relative_to(REPOSITORY).as_posix(): private_uses(path.read_text(encoding="utf-8"))
        for path in _outside()
    }

    assert {path: found for path, found in uses.items() if found} == {}
    assert "app/demo.py" in uses and "examples/oauth/main.py" in uses  # they were read


@pytest.mark.parametrize(
    "source",
    [
        "from refresh_gate._gate import RefreshGate\n",
        "from refresh_gate import RefreshGate, _STORE_POLL\n",
        "import refresh_gate._lanes\n",
        "import refresh_gate\nrefresh_gate._gate.RefreshGate\n",
    ],
)
def test_the_check_finds_each_way_of_reaching_a_private_name(source: str) -> None:
    assert private_uses(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from refresh_gate import RefreshGate, Request\n",
        "import refresh_gate\nrefresh_gate.__version__\n",
        "from other._gate import thing\n",
    ],
)
def test_the_check_lets_public_names_and_other_packages_be(source: str) -> None:
    assert private_uses(source) == []
