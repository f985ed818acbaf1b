"""The README opens with two commands; CI runs the second one verbatim."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.*?)\n```", text, flags=re.S)[:2]


def test_first_command_installs_and_runs_the_demo():
    first = readme_commands()[0]
    assert "pip install -e ." in first and first.rstrip().endswith("sheets-connector demo")


def test_ci_runs_the_readme_test_command_verbatim():
    second = readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second.strip() in ci.splitlines()
    assert "pytest" in second
