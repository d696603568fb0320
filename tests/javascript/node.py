"""Running one of this folder's Node scripts against the library's JavaScript half."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SOURCE = REPOSITORY / "refresh-gate" / "refresh_gate" / "browser_calls.js"


def run_script(name: str) -> dict:
    """What the script `name` (beside this file) printed for browser_calls.js, read as JSON;
    the test is skipped where Node.js is not installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    script = Path(__file__).with_name(name)
    completed = subprocess.run(
        [node, str(script), str(SOURCE)], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(completed.stdout)
