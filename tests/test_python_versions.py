"""The declared minimum Python (pyproject's requires-python) is the one the code really needs.

``vermin`` reads every module and reports the oldest Python that has every syntax feature and
library call used.  The suite itself runs on each Python the machine offers
(``scripts/test-all-pythons``).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# vermin takes ``float(x).is_integer()`` (always there) for ``int.is_integer`` (3.12): it cannot
# see types. Our code calls it on floats only.
VERMIN = [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())",
          "--no-tips", "--processes", "1", "--exclude", "int.is_integer"]


def declared_minimum() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^requires-python\s*=\s*">=\s*(\d+\.\d+)"', text, flags=re.M)
    assert found, "pyproject.toml must declare requires-python = \">=X.Y\""
    return found.group(1)


def vermin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VERMIN, *args, "sheets_connector", "bench"], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)


def test_nothing_needs_a_newer_python_than_declared() -> None:
    minimum = declared_minimum()
    r = vermin(f"--target={minimum}-", "--violations")
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_declared_minimum_is_not_lower_than_the_code_needs() -> None:
    minimum = declared_minimum()
    r = vermin()
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Minimum required versions: {minimum}" in r.stdout, r.stdout


def test_this_interpreter_meets_the_declared_minimum() -> None:
    major, minor = map(int, declared_minimum().split("."))
    assert sys.version_info >= (major, minor)
