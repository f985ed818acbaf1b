"""The sheet menu (apps_script/Code.gs) runs its Node tests against the real service.

``node --test apps_script/test/`` runs the real Code.gs in node:vm with fakes of the Apps
Script services, talking to the real Python service on 127.0.0.1.  Without Node this test
fails (it never skips): the menu is what the users click.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIN_NODE = 18  # global fetch, node:test


def test_the_apps_script_menu_passes_its_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to test apps_script/Code.gs but `node` is not on PATH: "
                    f"install Node {MIN_NODE} or newer (e.g. apt-get install nodejs), then run the tests again.")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    major = int(re.match(r"v(\d+)", version).group(1))  # type: ignore[union-attr]
    assert major >= MIN_NODE, f"Node {version} is too old for apps_script/test: install Node {MIN_NODE} or newer."
    done = subprocess.run([node, "--test", "apps_script/test/"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False, env={**os.environ, "PYTHON": sys.executable})
    report = done.stdout[-6000:] + "\n" + done.stderr[-3000:]
    assert done.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", done.stdout, re.MULTILINE)
    assert passed and failed, report
    assert int(failed.group(1)) == 0 and int(passed.group(1)) >= 12, report
