"""Puts micropip beside the vendored Pyodide, for pages that list packages in their config.

PyScript installs a Pyodide page's `packages` (the library's wheel, in the Pyodide example)
with micropip, which Pyodide loads from beside itself by its lock file. Pyodide's npm
package, which the Makefile vendors, ships the interpreter without it. This takes micropip
at the version that lock file names from PyPI (pure Python, `py3-none-any`) and sets the
lock file's hash for it to that wheel's: Pyodide's own copy is built apart from PyPI's, so
their bytes differ, and Pyodide refuses a package whose hash is not the lock file's.

    python -m server_stub.vendor_micropip static/vendor/pyodide/<version>
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

LOCK_FILE = "pyodide-lock.json"
PACKAGE = "micropip"


def vendor_micropip(folder: Path) -> Path:
    """Download micropip into `folder` and make its lock file name that wheel; its path."""
    lock_path = folder / LOCK_FILE
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    entry = lock["packages"][PACKAGE]
    wheel = folder / entry["file_name"]
    if not wheel.exists():
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--no-deps", "--only-binary=:all:", "--python-version", "3.13",
                "--dest", str(folder), f"{PACKAGE}=={entry['version']}",
            ],
            check=True,
        )  # fmt: skip
    if not wheel.exists():
        raise SystemExit(f"pip did not leave {wheel.name} in {folder}")
    entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock_path.write_text(json.dumps(lock, separators=(",", ":")), encoding="utf-8")
    return wheel


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(vendor_micropip(Path(sys.argv[1])).name)
