"""The JavaScript tests under tests/js, run with Node's own test runner.

They cover `static/segment-hubspot.js`, hubtrail's HubSpot destination plugin for Segment's
analytics-next: its `_hsq` payloads and how it loads hubtrail.js. Without node they are skipped on
a developer machine and fail under CI=true.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_TIMEOUT_S = 120


def test_the_javascript_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        message = "node is not on PATH, so tests/js cannot run"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, (
        f"node --test tests/js/ exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
