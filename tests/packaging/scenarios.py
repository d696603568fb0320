"""The gate's core scenarios, run by a Python that has the library installed from its wheel.

    python -I scenarios.py REPOSITORY [test_module ...]

Run by tests/packaging/test_wheel.py in a virtual environment of its own: the repository is
put on the path for its tests (tests/refresh_gate/, tests/portable.py) but not for the
library, which must come from the wheel. Prints one JSON object: where `refresh_gate` was
imported from, its version and its distribution's, the `__all__` names it lacks, and each
test case run with the error it raised, if any.
"""

import asyncio
import importlib
import importlib.metadata
import json
import sys
import traceback


def main(repository: str, modules: list[str]) -> dict:
    sys.path.append(repository)  # after site-packages: the tests, never a second library
    import refresh_gate
    from tests import portable

    results = {}
    for name in modules:
        module = importlib.import_module(f"tests.refresh_gate.{name}")
        for case, test, args in portable.scenarios(module):
            try:
                asyncio.run(portable.run(test, args))
                results[f"{name}::{case}"] = None
            except Exception:
                results[f"{name}::{case}"] = traceback.format_exc()
    return {
        "file": refresh_gate.__file__,
        "version": refresh_gate.__version__,
        "distribution": importlib.metadata.version("refresh-gate"),
        "missing": [name for name in refresh_gate.__all__ if not hasattr(refresh_gate, name)],
        "results": results,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:])))
