"""Puts pure-Python wheels beside the vendored Pyodide, for pages that list packages.

PyScript installs a Pyodide page's `packages` with micropip, which Pyodide loads from beside
itself by its lock file, and micropip installs a name the lock file lists (`requests`) from
there too, with its dependencies. Pyodide's npm package, which the Makefile vendors, ships
the interpreter without any of them. This takes each package at the version that lock file
names from PyPI, as a pure-Python wheel (`py3-none-any`: pip is told the platform is
`any`), and sets the lock file's hash for it to that wheel's: Pyodide's own copy is built
apart from PyPI's, so their bytes differ, and Pyodide refuses a package whose hash is not
the lock file's. Where the lock file names another file for the package (a wheel compiled
for WebAssembly, as charset-normalizer's has been in some Pyodide releases), its entry is
pointed at the pure one PyPI has; at Pyodide 314.0.8 every entry here is already pure.

The packages: micropip (every page with `packages`), and `requests` with what it depends
on, for pages that send `requests` through the gate (refresh_gate.mount_gate).

    python -m server_stub.vendor_wheels static/vendor/pyodide/<version>
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

LOCK_FILE = "pyodide-lock.json"
PACKAGES = ("micropip", "requests", "urllib3", "charset-normalizer", "idna", "certifi")


def vendor_wheels(folder: Path, packages: tuple[str, ...] = PACKAGES) -> list[Path]:
    """Download `packages` into `folder` and make its lock file name those wheels; their
    paths."""
    lock_path = folder / LOCK_FILE
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    wheels = [_vendor_wheel(folder, lock["packages"][name]) for name in packages]
    lock_path.write_text(json.dumps(lock, separators=(",", ":")), encoding="utf-8")
    return wheels


def _vendor_wheel(folder: Path, entry: dict) -> Path:
    """The pure wheel of the lock file's `entry` in `folder`, the entry set to name it."""
    wheel = folder / _pure_wheel_name(entry)
    if not wheel.exists():
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--only-binary=:all:", "--python-version", "3.13",
                "--platform", "any", "--dest", str(folder),
                f"{entry['name']}=={entry['version']}",
            ],
            check=True,
        )  # fmt: skip
    if not wheel.exists():
        raise SystemExit(f"pip did not leave {wheel.name} in {folder}")
    entry["file_name"] = wheel.name
    entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return wheel


def _pure_wheel_name(entry: dict) -> str:
    """The file name of the package's `py3-none-any` wheel at the lock file's version."""
    name = entry["name"].replace("-", "_").replace(".", "_")
    return f"{name}-{entry['version']}-py3-none-any.whl"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for path in vendor_wheels(Path(sys.argv[1])):
        print(path.name)
